import { performance } from "node:perf_hooks";
import {
  status as Code,
  type handleServerStreamingCall,
  type handleUnaryCall,
  type Metadata,
  type ServerUnaryCall,
  type ServerWritableStream,
} from "@grpc/grpc-js";
import type { Observable } from "rxjs";
import type { Caller } from "../core/auth/caller.js";
import type { Logger } from "../observability/logger.js";
import { plainStatus, toServiceError } from "./status.js";
import { MalformedRequest } from "./strict-decoding.js";

/** What a handler knows about the call it serves, free of grpc-js types beyond metadata. */
export interface CallContext {
  method: string;
  /** Aborted when the caller cancels, its deadline passes, or the server stops. */
  signal: AbortSignal;
  metadata: Metadata;
  log: Logger;
  /** The authenticated caller; undefined when authentication is not configured. */
  caller?: Caller;
}

/** grpc-js does not export the type of a call's transport security details. */
type AuthContext = ReturnType<ServerUnaryCall<unknown, unknown>["getAuthContext"]>;

/** The parts of a call that say who is calling. */
type CallCredentials = { metadata: Metadata; getAuthContext(): AuthContext; getPeer(): string };

/** Establishes who calls; throws (or rejects with) UnauthenticatedError when nobody can be established. */
export type Authenticate = (call: CallCredentials) => Caller | Promise<Caller>;

/**
 * Keeps the calls in flight, so that shutdown can let unary calls finish and
 * end streams with a clear status instead of cutting them off.
 */
export class CallTracker {
  private readonly unaryCalls = new Set<Promise<void>>();
  private readonly streamEnders = new Set<() => void>();

  get activeStreams(): number {
    return this.streamEnders.size;
  }

  get activeUnaryCalls(): number {
    return this.unaryCalls.size;
  }

  trackUnary(done: Promise<void>): void {
    this.unaryCalls.add(done);
    void done.finally(() => this.unaryCalls.delete(done));
  }

  trackStream(end: () => void): () => void {
    this.streamEnders.add(end);
    return () => this.streamEnders.delete(end);
  }

  /** Ends every open stream (UNAVAILABLE: the server is shutting down). */
  endStreams(): void {
    for (const end of [...this.streamEnders]) end();
  }

