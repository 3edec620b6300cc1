import { execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FileReadError, fileSizeLimits, readBoundedFile, readBoundedText } from "../../src/common/files.js";
import { tempDir } from "../support/kubeconfig.js";

const tmp = tempDir();
afterAll(tmp.cleanup);

function problemOf(read: () => unknown): string {
  try {
    read();
  } catch (err) {
    expect(err).toBeInstanceOf(FileReadError);
    return (err as FileReadError).problem;
  }
  throw new Error("the read succeeded");
}

describe("reading a file kubedriver was pointed at", () => {
  it("reads a regular file up to its bound", () => {
    const file = path.join(tmp.dir, "exact");
    fs.writeFileSync(file, "p".repeat(fileSizeLimits.password));
    expect(readBoundedText(file, "password")).toHaveLength(fileSizeLimits.password);
  });

  it("refuses a FIFO at once instead of waiting for a writer", () => {
    const fifo = path.join(tmp.dir, "fifo");
    execFileSync("mkfifo", [fifo]);
    const started = Date.now();
    expect(problemOf(() => readBoundedFile(fifo, "tokens"))).toBe("not a regular file: a FIFO");
    expect(Date.now() - started).toBeLessThan(500);
  });

  it("refuses devices, directories and sockets", async () => {
    expect(problemOf(() => readBoundedFile("/dev/zero", "password"))).toBe("not a regular file: a character device");
    expect(problemOf(() => readBoundedFile(tmp.dir, "config"))).toBe("not a regular file: a directory");
    const socket = path.join(tmp.dir, "sock");
    const server = net.createServer().listen(socket);
    await new Promise((resolve) => server.once("listening", resolve));
    try {
      expect(problemOf(() => readBoundedFile(socket, "kubeconfig"))).toBe("not a regular file: a socket");
    } finally {
      server.close();
    }
  });

  it("refuses a file past its bound without reading it, whatever its kind", () => {
    const sparse = path.join(tmp.dir, "sparse");
    execFileSync("truncate", ["-s", "1G", sparse]);
    const started = Date.now();
    expect(problemOf(() => readBoundedFile(sparse, "kubeconfig"))).toBe("larger than 1 MiB");
    expect(Date.now() - started).toBeLessThan(500);
    const big = path.join(tmp.dir, "big-password");
    fs.writeFileSync(big, "p".repeat(fileSizeLimits.password + 1));
    expect(problemOf(() => readBoundedFile(big, "password"))).toBe("larger than 64 KiB");
    expect(problemOf(() => readBoundedFile(big, "tokens"))).toBe("larger than 16 KiB");
  });

  it("names a missing file by its errno code and the path, never by content", () => {
    const err = (() => {
      try {
        readBoundedFile(path.join(tmp.dir, "missing"), "tls");
      } catch (e) {
        return e as FileReadError;
      }
    })();
    expect(err?.message).toBe(`cannot read "${path.join(tmp.dir, "missing")}" (ENOENT)`);
  });

  it("refuses a file others may read or write when asked to", () => {
    const file = path.join(tmp.dir, "tokens.yaml");
    fs.writeFileSync(file, "[]\n", { mode: 0o644 });
    fs.chmodSync(file, 0o644);
    expect(problemOf(() => readBoundedFile(file, "tokens", { privateToOthers: true }))).toBe("readable or writable by others (mode 0644)");
    fs.chmodSync(file, 0o602);
    expect(problemOf(() => readBoundedFile(file, "tokens", { privateToOthers: true }))).toBe("readable or writable by others (mode 0602)");
    fs.chmodSync(file, 0o640);
    expect(readBoundedText(file, "tokens", { privateToOthers: true })).toBe("[]\n");
  });
});
