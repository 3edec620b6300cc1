import { createHash, timingSafeEqual } from "node:crypto";
import fs from "node:fs";
import { parse } from "yaml";
import type { Caller } from "./caller.js";

interface Entry {
  digest: Buffer;
  caller: Caller;
}

/**
 * Bearer tokens from a YAML file (`- {token, name, groups}`), compared in
 * constant time and reloaded when the file changes, without a restart. A file
 * that stops parsing keeps the last good set (and says so), so a half-written
 * edit never locks everybody out.
 */
export class TokenStore {
  private entries: Entry[] = [];
  private readonly listener = () => this.reload();

  constructor(
    private readonly file: string,
    private readonly onReload: (result: { tokens: number } | { error: string }) => void = () => {},
  ) {
    this.entries = load(file);
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

  reload(): void {
    try {
      this.entries = load(this.file);
      this.onReload({ tokens: this.entries.length });
    } catch (err) {
      this.onReload({ error: err instanceof Error ? err.message : String(err) });
    }
  }

  close(): void {
    fs.unwatchFile(this.file, this.listener);
  }
}

function load(file: string): Entry[] {
  const doc: unknown = parse(fs.readFileSync(file, "utf8"));
  if (!Array.isArray(doc)) throw new Error(`tokens file "${file}" must be a YAML list of {token, name, groups}`);
  return doc.map((item, i) => {
    const e = item as { token?: unknown; name?: unknown; groups?: unknown };
    if (typeof e.token !== "string" || e.token.length < 16) throw new Error(`tokens file "${file}" entry ${i}: token must be a string of at least 16 characters`);
    if (typeof e.name !== "string" || !e.name) throw new Error(`tokens file "${file}" entry ${i}: name is required`);
    const groups = e.groups === undefined ? [] : e.groups;
    if (!Array.isArray(groups) || !groups.every((g) => typeof g === "string")) throw new Error(`tokens file "${file}" entry ${i}: groups must be a list of strings`);
    return { digest: sha256(e.token), caller: { name: e.name, groups } };
  });
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}
