import { ApiException } from "@kubernetes/client-node";
import {
  AlreadyExistsError,
  CancelledError,
  ConflictError,
  DeadlineExceededError,
  FailedPreconditionError,
  InvalidArgumentError,
  KubedriverError,
  NotFoundError,
  PermissionDeniedError,
  UnavailableError,
  isCancelled,
  type ResourceRef,
} from "../common/errors.js";
import { ResponseTooLargeError } from "./bounded-http.js";
import { CredentialPluginError } from "./exec-credentials.js";
import { InvalidResponseError } from "./response-check.js";

/** What a Kubernetes call was about, so that errors can name it. */
export interface CallTarget {
  account: string;
  /** e.g. "get", "create", "patch". */
  verb: string;
  /** Kubernetes kind, lower-case words: "namespace", "replication controller". */
  kind: string;
  namespace?: string;
  name?: string;
}

/** The parts of a Kubernetes `Status` body we read. */
interface KubeStatus {
  reason?: string;
  message?: string;
  details?: { causes?: { field?: string; message?: string; reason?: string }[] };
}

/** Socket failures that mean the API server cannot be reached, with the short reason health probes report. */
export const networkFailures: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  EPIPE: "connection reset",
  UND_ERR_SOCKET: "connection reset",
  ENOTFOUND: "dns lookup failed",
  EAI_AGAIN: "dns lookup failed",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "host unreachable",
  ETIMEDOUT: "timeout",
};

/** Whether a socket error code (a core error's reason) is a failed TLS handshake, which retrying will not mend. */
export function isTlsFailure(code: string): boolean {
  return /CERT|SSL|TLS|SELF_SIGNED/.test(code);
}

/**
 * Converts what client-node throws into a core error, once, here: so that no
 * `ApiException` reaches core, and its `message` (which embeds the response
 * headers) is never forwarded. Errors that are not Kubernetes or network
 * failures are returned unchanged: they are bugs. `abortReason` is why the
 * call's signal aborted, if it did: a caller's cancel is not a timeout.
 */
export function toCoreError(err: unknown, target: CallTarget, abortReason?: unknown): unknown {
  if (err instanceof KubedriverError) return err;
  const where = describeTarget(target);
  const resource: ResourceRef | undefined = target.name
    ? { type: target.kind, name: target.name, owner: ownerOf(target) }
    : undefined;
  const metadata = { account: target.account, namespace: target.namespace, name: target.name };

  if (err instanceof ApiException) {
    const status = parseStatus(err.body);
    const detail = status.message ? `: ${status.message}` : "";
    const opts = { cause: err, reason: status.reason ?? "", resource, metadata };
    switch (err.code) {
      case 400:
        return new InvalidArgumentError(`${where} rejected as a bad request${detail}`, causesOf(status), opts);
      case 401:
        return new PermissionDeniedError(`${where}: the cluster rejected the account's credentials (401 Unauthorized)`, opts);
      case 403:
        return new PermissionDeniedError(`${where} forbidden${detail}`, opts);
      case 404:
        return new NotFoundError(`${target.kind}${target.name ? ` "${target.name}"` : ""} not found (${where})`, opts);
      case 409:
        return status.reason === "AlreadyExists"
          ? new AlreadyExistsError(`${target.kind} "${target.name ?? ""}" already exists (${where})`, opts)
          : new ConflictError(`${where} conflicted with a concurrent change${detail}`, opts);
      case 410:
        return new FailedPreconditionError(`${where}: the listing expired, start again from the first page${detail}`, opts);
      case 422:
        return new InvalidArgumentError(`${where} rejected as invalid${detail}`, causesOf(status), opts);
      case 429:
        return new UnavailableError(`${where}: the API server is throttling requests (429)`, opts);
      case 504:
        return new DeadlineExceededError(`${where}: the API server timed out${detail}`, opts);
      default:
        if (err.code >= 500) return new UnavailableError(`${where}: the API server failed (${err.code})${detail}`, opts);
        return new FailedPreconditionError(`${where} failed with HTTP ${err.code}${detail}`, opts);
    }
  }

  if (err instanceof CredentialPluginError) {
    // Retryable: an expired login or a plugin that hung may work once an operator fixes it.
    return new UnavailableError(`${where}: the kubeconfig's exec credential plugin ${err.why}`, { cause: err, resource, metadata, reason: "CREDENTIAL_PLUGIN_FAILED" });
  }
  if (err instanceof ResponseTooLargeError) {
    return new UnavailableError(`${where}: the API server sent an ${err.what} longer than ${err.limit} bytes, more than kubedriver reads; nothing of it was kept`, {
      cause: err,
      resource,
      metadata,
      reason: "RESPONSE_TOO_LARGE",
    });
  }
  if (err instanceof InvalidResponseError) {
    return new UnavailableError(`${where}: the API server ${err.why}`, { cause: err, resource, metadata, reason: "INVALID_RESPONSE" });
  }
  if (isAbort(err)) {
    if (isCancelled(abortReason)) return new CancelledError(`${where}: cancelled by the caller`, { cause: err, resource, metadata });
    return new DeadlineExceededError(`${where}: the API server did not answer in time`, { cause: err, resource, metadata });
  }
  const code = networkCode(err);
  if (code && Object.hasOwn(networkFailures, code)) {
    return new UnavailableError(`${where}: the API server is unreachable (${code})`, { cause: err, resource, metadata, reason: code });
  }
  if (code && isTlsFailure(code)) {
    return new UnavailableError(`${where}: TLS handshake with the API server failed (${code})`, { cause: err, resource, metadata, reason: code });
  }
  const unreadable = unreadableCredentialFile(err);
  if (unreadable) {
    return new UnavailableError(`${where}: ${unreadable}`, { cause: err, resource, metadata, reason: "CREDENTIALS_UNREADABLE" });
  }
  return err;
}

