import type { V1Namespace } from "@kubernetes/client-node";
import { createNamespace, readNamespace } from "../../kube/namespaces.js";
import { createSecret, readSecret, replaceSecret } from "../../kube/secrets.js";
import { FailedPreconditionError, findKubedriverError, isAlreadyExists, isConflict, isNotFound } from "../../common/errors.js";
import type { Account } from "./account.js";
import type { ProvisioningScope } from "./changes.js";
import { isOurs } from "../shared/ownership.js";
import { pullSecretFor, sameContent } from "./pull-secret.js";
import type { NamespaceOutcome, ProvisioningAction, ProvisioningFailure, ProvisioningResult, PullSecretOutcome } from "./provisioning-result.js";

/**
 * Makes an account's namespaces and image pull secrets what the spec says:
 * missing namespaces are created, existing ones left alone; each registry's
 * pull secret is created, updated when its content changed, and left alone
 * when it is the same or not ours. Namespaces are provisioned independently,
 * so one that fails (forbidden, terminating, quota) does not stop the others.
 * A partial `scope` (an account changed by a reload) provisions only the
 * namespaces and pull secrets it names; the result lists only those.
 */
export async function provisionAccount(account: Account, scope: ProvisioningScope = "all"): Promise<ProvisioningResult> {
  const startTime = new Date();
  const namespaces = await Promise.all(
    account.namespaces.flatMap((ns) => {
      if (scope === "all" || scope.namespaces.has(ns)) return [provisionNamespace(account, ns)];
      const only = scope.pullSecrets.get(ns);
      return only ? [provisionPullSecrets(account, ns, only)] : [];
    }),
  );
  const failures = namespaces.flatMap((n) => [n.error, ...n.pullSecrets.map((s) => s.error)]).filter((e) => e !== undefined);
  return {
    startTime,
    endTime: new Date(),
    namespaces,
    succeeded: failures.length === 0,
    unreachable: namespaces.length > 0 && namespaces.every((n) => isUnreachable(n.error)),
  };
}

async function provisionNamespace(account: Account, namespace: string): Promise<NamespaceOutcome> {
  const secrets = account.pullSecrets.filter((b) => b.namespaces.includes(namespace));
  let action: ProvisioningAction;
  try {
    action = await ensureNamespace(account, namespace);
  } catch (err) {
    return {
      namespace,
      action: "failed",
      error: failureOf(err),
      pullSecrets: secrets.map((b) => ({ name: b.secretName, action: "skipped" })),
    };
  }
  const pullSecrets = await Promise.all(secrets.map((b) => ensurePullSecret(account, namespace, b.registry)));
  return { namespace, action, pullSecrets };
}

/** The namespace was provisioned before: only the named secrets are reconciled. */
async function provisionPullSecrets(account: Account, namespace: string, names: ReadonlySet<string>): Promise<NamespaceOutcome> {
  const secrets = account.pullSecrets.filter((b) => names.has(b.secretName) && b.namespaces.includes(namespace));
  const pullSecrets = await Promise.all(secrets.map((b) => ensurePullSecret(account, namespace, b.registry)));
  return { namespace, action: "unchanged", pullSecrets };
}

async function ensureNamespace(account: Account, name: string): Promise<ProvisioningAction> {
  let existing: V1Namespace;
  try {
    existing = await readNamespace(account.kube, name);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    try {
      await createNamespace(account.kube, name);
      return "created";
    } catch (createErr) {
      // Another replica (or a person) created it in the meantime: it exists, as wanted.
      if (isAlreadyExists(createErr)) return "unchanged";
      throw createErr;
    }
  }
  if (existing.status?.phase === "Terminating") {
    throw new FailedPreconditionError(
      `account "${account.name}": namespace "${name}" is being terminated; it is provisioned again once it is gone`,
    );
  }
  return "unchanged";
}

/** Another replica (or an operator) writing the same secret at once costs a re-read, never a failure. */
const pullSecretAttempts = 3;

async function ensurePullSecret(account: Account, namespace: string, registry: Parameters<typeof pullSecretFor>[0]): Promise<PullSecretOutcome> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await reconcilePullSecret(account, namespace, registry);
    } catch (err) {
      // Written by someone else between our read and our write: read it again and compare.
      if (attempt < pullSecretAttempts && (isAlreadyExists(err) || isConflict(err))) continue;
      return { name: registry.name, action: "failed", error: failureOf(err) };
    }
  }
}

async function reconcilePullSecret(account: Account, namespace: string, registry: Parameters<typeof pullSecretFor>[0]): Promise<PullSecretOutcome> {
  const desired = pullSecretFor(registry);
  const name = registry.name;
  const stored = await readSecret(account.kube, namespace, name).catch((err: unknown) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
  if (!stored) {
    await createSecret(account.kube, namespace, desired);
    return { name, action: "created" };
  }
  if (!isOurs(stored)) {
    return {
      name,
      action: "failed",
      error: {
        kind: "FailedPrecondition",
        message: `account "${account.name}": secret "${name}" in namespace "${namespace}" was not created by kubedriver (no app.kubernetes.io/managed-by=kubedriver label); it is left untouched`,
      },
    };
  }
  if (sameContent(stored, desired)) return { name, action: "unchanged" };
  desired.metadata!.resourceVersion = stored.metadata?.resourceVersion;
  await replaceSecret(account.kube, namespace, desired);
  return { name, action: "updated" };
}

/** Kubernetes and network failures are reported per object; anything else is a bug and propagates. */
function failureOf(err: unknown): ProvisioningFailure {
  const known = findKubedriverError(err);
  if (known) return { kind: known.kind, message: known.message };
  throw err;
}

function isUnreachable(error: ProvisioningFailure | undefined): boolean {
  return error?.kind === "Unavailable" || error?.kind === "DeadlineExceeded";
}
