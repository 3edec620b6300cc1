import { STATUS_CODES } from "node:http";
import { ApiException } from "@kubernetes/client-node";
import { findKubedriverError, type KubedriverError } from "../common/errors.js";
import type { KubeCallOptions, KubeClient } from "./client.js";
import { isTlsFailure, networkFailures } from "./errors.js";
import { namespaceKind } from "./namespaces.js";

/** What one namespace GET told us: reachable, or why not in a short stable reason. */
export type NamespaceProbeOutcome = { reachable: true } | { reachable: false; reason: string; detail: string };

/**
 * GETs one namespace to see whether the account's API server answers for it.
 * Never throws for a Kubernetes or network failure: the failure is the answer.
 * Anything else is a bug and is thrown.
 */
export async function probeNamespace(
  client: KubeClient,
  namespace: string,
  opts: KubeCallOptions,
): Promise<NamespaceProbeOutcome> {
  try {
    await client.call(
      { verb: "get", kind: namespaceKind.name, name: namespace },
      (options) => client.core.readNamespace({ name: namespace }, options),
      // One GET per namespace per round: a failure is the probe's answer, not something to hide.
      // Its own lane: queued callers' requests must not make a busy cluster look unreachable.
      { ...opts, retries: 0, lane: "probe" },
    );
    return { reachable: true };
  } catch (err) {
    const core = findKubedriverError(err);
    if (!core) throw err;
    // Core error messages name account, verb and object, never headers or secrets.
    return { reachable: false, reason: probeReason(core), detail: core.message };
  }
}

/** Failures before or after the request itself: the account's credentials, or an answer that is not Kubernetes. */
const accountReasons: Record<string, string> = {
  CREDENTIAL_PLUGIN_FAILED: "credential plugin failed",
  CREDENTIALS_UNREADABLE: "credentials unreadable",
  INVALID_RESPONSE: "invalid response",
};

/**
 * The short reason callers group by: `404 not found`, `403 forbidden`,
 * `timeout`, `connection refused`, `tls error`, `credential plugin failed`,
 * `invalid response`. The HTTP status comes from the
 * original ApiException kept as the core error's cause.
 */
function probeReason(core: KubedriverError): string {
  if (core.cause instanceof ApiException) {
    return `${core.cause.code} ${(STATUS_CODES[core.cause.code] ?? "error").toLowerCase()}`;
  }
  if (core.kind === "DeadlineExceeded") return "timeout";
  const known = (Object.hasOwn(networkFailures, core.reason) ? networkFailures[core.reason] : undefined) ?? accountReasons[core.reason];
  if (known) return known;
  if (isTlsFailure(core.reason)) return "tls error";
  return "unreachable";
}
