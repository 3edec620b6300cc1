import { createHash, timingSafeEqual } from "node:crypto";
import fs from "node:fs";
import { FieldPath } from "../../common/field-path.js";
import { FileReadError, readBoundedText } from "../../common/files.js";
import { parseYaml, parseYamlAsync, type YamlResult } from "../../common/yaml.js";
import type { Caller } from "./caller.js";

interface Entry {
  digest: Buffer;
  caller: Caller;
}

/** A tokens file that cannot be used, with every problem found in it; none quotes the file. */
export class TokensFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(problems.map((p) => `tokens file "${file}": ${p}`).join("\n"));
    this.name = "TokensFileError";
  }
}

export type ReloadResult = { tokens: number } | { problems: readonly string[] };

/**
 * Bearer tokens from a YAML file (`- {token, name, groups}`), compared in
 * constant time and reloaded when the file changes, without a restart. A file
 * that stops parsing keeps the last good set (and says so), so a half-written
 * edit never locks everybody out. A file others may read or write is refused:
 * whoever can read it can call as anyone in it.
 */
export class TokenStore {
  private entries: Entry[];
  private reloading?: Promise<void>;
  private changedWhileReloading = false;
  private readonly listener = () => void this.reload();

  constructor(
    private readonly file: string,
    private readonly onReload: (result: ReloadResult) => void = () => {},
  ) {
    const loaded = readTokens(file);
    if ("problems" in loaded) throw new TokensFileError(file, loaded.problems);
    this.entries = loaded.entries;
    fs.watchFile(file, { interval: 1000 }, this.listener);
  }

  /** The caller a token belongs to, or undefined. */
  lookup(token: string): Caller | undefined {
    const digest = sha256(token);
    let found: Caller | undefined;
    // Every entry is compared, so timing says nothing about which one matched.
    for (const e of this.entries) if (timingSafeEqual(digest, e.digest)) found = e.caller;
    return found;
  }

  /**
   * Re-reads the file, parsing it in slices so that calls keep being served;
   * a change during a reload is read once that reload ends. Never rejects.
   */
  reload(): Promise<void> {
    if (this.reloading) {
      this.changedWhileReloading = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      do {
        this.changedWhileReloading = false;
        const loaded = await readTokensAsync(this.file);
        if ("problems" in loaded) this.onReload({ problems: loaded.problems });
        else {
          this.entries = loaded.entries;
          this.onReload({ tokens: loaded.entries.length });
        }
      } while (this.changedWhileReloading);
    })().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  close(): void {
    fs.unwatchFile(this.file, this.listener);
  }
}

type Loaded = { entries: Entry[] } | { problems: string[] };

function readTokens(file: string): Loaded {
  const text = readText(file);
  return typeof text === "string" ? entriesOf(parseYaml(text)) : text;
}

async function readTokensAsync(file: string): Promise<Loaded> {
  try {
    const text = readText(file);
    return typeof text === "string" ? entriesOf(await parseYamlAsync(text)) : text;
  } catch {
    // A reload runs from a file watcher: nothing may escape it as an unhandled rejection.
    return { problems: ["could not be read"] };
  }
}

function readText(file: string): string | { problems: string[] } {
  try {
    return readBoundedText(file, "tokens", { privateToOthers: true });
  } catch (err) {
    if (err instanceof FileReadError) return { problems: [err.problem] };
    throw err;
  }
}

/** Every problem of every entry, by its path (`[3].token`); tokens are never quoted. */
function entriesOf(parsed: YamlResult): Loaded {
  if (!parsed.ok) return { problems: parsed.problems };
  if (!Array.isArray(parsed.value)) return { problems: ["must be a YAML list of {token, name, groups}"] };
  const problems: string[] = [];
  const entries: Entry[] = [];
  const seen = new Map<string, number>();
  parsed.value.forEach((item: unknown, i) => {
    const at = FieldPath.root().index(i);
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
      problems.push(`${at}: must be a mapping of {token, name, groups}`);
      return;
    }
    const e = item as { token?: unknown; name?: unknown; groups?: unknown };
    const before = problems.length;
    let digest: Buffer | undefined;
    if (typeof e.token !== "string" || e.token.length < 16) problems.push(`${at.child("token")}: must be a string of at least 16 characters`);
    else {
      digest = sha256(e.token);
      const first = seen.get(digest.toString("hex"));
      if (first !== undefined) problems.push(`${at.child("token")}: the same token as ${FieldPath.root().index(first)}`);
      else seen.set(digest.toString("hex"), i);
    }
    if (typeof e.name !== "string" || !e.name) problems.push(`${at.child("name")}: is required (a non-empty string)`);
    const groups = e.groups === undefined ? [] : e.groups;
    if (!Array.isArray(groups) || !groups.every((g) => typeof g === "string")) problems.push(`${at.child("groups")}: must be a list of strings`);
    if (problems.length === before && digest) entries.push({ digest, caller: { name: e.name as string, groups: groups as string[] } });
  });
  return problems.length > 0 ? { problems: capped(problems) } : { entries };
}

/** A file of 5,000 bad entries has 15,000 problems; the first ones say what is wrong. */
function capped(problems: string[], max = 20): string[] {
  return problems.length <= max ? problems : [...problems.slice(0, max), `${problems.length - max} more problems`];
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}
