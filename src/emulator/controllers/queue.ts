/**
 * A work queue like client-go's: a key added several times before it is
 * processed is processed once, on the next turn of the event loop, so
 * controllers react promptly without working on every intermediate event.
 */
export class WorkQueue {
  private readonly pending = new Set<string>();
  private scheduled = false;
  private stopped = false;

  constructor(private readonly process: (key: string) => void) {}

  add(key: string): void {
    if (this.stopped) return;
    this.pending.add(key);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const keys = [...this.pending];
      this.pending.clear();
      for (const k of keys) if (!this.stopped) this.process(k);
    });
  }

  stop(): void {
    this.stopped = true;
    this.pending.clear();
  }
}

export const splitKey = (key: string): [string, string] => {
  const i = key.indexOf("/");
  return [key.slice(0, i), key.slice(i + 1)];
};
