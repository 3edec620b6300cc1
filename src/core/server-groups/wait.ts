import { DeadlineExceededError, UnavailableError } from "../../common/errors.js";
import type { Account } from "../accounts/account.js";
import { managedNamespace } from "../shared/scope.js";
import type { NamespaceView } from "./live-view.js";
import type { LiveViews } from "./live-views.js";
import { serverGroupNotFound } from "./ownership.js";
import type { ServerGroup, ServerGroupRef } from "./spec.js";

export type WaitCondition = "up" | "down" | "capacity" | "destroyed";

/** The condition did not hold in time; carries the group's last state for the caller. */
export class WaitTimedOutError extends DeadlineExceededError {
  constructor(
    message: string,
    readonly lastState: ServerGroup | undefined,
  ) {
    super(message, { reason: "CONDITION_NOT_MET" });
  }
}

/** Whether `condition` holds for the group (undefined: the group does not exist). */
export function holds(condition: WaitCondition, group: ServerGroup | undefined, upPercent = 100): boolean {
  if (condition === "destroyed") return group === undefined;
  if (!group) return false;
  const caughtUp = group.observedGeneration >= group.generation;
  switch (condition) {
    case "up":
      return caughtUp && group.instances.filter((i) => i.ready).length >= Math.ceil((group.spec.targetSize * upPercent) / 100);
    case "down":
      return !group.instances.some((i) => i.serving);
    case "capacity":
      return caughtUp && group.replicas === group.spec.targetSize && group.instances.length === group.spec.targetSize;
  }
}

/**
 * Resolves with the group as soon as `condition` holds, deciding on each
 * change of the namespace's view: no polling, and no Kubernetes request once
 * the view is synced. `account` resolves the account as the caller may use
 * it, now and again after a reload: a reload that replaces the view (a new
 * client) moves the wait to the new one; one that removes the account or
 * namespace (or the caller's permission) ends it with that answer. Past
 * `timeoutMs`: WaitTimedOutError with the last state seen.
 */
export async function waitForServerGroup(
  account: () => Account,
  views: LiveViews,
  ref: ServerGroupRef,
  condition: WaitCondition,
  opts: { upPercent?: number; timeoutMs: number; signal: AbortSignal },
): Promise<ServerGroup | undefined> {
  const giveUp = AbortSignal.any([opts.signal, AbortSignal.timeout(Math.max(opts.timeoutMs, 0))]);
  let last: ServerGroup | undefined;
  const timedOut = () =>
    new WaitTimedOutError(
      `server group "${ref.name}" in namespace "${ref.namespace}" of account "${ref.account}" was not ${describe(condition, opts.upPercent)} within ${opts.timeoutMs} ms`,
      last,
    );
  for (let first = true; ; first = false) {
    managedNamespace(account(), ref.namespace);
    const view = views.view(ref.account, ref.namespace);
    if (!view) {
      throw new UnavailableError(`the view of namespace "${ref.namespace}" of account "${ref.account}" was closed (kubedriver is shutting down); wait again`, {
        reason: "VIEW_CLOSED",
      });
    }
    // Read-your-writes first: a wait right after this replica's create must find the group.
    while (!(await view.caughtUp({ signal: giveUp }))) {
      if (giveUp.aborted) throw timedOut();
      if (view.closed) break;
      await view.nextProgress(1_000, giveUp);
    }
    if (view.closed) continue;
    const now = view.get(ref.name);
    if (holds(condition, now, opts.upPercent)) return now;
    if (!now && condition !== "destroyed" && first) throw serverGroupNotFound(ref);
    last = now;
    const outcome = await untilHolds(view, ref.name, condition, opts.upPercent, giveUp, (group) => (last = group));
    if (outcome === "closed") continue;
    if (outcome === "timeout") throw timedOut();
    return last;
  }
}

/** Follows one view's changes of the group until `condition` holds, the view closes, or `giveUp` aborts. */
function untilHolds(
  view: NamespaceView,
  name: string,
  condition: WaitCondition,
  upPercent: number | undefined,
  giveUp: AbortSignal,
  seen: (group: ServerGroup | undefined) => void,
): Promise<"held" | "closed" | "timeout"> {
  return new Promise((resolve) => {
    let done = false;
    let subscription: { unsubscribe(): void } | undefined;
    const finish = (outcome: "held" | "closed" | "timeout") => {
      if (done) return;
      done = true;
      subscription?.unsubscribe();
      giveUp.removeEventListener("abort", onAbort);
      resolve(outcome);
    };
    const onAbort = () => finish("timeout");
    subscription = view.changes.subscribe({
      next: (change) => {
        if (change.group.name !== name) return;
        const group = change.type === "DELETED" ? undefined : change.group;
        seen(group);
        if (holds(condition, group, upPercent)) finish("held");
      },
      complete: () => finish("closed"),
    });
    if (done) subscription.unsubscribe();
    else if (giveUp.aborted) onAbort();
    else giveUp.addEventListener("abort", onAbort, { once: true });
  });
}

function describe(condition: WaitCondition, upPercent = 100): string {
  switch (condition) {
    case "up":
      return upPercent === 100 ? "up" : `${upPercent}% up`;
    case "down":
      return "down";
    case "capacity":
      return "at its target capacity";
    case "destroyed":
      return "destroyed";
  }
}
