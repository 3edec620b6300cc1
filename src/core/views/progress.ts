import { sleep } from "../../common/sleep.js";
import type { KubeCallOptions } from "../../kube/client.js";

/**
 * What a watch-fed view's readers wait on: woken on every change of the
 * view's versions, sync or connection, and the read-your-writes wait built on
 * that, one for every kind of view.
 */
export class Progress {
  private readonly waiting = new Set<() => void>();

  wake(): void {
    for (const w of [...this.waiting]) w();
  }

  /** Resolves on the next wake, or after `ms`, or when `signal` aborts. */
  next(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const abort = new AbortController();
      const done = () => {
        this.waiting.delete(done);
        abort.abort();
        resolve();
      };
      this.waiting.add(done);
      void sleep(ms, signal ? AbortSignal.any([signal, abort.signal]) : abort.signal).then(done);
    });
  }

  /**
   * Whether the view is `ready` and has `seen` what it must (this process's
   * writes), waiting for that within the caller's deadline and at most
   * `maxMs`; false means: read from the API server.
   */
  async until(ready: () => boolean, seen: () => boolean, maxMs: number, opts?: KubeCallOptions): Promise<boolean> {
    const deadline = Date.now() + maxMs;
    for (;;) {
      if (!ready()) return false;
      if (seen()) return true;
      const left = deadline - Date.now();
      if (left <= 0 || opts?.signal?.aborted) return false;
      await this.next(left, opts?.signal);
    }
  }
}
