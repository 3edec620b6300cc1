import path from "node:path";
import type { FieldViolation } from "../common/field-path.js";
import { FileReadError, readBoundedText } from "../common/files.js";
import { parseYaml, parseYamlAsync, type YamlResult } from "../common/yaml.js";
import { ConfigReader } from "./reader.js";
import type { KubedriverConfig } from "./types.js";
import { validateConfig, type ValidateOptions } from "./validate.js";

/** A config that cannot be used; `problems` holds one entry per problem. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: readonly FieldViolation[],
  ) {
    super(`invalid config ${source}:\n` + formatProblems(problems).join("\n"));
    this.name = "ConfigError";
  }
}

export function formatProblem(p: FieldViolation): string {
  return p.field ? `${p.field}: ${p.description}` : p.description;
}

/** A file of 50,000 unknown keys has as many problems; the first ones say what is wrong. */
const maxShownProblems = 50;

/** One line per problem, the first `maxShownProblems` of them and how many more there are. */
export function formatProblems(problems: readonly FieldViolation[]): string[] {
  const shown = problems.slice(0, maxShownProblems).map(formatProblem);
  if (problems.length > maxShownProblems) shown.push(`(${problems.length - maxShownProblems} more problems)`);
  return shown;
}

/** The config file's text, within its bound; a ConfigError naming the file otherwise. */
function readConfigText(file: string): string {
  try {
    return readBoundedText(file, "config");
  } catch (err) {
    const problem = err instanceof FileReadError ? err.problem : "unreadable";
    throw new ConfigError(file, [{ field: "", description: `cannot read config file "${file}" (${problem})` }]);
  }
}

/** Reads, parses and validates the YAML account spec at `file`. */
export function loadConfigFile(file: string, opts: Partial<ValidateOptions> = {}): KubedriverConfig {
  const text = readConfigText(file);
  return parseConfig(text, { source: file, baseDir: path.dirname(path.resolve(file)), ...opts });
}

/**
 * `loadConfigFile` for a running process: the YAML is parsed in slices so
 * that calls keep being served. Also returns the text, so that a reload can
 * tell an unchanged file.
 */
export async function loadConfigFileAsync(file: string, opts: Partial<ValidateOptions> = {}): Promise<{ config: KubedriverConfig; text: string }> {
  const text = readConfigText(file);
  const parsed = await parseYamlAsync(text);
  return { config: validated(parsed, { source: file, baseDir: path.dirname(path.resolve(file)), ...opts }), text };
}

/** Parses and validates YAML text of the account spec. */
export function parseConfig(
  text: string,
  opts: Partial<ValidateOptions> & { source?: string } = {},
): KubedriverConfig {
  return validated(parseYaml(text), opts);
}

function validated(parsed: YamlResult, opts: Partial<ValidateOptions> & { source?: string }): KubedriverConfig {
  const source = opts.source ?? "<inline>";
  if (!parsed.ok) throw new ConfigError(source, parsed.problems.map((description) => ({ field: "", description })));
  const reader = new ConfigReader();
  const config = validateConfig(parsed.value, {
    baseDir: opts.baseDir ?? process.cwd(),
    readFile: opts.readFile ?? readBoundedText,
    homeDir: opts.homeDir,
    checkAccount: opts.checkAccount,
  }, reader);
  if (!config) throw new ConfigError(source, reader.errors.violations);
  return config;
}