  /** Resolves true when every unary call has finished, false when the grace period ran out first. */
  async drainUnary(graceMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), graceMs)));
    const drained = (async () => {
      while (this.unaryCalls.size > 0) await Promise.allSettled([...this.unaryCalls]);
      return true as const;
    })();
    try {
      return await Promise.race([drained, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

export interface CallDeps {
  log: Logger;
  tracker: CallTracker;
  /** Absent when neither tokens nor client certificates are configured. */
  authenticate?: Authenticate;
}

/**
 * Adapts an async handler to grpc-js: grpc-js does not await handlers, so the
 * adapter does, answers exactly once, maps errors through the one mapping
 * function, and logs one line per call.
 */
export function unary<Req, Res>(
  method: string,
  deps: CallDeps,
  handle: (request: Req, ctx: CallContext) => Promise<Res>,
): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const started = performance.now();
    const ctx = contextOf(method, call, deps);
    const done = (async () => {
      try {
        await identify(ctx.context, call, deps);
        const response = await handle(wellFormed(call.request), ctx.context);
        callback(null, response);
        logCall(ctx.context.log, Code.OK, started);
      } catch (err) {
        const status = toServiceError(err, ctx.context.log);
        callback(status);
        logCall(ctx.context.log, status.code, started, status.details);
      } finally {
        ctx.release();
      }
    })();
    deps.tracker.trackUnary(done);
  };
}

export interface StreamOptions<Res> {
  /**
   * Bounds what a slow reader can hold: with it, one message is in flight at
   * a time (until grpc-js has handed it to HTTP/2), and the messages produced
   * meanwhile are merged into one pending message with `conflate(older, newer)`.
   * Without it every message is written at once and grpc-js buffers them.
   */
  conflate?: (older: Res, newer: Res) => Res;
}

/**
 * Adapts a streaming handler: `open` validates the request and returns the
 * stream's messages (errors thrown here end the call before any message); the
 * subscription is released when the caller cancels, and server shutdown ends
 * the stream with UNAVAILABLE.
 */
export function serverStream<Req, Res>(
  method: string,
  deps: CallDeps,
  open: (request: Req, ctx: CallContext) => Promise<Observable<Res>> | Observable<Res>,
  options: StreamOptions<Res> = {},
): handleServerStreamingCall<Req, Res> {
  return (call: ServerWritableStream<Req, Res>) => {
    const started = performance.now();
    const ctx = contextOf(method, call, deps);
    // Read at each use: once the caller is known, its name is bound to the log.
    const log = () => ctx.context.log;
    let finished = false;
    let subscription: { unsubscribe(): void } | undefined;
    const { conflate } = options;
    let writing = false;
    let pending: { message: Res } | undefined;
    const send = (message: Res) => {
      if (finished) return;
      if (!conflate) {
        call.write(message);
        return;
      }
      if (writing) {
        pending = { message: pending ? conflate(pending.message, message) : message };
        return;
      }
      writing = true;
      call.write(message, () => {
        writing = false;
        const next = pending;
        pending = undefined;
        if (next) send(next.message);
      });
    };
    const finish = (status?: ReturnType<typeof toServiceError>) => {
      if (finished) return;
      finished = true;
      subscription?.unsubscribe();
      untrack();
      ctx.release();
      if (call.cancelled) {
        logCall(log(), Code.CANCELLED, started);
        return;
      }
      if (status) call.emit("error", status);
      else call.end();
      logCall(log(), status?.code ?? Code.OK, started, status?.details);
    };
    const untrack = deps.tracker.trackStream(() =>
      finish(plainStatus(Code.UNAVAILABLE, "kubedriver is shutting down; reconnect to another replica or retry")),
    );
    call.on("cancelled", () => finish());

    void (async () => {
      try {
        await identify(ctx.context, call, deps);
        const messages = await open(wellFormed(call.request), ctx.context);
        if (finished) return;
        subscription = messages.subscribe({
          next: send,
          error: (err: unknown) => finish(toServiceError(err, log())),
          complete: () => {
            // Ending the stream must not drop the merged message still waiting its turn.
            if (pending && !finished) call.write(pending.message);
            finish();
          },
        });
        if (finished) subscription.unsubscribe();
      } catch (err) {
        finish(toServiceError(err, log()));
      }
    })();
  };
}

function contextOf<Req, Res>(
  method: string,
  call: ServerUnaryCall<Req, Res> | ServerWritableStream<Req, Res>,
  deps: CallDeps,
): { context: CallContext; release: () => void } {
  const abort = new AbortController();
  const onCancel = () => abort.abort(new Error("call cancelled"));
  call.on("cancelled", onCancel);
  const deadline = call.getDeadline();
  // grpc-js gives an absolute deadline (a Date or epoch milliseconds, Infinity for none);
  // AbortSignal.timeout wants whole milliseconds from now.
  const ms = (deadline instanceof Date ? deadline.getTime() : Number(deadline)) - Date.now();
  const signals = [abort.signal];
  if (Number.isFinite(ms)) signals.push(AbortSignal.timeout(Math.max(Math.floor(ms), 0)));
  const log = deps.log.child({ method, peer: call.getPeer() });
  return {
    context: { method, signal: AbortSignal.any(signals), metadata: call.metadata, log },
    release: () => call.removeListener("cancelled", onCancel),
  };
}

/** The request, unless strict decoding refused it: then its INVALID_ARGUMENT. */
function wellFormed<Req>(request: Req): Req {
  if (request instanceof MalformedRequest) throw request.error;
  return request;
}

async function identify(context: CallContext, call: CallCredentials, deps: CallDeps): Promise<void> {
  if (!deps.authenticate) return;
  context.caller = await deps.authenticate(call);
  context.log = context.log.child({ caller: context.caller.name });
}

/** One line per call; the method and peer are already bound to `log`. */
function logCall(log: Logger, code: Code, started: number, message?: string): void {
  const fields = { code: Code[code], durationMs: Math.round((performance.now() - started) * 100) / 100 };
  log.info("rpc", message === undefined ? fields : { ...fields, error: message });
}
