import http from "node:http";
import https from "node:https";
import { Observable, ResponseContext, type HttpLibrary, type RequestContext } from "@kubernetes/client-node";

/**
 * What kubedriver reads of an API server's answer at most. A broken or
 * hostile server (or a proxy in front of one) can answer without end: these
 * keep memory bounded whatever it sends, and what goes past them is never
 * buffered — the connection is cut as soon as the bound is passed.
 */
export interface ReadLimits {
  /** One answer to a request (a page of a list, an object, a log read). */
  maxResponseBytes: number;
  /** One line of a watch: one event, i.e. one object. */
  maxWatchLineBytes: number;
}

/**
 * kube-apiserver refuses a request body past 3 MiB, and etcd stores objects
 * of at most 1.5 MiB: a watch event (one object in JSON, escaped) fits in 4
 * MiB. A list is read 500 objects a page; 64 MiB holds 500 objects of 128 KiB.
 */
export const defaultReadLimits: ReadLimits = { maxResponseBytes: 64 * 1024 * 1024, maxWatchLineBytes: 4 * 1024 * 1024 };

/** An answer, or a watch line, longer than kubedriver reads (see ReadLimits); `toCoreError` makes it UNAVAILABLE. */
export class ResponseTooLargeError extends Error {
  constructor(
    readonly what: "answer" | "watch event",
    readonly limit: number,
  ) {
    super(`${what} longer than ${limit} bytes`);
    this.name = "ResponseTooLargeError";
  }
}

/**
 * client-node's HTTP library, on node:http(s) instead of node-fetch, reading
 * at most `maxBytes` of each answer: past that (or as soon as a
 * Content-Length says so) the request is destroyed and the call fails with
 * ResponseTooLargeError; or, with `truncate` (text answers, such as logs,
 * whose first bytes are worth having), answers with the first `maxBytes`.
 * Everything else is as client-node sends it: its URL, method, headers,
 * body, agent (TLS identity, keep-alive) and signal.
 */
export class BoundedHttpLibrary implements HttpLibrary {
  constructor(
    private readonly maxBytes: number,
    private readonly truncate = false,
  ) {}

  send(request: RequestContext): Observable<ResponseContext> {
    return new Observable(this.sendBounded(request));
  }

  private sendBounded(request: RequestContext): Promise<ResponseContext> {
    const url = new URL(request.getUrl());
    const raw = request.getBody();
    const body = raw === undefined || raw === null ? undefined : typeof raw === "string" ? raw : String(raw);
    // Node frames a DELETE's body only when told its length (it sends no chunked encoding for DELETE).
    const headers = { ...request.getHeaders(), ...(body === undefined ? {} : { "content-length": String(Buffer.byteLength(body)) }) };
    const { maxBytes, truncate } = this;
    return new Promise((resolve, reject) => {
      const req = (url.protocol === "https:" ? https : http).request(url, {
        method: request.getHttpMethod().toString(),
        headers,
        agent: request.getAgent(),
        signal: request.getSignal(),
      });
      req.on("error", reject);
      req.on("response", (res) => {
        const declared = Number(res.headers["content-length"]);
        if (declared > maxBytes && !truncate) return fail(new ResponseTooLargeError("answer", maxBytes));
        const chunks: Buffer[] = [];
        let read = 0;
        const answer = () => {
          const bytes = Buffer.concat(chunks);
          const headers = Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(", ") : (v ?? "")]));
          resolve(new ResponseContext(res.statusCode ?? 0, headers, { text: () => Promise.resolve(bytes.toString("utf8")), binary: () => Promise.resolve(bytes) }));
        };
        res.on("data", (chunk: Buffer) => {
          if (read + chunk.length <= maxBytes) {
            read += chunk.length;
            return void chunks.push(chunk);
          }
          if (!truncate) return fail(new ResponseTooLargeError("answer", maxBytes));
          chunks.push(chunk.subarray(0, maxBytes - read));
          read = maxBytes;
          answer();
          req.destroy();
        });
        res.on("error", reject);
        res.on("end", answer);
        function fail(err: Error) {
          reject(err);
          req.destroy();
        }
      });
      req.end(body);
    });
  }
}

/**
 * Splits a stream of bytes into lines of at most `maxBytes`, handing each
 * whole line on; a line past the bound is not kept: `tooLong` is called and
 * nothing more is read from that stream.
 */
export class LineReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private stopped = false;

  constructor(
    private readonly maxBytes: number,
    private readonly line: (text: string) => void,
    private readonly tooLong: () => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    while (!this.stopped) {
      const end = chunk.indexOf(0x0a, start);
      if (end === -1) break;
      this.emit(chunk.subarray(start, end));
      start = end + 1;
    }
    if (this.stopped || start >= chunk.length) return;
    const rest = chunk.subarray(start);
    if (this.pendingBytes + rest.length > this.maxBytes) return this.stop();
    this.pending.push(rest);
    this.pendingBytes += rest.length;
  }

  private emit(tail: Buffer): void {
    if (this.pendingBytes + tail.length > this.maxBytes) return this.stop();
    const whole = this.pending.length === 0 ? tail : Buffer.concat([...this.pending, tail]);
    this.pending = [];
    this.pendingBytes = 0;
    if (whole.length > 0) this.line(whole.toString("utf8"));
  }

  private stop(): void {
    this.stopped = true;
    this.pending = [];
    this.pendingBytes = 0;
    this.tooLong();
  }
}
