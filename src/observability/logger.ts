export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

const levelOrder: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; defaults to stdout. Tests pass a collector. */
  write?: (line: string) => void;
  /**
   * Values that must never be printed (registry passwords, tokens). Every
   * line is scrubbed of them, as a last guard behind code that never logs
   * them in the first place.
   */
  secrets?: SecretRegistry;
}

/** The set of secret values known to the process, for scrubbing output. */
export class SecretRegistry {
  private readonly values = new Set<string>();

  add(value: string | undefined): void {
    // Very short values would scrub ordinary words out of every line.
    if (value && value.length >= 4) this.values.add(value);
  }

  scrub(text: string): string {
    let out = text;
    for (const v of this.values) {
      if (out.includes(v)) out = out.split(v).join("[REDACTED]");
    }
    return out;
  }
}

/** Structured JSON logs, one object per line. */
export class Logger {
  private readonly minLevel: number;
  private readonly write: (line: string) => void;

  constructor(
    private readonly options: LoggerOptions = {},
    private readonly bound: LogFields = {},
  ) {
    this.minLevel = levelOrder[options.level ?? "info"];
    this.write = options.write ?? ((line) => process.stdout.write(line + "\n"));
  }

  child(fields: LogFields): Logger {
    return new Logger(this.options, { ...this.bound, ...fields });
  }

  debug(msg: string, fields?: LogFields): void {
    this.log("debug", msg, fields);
  }

  info(msg: string, fields?: LogFields): void {
    this.log("info", msg, fields);
  }

  warn(msg: string, fields?: LogFields): void {
    this.log("warn", msg, fields);
  }

  error(msg: string, fields?: LogFields): void {
    this.log("error", msg, fields);
  }

  private log(level: LogLevel, msg: string, fields?: LogFields): void {
    if (levelOrder[level] < this.minLevel) return;
    const line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...this.bound, ...fields }, errorReplacer);
    this.write(this.options.secrets ? this.options.secrets.scrub(line) : line);
  }
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    return { name: value.name, message: value.message, cause: value.cause };
  }
  return value;
}

/** A logger that drops everything, for tests that do not look at logs. */
export const silentLogger = new Logger({ write: () => {} });
