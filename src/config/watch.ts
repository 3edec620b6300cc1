import fs from "node:fs";

export interface FileWatcherOptions {
  /** How often each file is stat()ed; 1 s by default. */
  pollIntervalMs?: number;
}

/**
 * Calls `onChange` when any of a set of files changes. Files are polled with
 * fs.watchFile, which stats the path (following symlinks) rather than
 * watching an inode: a file replaced by rename, or a Kubernetes ConfigMap
 * volume's atomic `..data` symlink swap, is seen as a change of the path,
 * where an inotify watch would stay on the old, unlinked file. A file that
 * does not exist yet is watched until it appears.
 */
export class FileWatcher {
  private readonly watched = new Map<string, (curr: fs.Stats, prev: fs.Stats) => void>();

  constructor(
    private readonly onChange: (file: string) => void,
    private readonly options: FileWatcherOptions = {},
  ) {}

  /** Watches exactly `files` from now on. */
  set(files: Iterable<string>): void {
    const wanted = new Set(files);
    for (const [file, listener] of this.watched) {
      if (wanted.has(file)) continue;
      fs.unwatchFile(file, listener);
      this.watched.delete(file);
    }
    for (const file of wanted) {
      if (this.watched.has(file)) continue;
      const listener = (curr: fs.Stats, prev: fs.Stats) => {
        if (curr.mtimeMs !== prev.mtimeMs || curr.ino !== prev.ino || curr.size !== prev.size || curr.dev !== prev.dev) this.onChange(file);
      };
      // Not persistent: a watch must not keep a stopping process alive.
      fs.watchFile(file, { interval: this.options.pollIntervalMs ?? 1_000, persistent: false }, listener);
      this.watched.set(file, listener);
    }
  }

  get files(): string[] {
    return [...this.watched.keys()];
  }

  close(): void {
    this.set([]);
  }
}
