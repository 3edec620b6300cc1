import type { FieldErrors, FieldViolation } from "./field-path.js";

/**
 * Typed core errors. Core code throws these; `src/grpc/status.ts` maps them to
 * gRPC status codes in one place. Messages name the account, namespace and
 * object and never contain a secret.
 */
export abstract class KubedriverError extends Error {
  abstract readonly kind: ErrorKind;
  /** A stable, machine-readable reason (google.rpc.ErrorInfo.reason). */
  readonly reason: string;
  /** The resource concerned, for google.rpc.ResourceInfo. */
  readonly resource?: ResourceRef;
  /** What the error is about, for google.rpc.ErrorInfo.metadata. */
  readonly metadata?: ErrorMetadata;

  constructor(message: string, options: Options = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.reason = options.reason ?? "";
    this.resource = options.resource;
    this.metadata = options.metadata;
  }
}

/**
 * The account, namespace and object an error is about, so that a program can
 * act on an error without parsing its message. Only what the caller named or
 * may read: an account the caller may not read is answered exactly as an
 * unknown one, so such an error carries nothing but the name the caller gave.
 */
export interface ErrorMetadata {
  account?: string;
  namespace?: string;
  /** The object's name: a server group, Service, pod … */
  name?: string;
  /** The request field the error is about, e.g. `namespaces[1]`. */
  field?: string;
}

export type ErrorKind =
  | "InvalidArgument"
  | "NotFound"
  | "AlreadyExists"
  | "FailedPrecondition"
  | "Conflict"
  | "PermissionDenied"
  | "Unauthenticated"
  | "Unavailable"
  | "DeadlineExceeded"
  | "Unimplemented"
  | "ResourceExhausted"
  | "Cancelled";

export interface ResourceRef {
  /** e.g. "account", "namespace", "server group", "service". */
  type: string;
  name: string;
  /** The account (and namespace) the resource lives in, when it has one. */
  owner?: string;
}

type Options = ErrorOptions & { reason?: string; resource?: ResourceRef; metadata?: ErrorMetadata };

/** The most field violations one INVALID_ARGUMENT lists. */
const maxViolations = 50;

export class InvalidArgumentError extends KubedriverError {
  readonly kind = "InvalidArgument";
  readonly violations: readonly FieldViolation[];

  constructor(message: string, violations: readonly FieldViolation[], options: Options = {}) {
    super(message, options);
    this.violations = violations;
  }

  /**
   * The one way validation ends: every problem collected in one pass, thrown
   * once, when there is any. The first `maxViolations` are listed (enough to
   * fix a request by; a longer list would not fit a status's trailers), and
   * the message says how many more there were.
   */
  static throwIfAny(errors: FieldErrors, what = "invalid request"): void {
    if (errors.empty) return;
    const listed = errors.violations.slice(0, maxViolations);
    const unlisted = errors.violations.length - listed.length;
    const summary = listed.map((v) => `${v.field}: ${v.description}`).join("; ");
    throw new InvalidArgumentError(`${unlisted > 0 ? `${what} (${unlisted} more problems not listed)` : what}: ${summary}`, listed);
  }

  /** One problem of one field, found where only core can see it (what the cluster holds). */
  static of(field: string, description: string, options: Options = {}): InvalidArgumentError {
    return new InvalidArgumentError(`${field} ${description}`, [{ field, description }], options);
  }
}

export class NotFoundError extends KubedriverError {
  readonly kind = "NotFound";
}

export class AlreadyExistsError extends KubedriverError {
  readonly kind = "AlreadyExists";
}

export class FailedPreconditionError extends KubedriverError {
  readonly kind = "FailedPrecondition";
}

/** A concurrent modification: retrying the whole operation may succeed. */
export class ConflictError extends KubedriverError {
  readonly kind = "Conflict";
}

export class PermissionDeniedError extends KubedriverError {
  readonly kind = "PermissionDenied";
}

export class UnauthenticatedError extends KubedriverError {
  readonly kind = "Unauthenticated";
}

export class UnavailableError extends KubedriverError {
  readonly kind = "Unavailable";
}

export class DeadlineExceededError extends KubedriverError {
  readonly kind = "DeadlineExceeded";
}

export class UnimplementedError extends KubedriverError {
  readonly kind = "Unimplemented";
}

/** Refused for want of capacity (a full queue): the same call may succeed after `retryDelayMs`. */
export class ResourceExhaustedError extends KubedriverError {
  readonly kind = "ResourceExhausted";
  readonly retryDelayMs: number;

  constructor(message: string, retryDelayMs: number, options: Options = {}) {
    super(message, options);
    this.retryDelayMs = retryDelayMs;
  }
}

/** The caller went away (cancelled its call) before the work was done. */
export class CancelledError extends KubedriverError {
  readonly kind = "Cancelled";
}

/** Finds the first kubedriver error along the `cause` chain. */
export function findKubedriverError(err: unknown): KubedriverError | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 16; e = e.cause, depth++) {
    if (e instanceof KubedriverError) return e;
  }
  return undefined;
}

function is(kind: ErrorKind) {
  return (err: unknown): boolean => findKubedriverError(err)?.kind === kind;
}

export const isInvalidArgument = is("InvalidArgument");
export const isNotFound = is("NotFound");
export const isAlreadyExists = is("AlreadyExists");
export const isFailedPrecondition = is("FailedPrecondition");
export const isConflict = is("Conflict");
export const isPermissionDenied = is("PermissionDenied");
export const isUnauthenticated = is("Unauthenticated");
export const isUnavailable = is("Unavailable");
export const isDeadlineExceeded = is("DeadlineExceeded");
export const isUnimplemented = is("Unimplemented");
export const isResourceExhausted = is("ResourceExhausted");
export const isCancelled = is("Cancelled");
