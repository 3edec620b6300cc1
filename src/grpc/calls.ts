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
import { CancelledError, DeadlineExceededError, isCancelled, ResourceExhaustedError } from "../common/errors.js";
import { Limiter } from "../common/limiter.js";
import type { Caller } from "../core/auth/caller.js";
import type { LogFields, Logger } from "../observability/logger.js";
import { observeRpc } from "../observability/rpc.js";
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
  /** The caller's address without the port (see `peerHost`). */
  peer: string;
  /** The call's deadline, epoch milliseconds; Infinity without one. */
  deadline: number;
}

/** grpc-js does not export the type of a call's transport security details. */
type AuthContext = ReturnType<ServerUnaryCall<unknown, unknown>["getAuthContext"]>;

/** The parts of a call that say who is calling. */
type CallCredentials = { metadata: Metadata; getAuthContext(): AuthContext; getPeer(): string };

/** Establishes who calls; throws (or rejects with) UnauthenticatedError when nobody can be established. */
export type Authenticate = (call: CallCredentials) => Caller | Promise<Caller>;

/** How much work each caller may put in flight at once (see the README's configuration reference). */
export interface CallLimits {
  /** Calls of one caller served at once: a unary call for its whole run, a stream while it opens. */
  maxConcurrentCalls: number;
  /** Calls of one caller waiting for a turn (each within its deadline); past this, RESOURCE_EXHAUSTED at once. */
  maxQueuedCalls: number;
  /** The google.rpc.RetryInfo delay of that refusal. */
  retryDelayMs: number;
}

export const defaultCallLimits: CallLimits = { maxConcurrentCalls: 16, maxQueuedCalls: 256, retryDelayMs: 1_000 };

/**
 * Keeps the calls in flight, so that shutdown can let unary calls finish and
 * end streams with a clear status instead of cutting them off; and admits
 * them, so that overload is refused early instead of absorbed.
 */
export class CallTracker {
  private readonly unaryCalls = new Set<Promise<void>>();
  private readonly streamEnders = new Set<() => void>();
  private readonly limits: CallLimits;
  /** One bound per caller (its name, or else its address), so that one caller's flood queues only its own calls. */
  private readonly admissions = new Map<string, Limiter>();

  constructor(limits: Partial<CallLimits> = {}) {
    this.limits = { ...defaultCallLimits, ...limits };
  }

  /**
   * A turn to serve the call, waiting within its deadline behind the same
   * caller's calls admitted before it; throws RESOURCE_EXHAUSTED when that
   * caller's queue is full, and CANCELLED or DEADLINE_EXCEEDED when the call
   * ends while it waits.
   */
  async admit(context: CallContext): Promise<() => void> {
    const key = context.caller ? `caller ${context.caller.name}` : `peer ${context.peer}`;
    let admission = this.admissions.get(key);
    if (!admission) this.admissions.set(key, (admission = new Limiter(this.limits.maxConcurrentCalls, this.limits.maxQueuedCalls)));
    const forget = () => {
      if (admission.inFlight === 0 && admission.queued === 0 && this.admissions.get(key) === admission) this.admissions.delete(key);
    };
    const turn = await admission.acquire(context.signal);
    if ("release" in turn) {
      return () => {
        turn.release();
        forget();
      };
    }
    forget();
    const load = `${admission.inFlight} calls in flight, ${admission.queued} waiting`;
    if (turn.refused === "full") {
      throw new ResourceExhaustedError(`${context.method}: kubedriver is at capacity (${load}) for this caller; retry later`, this.limits.retryDelayMs, {
        reason: "OVERLOADED",
      });
    }
    if (isCancelled(turn.reason)) throw turn.reason;
    throw new DeadlineExceededError(`${context.method}: the deadline passed while the call waited for a turn (${load})`, {
      cause: turn.reason,
    });
  }

  get activeStreams(): number {
    return this.streamEnders.size;
  }

  get activeUnaryCalls(): number {
    return this.unaryCalls.size;
  }

  /** Calls admitted and not yet answered (streams: not yet opened), of every caller. */
  get admittedCalls(): number {
    return [...this.admissions.values()].reduce((n, a) => n + a.inFlight, 0);
  }