/**
 * client-node reads the certificate, key and CA files a kubeconfig names on
 * every request; one that was removed or made unreadable since start-up
 * fails that account's calls, not kubedriver.
 */
function unreadableCredentialFile(err: unknown): string | undefined {
  const e = err as NodeJS.ErrnoException;
  if (!(err instanceof Error) || typeof e.code !== "string" || e.syscall === undefined || typeof e.path !== "string") return undefined;
  if (!/^(open|read)$/.test(e.syscall)) return undefined;
  return `cannot read ${JSON.stringify(e.path)}, a file named by the kubeconfig (${e.code})`;
}

export function describeTarget(t: CallTarget): string {
  const object = t.name ? `${t.kind} "${t.name}"` : t.kind;
  const ns = t.namespace ? ` in namespace "${t.namespace}"` : "";
  return `account "${t.account}": ${t.verb} ${object}${ns}`;
}

function ownerOf(t: CallTarget): string {
  return t.namespace ? `account ${t.account}, namespace ${t.namespace}` : `account ${t.account}`;
}

function parseStatus(body: unknown): KubeStatus {
  if (typeof body === "string") {
    try {
      const parsed: unknown = JSON.parse(body);
      return typeof parsed === "object" && parsed !== null ? (parsed as KubeStatus) : {};
    } catch {
      return {};
    }
  }
  return typeof body === "object" && body !== null ? (body as KubeStatus) : {};
}

function causesOf(status: KubeStatus) {
  return (status.details?.causes ?? []).map((c) => ({
    field: c.field ?? "",
    description: c.message ?? c.reason ?? "invalid",
  }));
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === "AbortError" || err.name === "TimeoutError");
}

/** node-fetch puts the socket error code on the error or on its cause. */
function networkCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && typeof e === "object" && depth < 5; depth++) {
    const rec = e as { code?: unknown; errno?: unknown; cause?: unknown };
    if (typeof rec.code === "string") return rec.code;
    if (typeof rec.errno === "string") return rec.errno;
    e = rec.cause;
  }
  return undefined;
}
