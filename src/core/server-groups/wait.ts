import { DeadlineExceededError, FailedPreconditionError, UnavailableError } from "../../common/errors.js";
import type { AccountRegistry } from "../accounts/registry.js";
import type { LiveViews } from "./live-views.js";
import { serverGroupNotFound } from "./ownership.js";
import { managedNamespace } from "./scope.js";
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
 * the view is synced. Past `timeoutMs`: WaitTimedOutError with the last
 * state seen.
 */
export async function waitForServerGroup(
  registry: AccountRegistry,
  views: LiveViews,
  ref: ServerGroupRef,
  condition: WaitCondition,
  opts: { upPercent?: number; timeoutMs: number; signal: AbortSignal },
): Promise<ServerGroup | undefined> {
  managedNamespace(registry, ref.account, ref.namespace);
  const view = views.view(ref.account, ref.namespace);
  if (!view) throw new FailedPreconditionError(`namespace "${ref.namespace}" of account "${ref.account}" has no live view`);
  const giveUp = AbortSignal.any([opts.signal, AbortSignal.timeout(Math.max(opts.timeoutMs, 0))]);
  const timedOut = (last: ServerGroup | undefined) =>
    new WaitTimedOutError(
      `server group "${ref.name}" in namespace "${ref.namespace}" of account "${ref.account}" was not ${describe(condition, opts.upPercent)} within ${opts.timeoutMs} ms`,
      last,
    );
  // Read-your-writes first: a wait right after this replica's create must find the group.
  while (!(await view.caughtUp({ signal: giveUp }))) {
    if (giveUp.aborted) throw timedOut(undefined);
    await view.nextProgress(1_000, giveUp);
  }
  const now = view.get(ref.name);
  if (holds(condition, now, opts.upPercent)) return now;
  if (!now && condition !== "destroyed") throw serverGroupNotFound(ref);
  return new Promise((resolve, reject) => {
    let last = now;
    let done = false;
    let subscription: { unsubscribe(): void } | undefined;
    const finish = (outcome: () => void) => {
      if (done) return;
      done = true;
      subscription?.unsubscribe();
      giveUp.removeEventListener("abort", onAbort);
      outcome();
    };
    const onAbort = () => finish(() => reject(timedOut(last)));
    subscription = view.changes.subscribe({
      next: (change) => {
        if (change.group.name !== ref.name) return;
        last = change.type === "DELETED" ? undefined : change.group;
        if (holds(condition, last, opts.upPercent)) finish(() => resolve(last));
      },
      complete: () =>
        finish(() =>
          reject(
            new UnavailableError(`the view of namespace "${ref.namespace}" of account "${ref.account}" was closed (the configuration changed); wait again`, {
              reason: "VIEW_CLOSED",
            }),
          ),
        ),
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
