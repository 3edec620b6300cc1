import fs from "node:fs";
import path from "node:path";
import { parseDocument } from "yaml";
import type { FieldViolation } from "../common/field-path.js";
import { ConfigReader } from "./reader.js";
import type { KubedriverConfig } from "./types.js";
import { validateConfig, type ValidateOptions } from "./validate.js";

/** A config that cannot be used; `problems` holds one entry per problem. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: readonly FieldViolation[],
  ) {
    super(`invalid config ${source}:\n` + problems.map(formatProblem).join("\n"));
    this.name = "ConfigError";
  }
}

export function formatProblem(p: FieldViolation): string {
  return p.field ? `${p.field}: ${p.description}` : p.description;
}

/** Reads, parses and validates the YAML account spec at `file`. */
export function loadConfigFile(file: string, opts: Partial<ValidateOptions> = {}): KubedriverConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "unreadable";
    throw new ConfigError(file, [{ field: "", description: `cannot read config file "${file}" (${code})` }]);
  }
  return parseConfig(text, { source: file, baseDir: path.dirname(path.resolve(file)), ...opts });
}

/** Parses and validates YAML text of the account spec. */
export function parseConfig(
  text: string,
  opts: Partial<ValidateOptions> & { source?: string } = {},
): KubedriverConfig {
  const source = opts.source ?? "<inline>";
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => {
        const at = e.linePos?.[0];
        return { field: "", description: `YAML${at ? ` line ${at.line}, column ${at.col}` : ""}: ${firstLine(e.message)}` };
      }),
    );
  }
  const reader = new ConfigReader();
  const config = validateConfig(doc.toJS(), {
    baseDir: opts.baseDir ?? process.cwd(),
    readFile: opts.readFile ?? ((f) => fs.readFileSync(f, "utf8")),
    homeDir: opts.homeDir,
  }, reader);
  if (!config) throw new ConfigError(source, reader.errors.violations);
  return config;
}

/** The yaml library's message without the position (reported separately) and excerpt. */
function firstLine(message: string): string {
  return message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
}
