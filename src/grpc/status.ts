import { randomUUID } from "node:crypto";
import { Metadata, status as Code, type ServiceError } from "@grpc/grpc-js";
import { findKubedriverError, ResourceExhaustedError, type ErrorKind, type KubedriverError } from "../common/errors.js";
import { bounded } from "../common/quoted.js";
import type { Logger } from "../observability/logger.js";
import { BadRequest, ErrorInfo, ResourceInfo, RetryInfo } from "../../gen/google/rpc/error_details.js";
import { Status } from "../../gen/google/rpc/status.js";
import type { Any } from "../../gen/google/protobuf/any.js";

const domain = "kubedriver.io";

/**
 * A status travels in HTTP/2 trailers, and a client whose header list limit
 * they exceed (64 KiB in Node) wedges the connection instead of reading them;
 * callers' values quoted in messages must not take a status there.
 */
const maxMessageChars = 1024;
const maxViolationChars = 8 * 1024;

const codeOf: Record<ErrorKind, Code> = {
  InvalidArgument: Code.INVALID_ARGUMENT,
  NotFound: Code.NOT_FOUND,
  AlreadyExists: Code.ALREADY_EXISTS,
  FailedPrecondition: Code.FAILED_PRECONDITION,
  Conflict: Code.ABORTED,
  PermissionDenied: Code.PERMISSION_DENIED,
  Unauthenticated: Code.UNAUTHENTICATED,
  Unavailable: Code.UNAVAILABLE,
  DeadlineExceeded: Code.DEADLINE_EXCEEDED,
  Unimplemented: Code.UNIMPLEMENTED,
  ResourceExhausted: Code.RESOURCE_EXHAUSTED,
  Cancelled: Code.CANCELLED,
};

/**
 * How long a caller should wait before retrying what these say may pass by
 * itself (google.rpc.RetryInfo); a refusal for want of capacity says its own.
 */
const unavailableRetryMs = 1_000;
const conflictRetryMs = 100;

/**
 * An error with details of its RPC's own beside the standard ones (a
 * wait's last state), packed by that RPC's handler: the one place here
 * knows no RPC.
 */
export class WithDetails extends Error {
  constructor(
    readonly error: unknown,
    readonly details: readonly Any[],
  ) {
    super("an error with details", { cause: error });
  }
}

/** A detail of type `typeName` (e.g. `kubedriver.v1.ServerGroup`), as google.rpc.Status carries it. */
export function pack(typeName: string, value: Uint8Array): Any {
  return { typeUrl: `type.googleapis.com/${typeName}`, value: Buffer.from(value) };
}

/** The gRPC code name of a core error kind, for results that report failures per item. */
export function grpcCodeName(kind: ErrorKind): string {
  return Code[codeOf[kind]];
}

/**
 * The one place where errors become gRPC statuses. Core errors keep their
 * meaning (code, message, field violations, resource) and travel as
 * google.rpc.Status details in `grpc-status-details-bin`; anything else is a
 * bug in kubedriver: INTERNAL with a correlation id, its cause logged and
 * never sent.
 */
export function toServiceError(err: unknown, log: Logger): Partial<ServiceError> & { code: Code } {
  const known = findKubedriverError(err);
  if (!known) {
    const correlationId = randomUUID();
    log.error("internal error", { correlationId, err: describeUnknown(err) });
    return withDetails(Code.INTERNAL, `internal error (correlation id ${correlationId})`, [
      pack("google.rpc.ErrorInfo", ErrorInfo.encode({ reason: "INTERNAL", domain, metadata: { correlationId } }).finish()),
    ]);
  }
  const own = err instanceof WithDetails ? err.details : [];
  return withDetails(codeOf[known.kind], known.message, [...own, ...detailsOf(known)]);
}

/** A status for conditions of the transport itself (shutdown, cancellation); UNAVAILABLE says when to retry. */
export function plainStatus(code: Code, message: string): Partial<ServiceError> & { code: Code } {
  return withDetails(code, message, code === Code.UNAVAILABLE ? [retryInfo(unavailableRetryMs)] : []);
}

function retryDelayOf(err: KubedriverError): number | undefined {
  if (err instanceof ResourceExhaustedError) return err.retryDelayMs;
  if (err.kind === "Unavailable") return unavailableRetryMs;
  if (err.kind === "Conflict") return conflictRetryMs;
  return undefined;
}

function retryInfo(ms: number): Any {
  const delay = Math.max(0, Math.round(ms));
  return pack(
    "google.rpc.RetryInfo",
    RetryInfo.encode({ retryDelay: { seconds: Math.floor(delay / 1000), nanos: (delay % 1000) * 1_000_000 } }).finish(),
  );
}

function detailsOf(err: KubedriverError): Any[] {
  const details: Any[] = [];
  const retryDelay = retryDelayOf(err);
  if (retryDelay !== undefined) details.push(retryInfo(retryDelay));
  if (err.kind === "InvalidArgument" && "violations" in err) {
    const all = (err as { violations: readonly { field: string; description: string }[] }).violations;
    let budget = maxViolationChars;
    const violations = all
      .map((v) => ({ field: bounded(v.field, 1024), description: bounded(v.description, 512) }))
      .filter((v) => (budget -= v.field.length + v.description.length) >= 0);
    details.push(
      pack(
        "google.rpc.BadRequest",
        BadRequest.encode({
          fieldViolations: violations.map((v) => ({ ...v, reason: "", localizedMessage: undefined })),
        }).finish(),
      ),
    );
  }
  if (err.reason) {
    details.push(pack("google.rpc.ErrorInfo", ErrorInfo.encode({ reason: err.reason, domain, metadata: metadataOf(err) }).finish()));
  }
  if (err.resource) {
    details.push(
      pack(
        "google.rpc.ResourceInfo",
        ResourceInfo.encode({
          resourceType: err.resource.type,
          resourceName: bounded(err.resource.name, 256),
          owner: err.resource.owner ?? "",
          description: "",
        }).finish(),
      ),
    );
  }
  return details;
}

/** ErrorInfo.metadata: the error's account, namespace, name and field that are set, each cut short like names in messages. */
function metadataOf(err: KubedriverError): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(err.metadata ?? {})) if (value) metadata[key] = bounded(value, 256);
  return metadata;
}

function withDetails(code: Code, full: string, details: Any[]): Partial<ServiceError> & { code: Code } {
  const message = bounded(full, maxMessageChars);
  const metadata = new Metadata();
  metadata.set("grpc-status-details-bin", Buffer.from(Status.encode({ code, message, details }).finish()));
  return { code, details: message, metadata };
}

function describeUnknown(err: unknown): unknown {
  if (err instanceof Error) return { name: err.name, message: err.message, stack: err.stack };
  return String(err);
}
