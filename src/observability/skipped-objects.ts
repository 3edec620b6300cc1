import type { Logger } from "./logger.js";
import { recordSkippedObject } from "./metrics.js";

/**
 * Objects read from an API server that kubedriver cannot use (a malformed
 * or hand-edited field) are left out of every read instead of failing it;
 * each is counted, and said once in the log (per object and reason, up to a
 * bound, so that one broken object seen on every relist does not flood it).
 */
let log: Logger | undefined;
const said = new Set<string>();
const maxSaid = 10_000;

/** Where the first sighting of each skipped object is logged, until the returned function is called. */
export function logSkippedObjectsTo(logger: Logger): () => void {
  log = logger;
  return () => {
    if (log === logger) log = undefined;
  };
}

export function skippedObject(what: { account: string; kind: string; namespace?: string; name?: string; reason: string; detail: string }): void {
  recordSkippedObject(what.account, what.kind, what.reason);
  const key = JSON.stringify([what.account, what.kind, what.namespace, what.name, what.reason]);
  if (!log || said.has(key)) return;
  if (said.size >= maxSaid) said.clear();
  said.add(key);
  log.warn(`left out an object kubedriver cannot use: ${what.detail}`, { account: what.account, kind: what.kind, namespace: what.namespace, name: what.name, reason: what.reason });
}