  /** Calls waiting for a turn, of every caller. */
  get waitingCalls(): number {
    return [...this.admissions.values()].reduce((n, a) => n + a.queued, 0);
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
    const observed = observeRpc(call.getPath(), "unary", call.metadata);
    observed.received();
    const ctx = contextOf(method, call, deps);
    const answered = (code: Code, message?: string) => {
      observed.end(code);
      logCall(ctx.context.log, code, started, message, observed.subject());
    };
    const done = observed.run(async () => {
      let release: (() => void) | undefined;
      try {
        let request: Req;
        ({ request, release } = await admitted(ctx, call, deps, observed));
        const response = await handle(request, ctx.context);
        ctx.throwIfEnded();
        callback(null, response);
        observed.responded(response);
        observed.sent();
        answered(Code.OK);
      } catch (err) {
        if (ctx.cancelledByCaller()) {
          answered(Code.CANCELLED);
          return;
        }
        const status = toServiceError(err, ctx.context.log);
        callback(status);
        answered(status.code, status.details);
      } finally {
        release?.();
        ctx.release();
      }
    });
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
  /** Writes a message as these parts, in order, so that none is too large for a caller to receive; merged messages are split after merging. */
  split?: (message: Res) => readonly Res[];
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
    const observed = observeRpc(call.getPath(), "server_stream", call.metadata);
    observed.received();
    const ctx = contextOf(method, call, deps);
    // Read at each use: once the caller is known, its name is bound to the log.
    const log = () => ctx.context.log;
    let finished = false;
    let subscription: { unsubscribe(): void } | undefined;
    const { conflate, split = (message: Res) => [message] } = options;
    let writing = false;
    let pending: { message: Res } | undefined;
    /** Writes `message`'s parts; `written` runs once grpc-js has taken the last. */
    const write = (message: Res, written?: () => void) => {
      const parts = split(message);
      parts.forEach((part, i) => {
        observed.sent();
        call.write(part, i === parts.length - 1 ? written : undefined);
      });
    };
    const send = (message: Res) => {
      if (finished) return;
      if (!conflate) {
        write(message);
        return;
      }
      if (writing) {
        pending = { message: pending ? conflate(pending.message, message) : message };
        return;
      }
      writing = true;
      write(message, () => {
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
      const answered = (code: Code, message?: string) => {
        observed.end(code);
        logCall(log(), code, started, message, observed.subject());
      };
      if (ctx.cancelledByCaller()) {
        answered(Code.CANCELLED);
        return;
      }
      if (call.cancelled) {
        // grpc-js has already sent DEADLINE_EXCEEDED.
        answered(Code.DEADLINE_EXCEEDED);
        return;
      }
      if (status) call.emit("error", status);
      else call.end();
      answered(status?.code ?? Code.OK, status?.details);
    };
    const untrack = deps.tracker.trackStream(() =>
      finish(plainStatus(Code.UNAVAILABLE, "kubedriver is shutting down; reconnect to another replica or retry")),
    );
    call.on("cancelled", () => finish());

    void observed.run(async () => {
      let release: (() => void) | undefined;
      try {
        let request: Req;
        ({ request, release } = await admitted(ctx, call, deps, observed));
        const messages = await open(request, ctx.context);
        if (finished) return;
        subscription = messages.subscribe({
          next: send,
          error: (err: unknown) => finish(toServiceError(err, log())),
          complete: () => {
            // Ending the stream must not drop the merged message still waiting its turn.
            if (pending && !finished) write(pending.message);
            finish();
          },
        });
        if (finished) subscription.unsubscribe();
      } catch (err) {
        finish(toServiceError(err, log()));
      } finally {
        // Open streams are bounded per connection (grpc.max_concurrent_streams); only opening takes a turn.
        release?.();
      }
    });
  };
}

interface CallScope {
  context: CallContext;
  release: () => void;
  /** The caller cancelled (before the deadline and before we answered). */
  cancelledByCaller: () => boolean;
  /** Throws CANCELLED or DEADLINE_EXCEEDED if the call has already ended. */
  throwIfEnded: () => void;
}

function contextOf<Req, Res>(
  method: string,
  call: ServerUnaryCall<Req, Res> | ServerWritableStream<Req, Res>,
  deps: CallDeps,
): CallScope {
  const deadline = call.getDeadline();
  // grpc-js gives an absolute deadline (a Date or epoch milliseconds, Infinity for none);
  // AbortSignal.timeout wants whole milliseconds from now.
  const deadlineAt = deadline instanceof Date ? deadline.getTime() : Number(deadline);
  const ms = deadlineAt - Date.now();
  // grpc-js reports its own DEADLINE_EXCEEDED as a cancel too; the clock tells them apart.
  const ended = () =>
    Date.now() >= deadlineAt - deadlineSlackMs
      ? new DeadlineExceededError(`${method}: the call's deadline passed`)
      : new CancelledError(`${method}: cancelled by the caller`);
  const abort = new AbortController();
  const onCancel = () => abort.abort(ended());
  call.on("cancelled", onCancel);
  const signals = [abort.signal];
  if (Number.isFinite(ms)) signals.push(AbortSignal.timeout(Math.max(Math.floor(ms), 0)));
  const log = deps.log.child({ method, peer: call.getPeer() });
  if (call.cancelled) onCancel();
  return {
    context: { method, signal: AbortSignal.any(signals), metadata: call.metadata, log, peer: peerHost(call.getPeer()), deadline: deadlineAt },
    release: () => call.removeListener("cancelled", onCancel),
    cancelledByCaller: () => abort.signal.aborted && isCancelled(abort.signal.reason),
    throwIfEnded: () => {
      if (call.cancelled && !abort.signal.aborted) onCancel();
      if (abort.signal.aborted) throw abort.signal.reason;
    },
  };
}

/**
 * The address grpc-js reports for a peer, without the port: a client gets a
 * new port with every connection, so the port would let it escape its bounds.
 */
export function peerHost(peer: string): string {
  return peer.replace(/:\d+$/, "");
}

/** Timers and clocks disagree by a millisecond or so; a cancel this close to the deadline is the deadline. */
const deadlineSlackMs = 5;

/**
 * What both adapters do before the handler: nothing at all for a call that
 * already ended (a reset burst must cost nothing more), then the caller, the
 * well-formed request, and the caller's turn; `release` gives the turn back.
 */
async function admitted<Req>(
  ctx: CallScope,
  call: CallCredentials & { request: Req },
  deps: CallDeps,
  observed: ReturnType<typeof observeRpc>,
): Promise<{ request: Req; release: () => void }> {
  ctx.throwIfEnded();
  await identify(ctx.context, call, deps);
  const request = wellFormed(call.request);
  observed.describe(request);
  return { request, release: await deps.tracker.admit(ctx.context) };
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

/** One line per call; the method and peer are already bound to `log`, `subject` says what the call was about. */
function logCall(log: Logger, code: Code, started: number, message: string | undefined, subject: LogFields): void {
  const fields = { ...subject, code: Code[code], durationMs: Math.round((performance.now() - started) * 100) / 100 };
  log.info("rpc", message === undefined ? fields : { ...fields, error: message });
}
