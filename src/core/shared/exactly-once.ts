import { createHash } from "node:crypto";
import type { V1Secret } from "@kubernetes/client-node";
import { ConflictError, InvalidArgumentError, isAlreadyExists, isConflict, isNotFound } from "../../common/errors.js";
import type { KubeCallOptions } from "../../kube/client.js";
import { list } from "../../kube/kinds.js";
import { createSecret, deleteSecret, readSecret, replaceSecret, secretKind } from "../../kube/secrets.js";
import type { Account } from "../accounts/account.js";
import { markOurs, selectors } from "./ownership.js";
import { sleep } from "../../common/sleep.js";

/**
 * Exactly-once mutations by `request_id`, across retries, concurrent
 * duplicates and kubedriver replicas. Each request id has one record in the
 * namespace the mutation changes (a Secret kubedriver owns, named after a hash
 * of the id), claimed by the API server's create so that only one caller
 * carries the mutation out; the others wait for its result. The record holds
 * a fingerprint of the request, so an id reused for a different request is
 * refused instead of answered with the other's result, and a lease, so that
 * work abandoned by a caller that died is resumed by the next retry.
 */
export interface OnceRequest<T> {
  account: Account;
  namespace: string;
  requestId: string;
  /** The RPC, e.g. "CreateServerGroup"; part of the fingerprint. */
  operation: string;
  /** What makes two requests the same one; compared by a hash of its canonical JSON. */
  request: unknown;
  /** Carries the mutation out; `resumed` when an earlier holder of the id may have done part of it. */
  run(attempt: { resumed: boolean; opts: KubeCallOptions }): Promise<T>;
  /** The little a retry needs to answer as the first call did. */
  encode(result: T): string;
  /** The first call's answer, rebuilt from what `encode` kept. */
  replay(encoded: string): Promise<T>;
}

/** Longer than any single mutation's Kubernetes calls take; the holder gives up by then. */
export const leaseMs = 30_000;
/** Records outlive any sensible retry window, then go (see `removeExpiredRecords`). */
const recordLifetimeMs = 24 * 60 * 60 * 1000;
const recordLabel = "kubedriver.io/request-record";
const recordAnnotation = "kubedriver.io/request";
/** Claim, wait and take over at most this often before giving up on a contended id. */
const maxRounds = 20;

interface Record {
  operation: string;
  fingerprint: string;
  state: "pending" | "done";
  /** Epoch ms until which the holder may still be working on it. */
  leaseUntil: number;
  result?: string;
}

/**
 * Every mutation's door: with a request id, carried out once (see `once`);
 * without one, simply run.
 */
export function exactlyOnce<T>(req: Omit<OnceRequest<T>, "requestId"> & { requestId?: string }, opts: KubeCallOptions = {}): Promise<T> {
  if (!req.requestId) return req.run({ resumed: false, opts });
  return once({ ...req, requestId: req.requestId }, opts);
}

async function once<T>(req: OnceRequest<T>, opts: KubeCallOptions): Promise<T> {
  const name = recordName(req.requestId);
  const fingerprint = fingerprintOf(req.operation, req.namespace, req.request);
  const kube = req.account.kube;
  for (let round = 0; round < maxRounds; round++) {
    const mine: Record = { operation: req.operation, fingerprint, state: "pending", leaseUntil: Date.now() + leaseMs };
    const claimed = await createSecret(kube, req.namespace, secretOf(name, mine), opts).catch((err: unknown) => {
      if (isAlreadyExists(err)) return undefined;
      throw err;
    });
    if (claimed) {
      sweepNowAndThen(req.account, req.namespace);
      return carryOut(req, claimed, mine, false, opts);
    }
    const found = await readRecord(req, name, opts);
    if (!found) continue;
    const [secret, record] = found;
    if (record.fingerprint !== fingerprint) throw reused(req, record);
    if (record.state === "done") return req.replay(record.result ?? "");
    if (record.leaseUntil > Date.now()) {
      await waitFor(req, name, record.leaseUntil, opts);
      continue;
    }
    // The holder's lease ran out: it died or gave up. Take over, unless another retry does first.
    secret.metadata!.annotations![recordAnnotation] = JSON.stringify(mine);
    const taken = await replaceSecret(kube, req.namespace, secret, opts).catch((err: unknown) => {
      if (isConflict(err) || isNotFound(err)) return undefined;
      throw err;
    });
    if (taken) return carryOut(req, taken, mine, true, opts);
  }
  throw new ConflictError(`request_id "${req.requestId}" is contended by too many concurrent calls in namespace "${req.namespace}" of account "${req.account.name}"; retry`, {
    reason: "REQUEST_IN_PROGRESS",
    metadata: { account: req.account.name, namespace: req.namespace },
  });
}

