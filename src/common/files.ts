import fs from "node:fs";

/**
 * What a file kubedriver reads from its config is for; each kind has its own
 * size bound, so that a config pointing at /dev/zero, a FIFO or a huge file is
 * refused at once instead of filling memory, hanging, or being sent onwards
 * (a password file becomes a pull secret in every namespace).
 */
export type FileKind = "config" | "tokens" | "password" | "tls" | "kubeconfig";

/**
 * Bytes each kind may have, generous for real files (the YAML token bound in
 * yaml.ts caps parsing time). The tokens file is reloaded while calls are
 * served: composing a 64 KiB one held the event loop 30-56 ms, a 16 KiB one
 * 9-37 ms, against a budget of 50.
 */
export const fileSizeLimits: Readonly<Record<FileKind, number>> = {
  config: 512 * 1024,
  tokens: 16 * 1024,
  password: 64 * 1024,
  tls: 1024 * 1024,
  kubeconfig: 1024 * 1024,
};

/** A file that cannot be used; `problem` names why (an errno code or a fixed phrase), never its content. */
export class FileReadError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`cannot read "${file}" (${problem})`);
    this.name = "FileReadError";
  }
}

export interface ReadOptions {
  /** Refuse a file that others (the mode's o bits) may read or write. */
  privateToOthers?: boolean;
}

/**
 * The bytes of a regular file of at most `fileSizeLimits[kind]` bytes. The file
 * is opened non-blocking (a FIFO without a writer would otherwise block the
 * open forever) and checked on the opened descriptor, so what is checked is
 * what is read; at most bound+1 bytes are read because a file can grow between
 * the check and the read.
 */
export function readBoundedFile(file: string, kind: FileKind, opts: ReadOptions = {}): Buffer {
  const limit = fileSizeLimits[kind];
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (err) {
    throw new FileReadError(file, errnoCode(err) === "ENXIO" ? unopenable(file) : errnoCode(err));
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw new FileReadError(file, `not a regular file: ${fileType(stat)}`);
    if (stat.size > limit) throw new FileReadError(file, `larger than ${formatBytes(limit)}`);
    if (opts.privateToOthers && (stat.mode & 0o006) !== 0) {
      throw new FileReadError(file, `readable or writable by others (mode ${(stat.mode & 0o777).toString(8).padStart(4, "0")})`);
    }
    const buffer = Buffer.alloc(limit + 1);
    let length = 0;
    for (;;) {
      const n = fs.readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > limit) throw new FileReadError(file, `larger than ${formatBytes(limit)}`);
    }
    return buffer.subarray(0, length);
  } catch (err) {
    if (err instanceof FileReadError) throw err;
    throw new FileReadError(file, errnoCode(err));
  } finally {
    fs.closeSync(fd);
  }
}

/** `readBoundedFile` decoded as UTF-8. */
export function readBoundedText(file: string, kind: FileKind, opts: ReadOptions = {}): string {
  return readBoundedFile(file, kind, opts).toString("utf8");
}

/** "64 KiB", "1 MiB": bounds as the README states them. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

function errnoCode(err: unknown): string {
  return (err as NodeJS.ErrnoException)?.code ?? "unreadable";
}

/** A socket cannot be opened at all; say what it is rather than ENXIO. */
function unopenable(file: string): string {
  try {
    return `not a regular file: ${fileType(fs.statSync(file))}`;
  } catch {
    return "ENXIO";
  }
}

function fileType(stat: fs.Stats): string {
  if (stat.isDirectory()) return "a directory";
  if (stat.isFIFO()) return "a FIFO";
  if (stat.isCharacterDevice()) return "a character device";
  if (stat.isBlockDevice()) return "a block device";
  if (stat.isSocket()) return "a socket";
  return "not a file";
}
