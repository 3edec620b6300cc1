import type { FieldViolation } from "../../common/field-path.js";
import { ConfigError, formatProblems, loadConfigFileAsync } from "../../config/load.js";
import type { KubedriverConfig } from "../../config/types.js";
import { FileWatcher } from "../../config/watch.js";
import { recordConfigReload, type ConfigReloadOutcome } from "../../observability/metrics.js";
import type { Logger } from "../../observability/logger.js";
import type { Account } from "./account.js";
import { type AccountChanges, isEmptyChange } from "./changes.js";
import type { AccountRegistry } from "./registry.js";
import { kubeconfigProblems } from "./resolve.js";

/** The configuration in force and how the last attempt to reload it went. */
export interface ConfigStatus {
  /** Configurations applied since start: 1 is the one the process started with; a reload that changes nothing keeps it. */
  generation: number;
  /** When the configuration in force was applied. */
  loadedAt: Date;
  /** The config file. */
  source: string;
  /** When a reload was last attempted; undefined before the first. */
  lastAttemptAt?: Date;
  /** Why the last attempt was refused; undefined when it succeeded. */
  lastError?: { at: Date; message: string; problems: readonly FieldViolation[] };
}

export interface ConfigReloaderOptions {
  /** The config file, watched and re-read. */
  file: string;
  /** The configuration the process started with. */
  initial: KubedriverConfig;
  registry: AccountRegistry;
  /** Resolves a new configuration's accounts, keeping the running objects of unchanged ones. */
  resolve: (config: KubedriverConfig, previous: (name: string) => Account | undefined) => Account[];
  /** Settings other than accounts, applied (or said to be kept) once the accounts are in force. */
  applySettings: (next: KubedriverConfig, previous: KubedriverConfig) => void;
  log: Logger;
  /** How often watched files are polled; 1 s by default. */
  pollIntervalMs?: number;
}

/** Names logged per kind of change; a reload of thousands says how many more. */
const maxNamesLogged = 20;

/**
 * Keeps the running configuration in step with its file: the config file,
 * every kubeconfig and token file its accounts use, and every registry
 * password file are watched, and any change (or SIGHUP) reloads the whole
 * configuration. A valid one is applied as a difference through
 * `AccountRegistry.apply`; a broken one changes nothing and its problems are
 * logged one per line, as at start-up. One reload runs at a time; changes
 * meanwhile are read by one more reload when it ends.
 */
export class ConfigReloader {
  private config: KubedriverConfig;
  private generation = 1;
  private loadedAt = new Date();
  private lastAttemptAt?: Date;
  private lastError?: ConfigStatus["lastError"];
  private reloading?: Promise<ConfigReloadOutcome>;
  private again?: string;
  private readonly watcher: FileWatcher;

  constructor(private readonly options: ConfigReloaderOptions) {
    this.config = options.initial;
    this.watcher = new FileWatcher((file) => void this.reload(`file changed: ${file}`), { pollIntervalMs: options.pollIntervalMs });
  }

  /** Starts watching the files. */
  start(): void {
    this.watcher.set(this.watchedFiles());
  }

  close(): void {
    this.watcher.close();
  }

  /** The configuration in force. */
  get current(): KubedriverConfig {
    return this.config;
  }

  status(): ConfigStatus {
    return {
      generation: this.generation,
      loadedAt: this.loadedAt,
      source: this.options.file,
      lastAttemptAt: this.lastAttemptAt,
      lastError: this.lastError,
    };
  }

  /** Re-reads and applies the configuration; never rejects. */
  reload(trigger: string): Promise<ConfigReloadOutcome> {
    if (this.reloading) {
      this.again = trigger;
      return this.reloading;
    }
    const run = async (): Promise<ConfigReloadOutcome> => {
      let outcome = await this.attempt(trigger);
      while (this.again !== undefined) {
        const next = this.again;
        this.again = undefined;
        outcome = await this.attempt(next);
      }
      return outcome;
    };
    this.reloading = run().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  private async attempt(trigger: string): Promise<ConfigReloadOutcome> {
    const { log, file, registry } = this.options;
    const started = performance.now();
    this.lastAttemptAt = new Date();
    let outcome: ConfigReloadOutcome;
    try {
      const { config } = await loadConfigFileAsync(file, { checkAccount: kubeconfigProblems });
      const accounts = this.options.resolve(config, (name) => (registry.has(name) ? registry.get(name) : undefined));
      const previous = this.config;
      const changes = registry.apply(accounts);
      this.config = config;
      this.options.applySettings(config, previous);
      this.lastError = undefined;
      const settingsChanged = JSON.stringify(settingsOf(config)) !== JSON.stringify(settingsOf(previous));
      outcome = isEmptyChange(changes) && !settingsChanged ? "unchanged" : "applied";
      if (outcome === "applied") {
        this.generation++;
        this.loadedAt = new Date();
      }
      log.info(outcome === "applied" ? "configuration reloaded" : "configuration reloaded; nothing changed", {
        config: file,
        trigger,
        generation: this.generation,
        durationMs: Math.round(performance.now() - started),
        ...summary(changes),
      });
    } catch (err) {
      outcome = "failed";
      const problems = err instanceof ConfigError ? err.problems : [{ field: "", description: "the configuration could not be applied; see the previous log line" }];
      if (!(err instanceof ConfigError)) log.error("configuration reload failed unexpectedly", { config: file, trigger, err });
      this.lastError = { at: this.lastAttemptAt, message: `invalid config ${file}: the running configuration stays in force`, problems };
      for (const problem of formatProblems(problems)) {
        log.error("configuration not reloaded; the running configuration stays in force", { config: file, trigger, problem });
      }
    }
    recordConfigReload(outcome);
    // Accounts added or changed may name other kubeconfigs; a broken file may still be fixed, so it stays watched.
    this.watcher.set(this.watchedFiles());
    return outcome;
  }

  private watchedFiles(): string[] {
    const files = new Set([this.options.file]);
    for (const account of this.options.registry.list()) for (const f of account.files) files.add(f);
    for (const r of this.config.dockerRegistry.accounts) if (r.passwordFile) files.add(r.passwordFile);
    return [...files];
  }
}

/** Everything but the accounts: what `applySettings` handles. */
function settingsOf(config: KubedriverConfig) {
  const { accounts: _k, ...kubernetes } = config.kubernetes;
  return { server: config.server, kubernetes };
}

function summary(changes: AccountChanges) {
  const names = (accounts: { name: string }[]) => {
    const shown = accounts.slice(0, maxNamesLogged).map((a) => a.name);
    return accounts.length > maxNamesLogged ? [...shown, `(${accounts.length - maxNamesLogged} more)`] : shown;
  };
  return {
    added: names(changes.added),
    removed: names(changes.removed),
    changed: names(changes.changed.map((c) => c.after)),
    unchanged: changes.unchanged,
  };
}