/** Runs the mutation as the record's holder, then records its result; a failure frees the id. */
async function carryOut<T>(req: OnceRequest<T>, stored: V1Secret, mine: Record, resumed: boolean, opts: KubeCallOptions): Promise<T> {
  // Give up when the lease does, so that whoever takes over never works beside us.
  const lease = AbortSignal.timeout(Math.max(mine.leaseUntil - Date.now(), 0));
  const signal = opts.signal ? AbortSignal.any([opts.signal, lease]) : lease;
  let result: T;
  try {
    result = await req.run({ resumed, opts: { ...opts, signal } });
  } catch (err) {
    // Nothing (or something `run` can resume from) was done: a retry starts afresh.
    const version = { timeoutMs: 5_000, resourceVersion: stored.metadata!.resourceVersion };
    await deleteSecret(req.account.kube, req.namespace, stored.metadata!.name!, version).catch(() => {});
    throw err;
  }
  const done: Record = { ...mine, state: "done", result: req.encode(result) };
  stored.metadata!.annotations![recordAnnotation] = JSON.stringify(done);
  // Unrecorded, a retry resumes after the lease and finds the work done; the answer stands either way.
  await replaceSecret(req.account.kube, req.namespace, stored, { timeoutMs: 5_000 }).catch(() => {});
  return result;
}

async function readRecord(req: OnceRequest<unknown>, name: string, opts: KubeCallOptions): Promise<[V1Secret, Record] | undefined> {
  const secret = await readSecret(req.account.kube, req.namespace, name, opts).catch((err: unknown) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
  if (!secret) return undefined;
  return [secret, parseRecord(secret)];
}

/**
 * Waits until the record changes state or its lease runs out, reading it
 * with a growing pause; the caller's deadline ends the wait.
 */
async function waitFor(req: OnceRequest<unknown>, name: string, leaseUntil: number, opts: KubeCallOptions): Promise<void> {
  for (let pause = 20; ; pause = Math.min(pause * 2, 500)) {
    const slept = await sleep(Math.min(pause, Math.max(leaseUntil - Date.now(), 0) + 5), opts.signal);
    if (!slept) {
      throw new ConflictError(`request_id "${req.requestId}" is still being carried out by another call in namespace "${req.namespace}" of account "${req.account.name}"; retry to get its result`, {
        reason: "REQUEST_IN_PROGRESS",
        metadata: { account: req.account.name, namespace: req.namespace },
      });
    }
    const found = await readRecord(req, name, opts);
    if (!found || found[1].state === "done" || found[1].leaseUntil !== leaseUntil || leaseUntil <= Date.now()) return;
  }
}

function reused(req: OnceRequest<unknown>, record: Record): InvalidArgumentError {
  const what = record.operation === req.operation ? `a different ${req.operation} request` : record.operation;
  const description = `was already used for ${what} in namespace "${req.namespace}"; a retry must repeat the request exactly, a new request needs a new request_id`;
  return InvalidArgumentError.of("request_id", description, {
    reason: "REQUEST_ID_REUSED",
    metadata: { account: req.account.name, namespace: req.namespace, field: "request_id" },
  });
}

function recordName(requestId: string): string {
  return `kubedriver-request-${createHash("sha256").update(requestId).digest("hex").slice(0, 32)}`;
}

/** A hash of the canonical JSON (keys sorted) of what the request asks for. */
export function fingerprintOf(operation: string, namespace: string, request: unknown): string {
  return createHash("sha256").update(canonical([operation, namespace, request])).digest("hex");
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object" && !(value instanceof Date)) {
    const entries = Object.entries(value as { [k: string]: unknown })
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

function secretOf(name: string, record: Record): V1Secret {
  return {
    metadata: {
      name,
      labels: markOurs({ [recordLabel]: "true" }),
      annotations: { [recordAnnotation]: JSON.stringify(record) },
    },
    type: "kubedriver.io/request-record",
  };
}

function parseRecord(secret: V1Secret): Record {
  try {
    const parsed = JSON.parse(secret.metadata?.annotations?.[recordAnnotation] ?? "") as Partial<Record>;
    return {
      operation: String(parsed.operation ?? ""),
      fingerprint: String(parsed.fingerprint ?? ""),
      state: parsed.state === "done" ? "done" : "pending",
      leaseUntil: Number(parsed.leaseUntil ?? 0),
      result: parsed.result,
    };
  } catch {
    // Unreadable (edited by hand): treat as abandoned, so the next caller takes it over.
    return { operation: "", fingerprint: "", state: "pending", leaseUntil: 0 };
  }
}

/** Records claimed by this process per account namespace, so that expired ones are swept now and then. */
const claimedSince = new Map<string, number>();
const sweepEvery = 100;

/** On the first claim in a namespace, and every 100th after, in the background: a sweep costs one LIST. */
function sweepNowAndThen(account: Account, namespace: string): void {
  const key = `${account.name}\u0000${namespace}`;
  const claimed = (claimedSince.get(key) ?? 0) + 1;
  claimedSince.set(key, claimed % sweepEvery);
  if (claimed !== 1) return;
  // The mutation's answer never waits for this, and a failed sweep is retried a hundred claims later.
  void removeExpiredRecords(account, namespace, { timeoutMs: 10_000 }).catch(() => {});
}

/** Best effort: a record left behind only costs a small object until the next sweep. */
async function removeExpiredRecords(account: Account, namespace: string, opts?: KubeCallOptions): Promise<number> {
  const records = await list(account.kube, secretKind, namespace, `${selectors.managed()},${recordLabel}=true`, opts);
  const expired = records.filter((s) => Date.now() - new Date(s.metadata?.creationTimestamp ?? Date.now()).getTime() > recordLifetimeMs);
  await Promise.all(expired.map((s) => deleteSecret(account.kube, namespace, s.metadata!.name!, opts).catch(() => {})));
  return expired.length;
}
