import { map } from "rxjs";
import type { AccountRegistry } from "../core/accounts/registry.js";
import type { Caller } from "../core/auth/caller.js";
import { DeadlineExceededError } from "../common/errors.js";
import type { NamespaceMonitor } from "../core/health/monitor.js";
import { checkNamespaceFilter } from "../core/shared/scope.js";
import { filterRound, type NamespaceProbe as CoreProbe, type ProbeRound as CoreRound, type RoundFilter } from "../core/health/round.js";
import {
  HealthService,
  type HealthServer,
  type NamespaceProbe,
  type ProbeRound,
  WatchNamespacesResponse,
} from "../../gen/kubedriver/v1/health.js";
import { serverStream, unary, type CallDeps } from "./calls.js";

/**
 * Every subscriber with the same filter gets the same response object for a
 * round, so a round is converted and encoded once, not once per stream.
 */
const encoded = new WeakMap<WatchNamespacesResponse, Buffer>();

/** The Health service, with WatchNamespaces responses encoded once per shared message. */
export const NamespaceHealthService = {
  ...HealthService,
  watchNamespaces: {
    ...HealthService.watchNamespaces,
    responseSerialize: (message: WatchNamespacesResponse): Buffer => {
      let bytes = encoded.get(message);
      if (!bytes) {
        bytes = Buffer.from(WatchNamespacesResponse.encode(message).finish());
        encoded.set(message, bytes);
      }
      return bytes;
    },
  },
} as const;

export function namespaceHealthHandlers(registry: AccountRegistry, monitor: NamespaceMonitor, deps: CallDeps): HealthServer {
  const selection = (req: RoundFilter, caller: Caller | undefined): RoundFilter => {
    const named = req.accounts.map((account) => registry.access(account, caller, "READ"));
    checkNamespaceFilter(named.length > 0 ? { named } : { readable: registry.usableBy(caller, "READ") }, req.namespaces);
    if (req.accounts.length > 0) return { accounts: req.accounts, namespaces: req.namespaces };
    const readable = registry.usableBy(caller, "READ").map((a) => a.name);
    if (readable.length === registry.list().length) return { accounts: [], namespaces: req.namespaces };
    // An empty account filter means every account; "" matches none (account names are never empty).
    return { accounts: readable.length > 0 ? readable : [""], namespaces: req.namespaces };
  };
  const responses = new WeakMap<CoreRound, Map<string, WatchNamespacesResponse>>();
  const responseFor = (round: CoreRound, filter: RoundFilter): WatchNamespacesResponse => {
    const key = JSON.stringify([filter.accounts, filter.namespaces]);
    let byFilter = responses.get(round);
    if (!byFilter) responses.set(round, (byFilter = new Map()));
    let response = byFilter.get(key);
    if (!response) byFilter.set(key, (response = { round: toProtoRound(filterRound(round, filter)), skippedRounds: 0 }));
    return response;
  };

  return {
    checkNamespaces: unary("CheckNamespaces", deps, async (req, ctx) => {
      const filter = selection(req, ctx.caller);
      const round = req.fresh ? abortable(monitor.freshRound(), ctx.signal) : monitor.latestRound(ctx.signal);
      return { round: toProtoRound(filterRound(await untilDeadline(round, ctx.signal), filter)) };
    }),
    watchNamespaces: serverStream(
      "WatchNamespaces",
      deps,
      (req, ctx) => {
        selection(req, ctx.caller);
        // Chosen again each round: a reload adds and removes accounts under a stream that stays open.
        // An account the caller named and a reload removed ends the stream, saying so.
        return monitor.watch().pipe(
          map((round) => responseFor(round, selection(req, ctx.caller))),
        );
      },
      // A slow reader gets the newest round next and learns how many it missed.
      { conflate: (older, newer) => ({ round: newer.round, skippedRounds: older.skippedRounds + 1 + newer.skippedRounds }) },
    ),
  };
}

/** Waits for a shared round without cancelling it for the other callers when this one goes away. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** A round the caller stopped waiting for is its deadline (or cancel), not a server error. */
async function untilDeadline<T>(round: Promise<T>, signal: AbortSignal): Promise<T> {
  try {
    return await round;
  } catch (err) {
    if (signal.aborted) throw new DeadlineExceededError("no namespace probe round completed before the call's deadline", { cause: err });
    throw err;
  }
}

function toProtoRound(round: CoreRound): ProbeRound {
  return { number: round.number, startTime: round.startedAt, endTime: round.endedAt, probes: round.probes.map(toProtoProbe) };
}

function toProtoProbe(p: CoreProbe): NamespaceProbe {
  const seconds = Math.floor(p.latencyMs / 1000);
  return {
    account: p.account,
    namespace: p.namespace,
    reachable: p.reachable,
    latency: { seconds, nanos: Math.floor((p.latencyMs - seconds * 1000) * 1e6) },
    error: p.error ? { reason: p.error.reason, detail: p.error.detail } : undefined,
    checkTime: p.checkedAt,
    round: p.round,
  };
}
