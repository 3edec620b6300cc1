import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FileWatcher } from "../../src/config/watch.js";
import { eventually } from "../support/cluster.js";
import { tempDir } from "../support/kubeconfig.js";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function watched(file: string) {
  const seen: string[] = [];
  const watcher = new FileWatcher((f) => seen.push(f), { pollIntervalMs: 10 });
  watcher.set([file]);
  cleanups.push(() => watcher.close());
  return seen;
}

describe("FileWatcher", () => {
  it("sees a ConfigMap volume's atomic ..data symlink swap", async () => {
    // The layout kubelet writes: config.yaml -> ..data/config.yaml, ..data -> ..<timestamp>/
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const version = (name: string, text: string) => {
      fs.mkdirSync(path.join(dir, name));
      fs.writeFileSync(path.join(dir, name, "config.yaml"), text);
    };
    version("..2026_01_01_00_00_00.1", "a: 1\n");
    fs.symlinkSync("..2026_01_01_00_00_00.1", path.join(dir, "..data"));
    fs.symlinkSync("..data/config.yaml", path.join(dir, "config.yaml"));
    const file = path.join(dir, "config.yaml");
    const seen = watched(file);
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual([]);

    // Same size, and the same mtime second: only the inode tells the versions apart.
    version("..2026_01_01_00_01_00.2", "a: 2\n");
    fs.symlinkSync("..2026_01_01_00_01_00.2", path.join(dir, "..data_tmp"));
    fs.renameSync(path.join(dir, "..data_tmp"), path.join(dir, "..data"));
    fs.rmSync(path.join(dir, "..2026_01_01_00_00_00.1"), { recursive: true });

    await eventually(() => expect(seen).toEqual([file]));
    expect(fs.readFileSync(file, "utf8")).toBe("a: 2\n");
  });

  it("sees a file that appears later, and stops watching files no longer wanted", async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const file = path.join(dir, "later.yaml");
    const seen: string[] = [];
    const watcher = new FileWatcher((f) => seen.push(f), { pollIntervalMs: 10 });
    cleanups.push(() => watcher.close());
    watcher.set([file]);
    // Once the first poll has found it absent: a file that is there at the first poll did not appear later.
    await new Promise((r) => setTimeout(r, 50));
    fs.writeFileSync(file, "x");
    await eventually(() => expect(seen).toEqual([file]));
    watcher.set([]);
    expect(watcher.files).toEqual([]);
    fs.writeFileSync(file, "xy");
    await new Promise((r) => setTimeout(r, 60));
    expect(seen).toEqual([file]);
  });
});
