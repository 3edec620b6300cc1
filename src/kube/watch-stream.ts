import http from "node:http";
import https from "node:https";
import { ApiException } from "@kubernetes/client-node";
import { LineReader, ResponseTooLargeError } from "./bounded-http.js";

/** One watch request, as the account's credentials and connections make it. */
export interface WatchRequest {
  url: URL;
  headers: Record<string, string>;
  agent?: http.Agent;
  /** Ends the watch (and its connection) at once, even before the API server has answered. */
  signal: AbortSignal;
  maxLineBytes: number;
  /** The API server answered 200: events follow. */
  opened(): void;
  /** Each event, in order. */
  event(type: string, object: unknown): void;
  /** A line that is not JSON: skipped, reported by the caller. */
  unreadable(): void;
}

/**
 * A Kubernetes watch (a GET with `watch=true` answering one JSON event per
 * line), read with the bound of ReadLimits on every line: client-node's
 * Watch reads lines through readline, which keeps a line without end
 * forever, so a broken or hostile API server could take all of memory.
 * Resolves when the API server ends the watch (or `signal` aborts); rejects
 * with an ApiException for an answer other than 200 (its Status as the
 * body), ResponseTooLargeError for a line past the bound, or the network's
 * error. The connection is destroyed whenever it rejects.
 */
export function streamWatch(w: WatchRequest): Promise<void> {
  return new Promise((resolve, reject) => {
    if (w.signal.aborted) return resolve();
    const req = (w.url.protocol === "https:" ? https : http).request(w.url, { method: "GET", headers: w.headers, agent: w.agent });
    let settled = false;
    const settle = (err?: unknown) => {
      if (settled) return;
      settled = true;
      w.signal.removeEventListener("abort", abort);
      if (err === undefined) resolve();
      else {
        req.destroy();
        reject(err);
      }
    };
    const abort = () => {
      req.destroy();
      settle();
    };
    w.signal.addEventListener("abort", abort, { once: true });
    // A half-open connection is found by TCP keep-alive as well as by the reflector's silence bound.
    req.on("socket", (socket) => socket.setKeepAlive(true, 30_000));
    req.on("error", (err) => settle(w.signal.aborted ? undefined : err));
    req.on("response", (res) => {
      if (res.statusCode !== 200) return refused(res);
      w.opened();
      const lines = new LineReader(
        w.maxLineBytes,
        (line) => {
          let parsed: { type?: unknown; object?: unknown };
          try {
            parsed = JSON.parse(line) as { type?: unknown; object?: unknown };
          } catch {
            return w.unreadable();
          }
          if (typeof parsed?.type !== "string") return w.unreadable();
          w.event(parsed.type, parsed.object);
        },
        () => settle(new ResponseTooLargeError("watch event", w.maxLineBytes)),
      );
      res.on("data", (chunk: Buffer) => lines.push(chunk));
      res.on("end", () => settle());
      res.on("close", () => settle());
      res.on("error", (err) => settle(w.signal.aborted ? undefined : err));
    });
    req.end();

    /** An answer other than 200: its Status (the first 64 KiB of it) for the error. */
    function refused(res: http.IncomingMessage) {
      const chunks: Buffer[] = [];
      let read = 0;
      res.on("data", (chunk: Buffer) => {
        if (read < 64 * 1024) chunks.push(chunk);
        read += chunk.length;
        if (read >= 64 * 1024) res.destroy();
      });
      const done = () => settle(new ApiException(res.statusCode ?? 0, `watch answered HTTP ${res.statusCode}`, Buffer.concat(chunks).toString("utf8"), {}));
      res.on("end", done);
      res.on("close", done);
      res.on("error", done);
    }
  });
}
