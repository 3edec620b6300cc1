/**
 * Kubernetes `Status` bodies as the real API server writes them, so that
 * clients tested against the emulator meet the same reasons, codes, messages
 * and details they will meet in a cluster.
 */
export interface StatusCause {
  reason: string;
  message: string;
  field: string;
}

export interface StatusBody {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Failure" | "Success";
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string; causes?: StatusCause[] };
  code: number;
}

/** An error the router answers with its Status body. */
export class StatusError extends Error {
  constructor(readonly body: StatusBody) {
    super(body.message);
  }
}

/** A Failure Status as kube-apiserver writes it; the named builders below cover the common ones. */
export function failure(code: number, reason: string, message: string, details?: StatusBody["details"]): StatusError {
  return new StatusError({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, details, code });
}

export function notFound(resource: string, name: string): StatusError {
  return failure(404, "NotFound", `${resource} "${name}" not found`, { name, kind: resource });
}

export function alreadyExists(resource: string, name: string): StatusError {
  return failure(409, "AlreadyExists", `${resource} "${name}" already exists`, { name, kind: resource });
}

export function conflict(resource: string, name: string): StatusError {
  return failure(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${resource} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, kind: resource },
  );
}

/** 422 Invalid with one cause per field, formatted like apimachinery's NewInvalid. */
export function invalid(kind: string, name: string, causes: StatusCause[]): StatusError {
  const list = causes.map((c) => `${c.field}: ${c.message}`);
  const summary = list.length === 1 ? list[0] : `[${list.join(", ")}]`;
  return failure(422, "Invalid", `${kind} "${name}" is invalid: ${summary}`, { name, kind, causes });
}

export function badRequest(message: string): StatusError {
  return failure(400, "BadRequest", message);
}

export function forbidden(message: string, details?: StatusBody["details"]): StatusError {
  return failure(403, "Forbidden", message, details);
}

export function unauthorized(): StatusError {
  return failure(401, "Unauthorized", "Unauthorized");
}

export function methodNotAllowed(): StatusError {
  return failure(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
}

/** A PATCH whose Content-Type is not a patch type, refused by the route before any handler. */
export function unsupportedMediaType(): StatusError {
  return failure(415, "UnsupportedMediaType", "415: Unsupported Media Type", {});
}

export function gone(message: string): StatusError {
  return failure(410, "Expired", message);
}

export function injected(code: 500 | 503): StatusError {
  return code === 503
    ? failure(503, "ServiceUnavailable", "the server is currently unable to handle the request (injected fault)")
    : failure(500, "InternalError", "Internal error occurred: injected fault");
}

export function invalidCause(field: string, value: unknown, detail: string): StatusCause {
  return { reason: "FieldValueInvalid", message: `Invalid value: ${JSON.stringify(value)}: ${detail}`, field };
}

export function requiredCause(field: string): StatusCause {
  return { reason: "FieldValueRequired", message: "Required value", field };
}

/** The Status of a finished DELETE of a kind whose store does not return the deleted object: no message, no code. */
export function success(details: { name: string; kind: string; uid?: string }): Pick<StatusBody, "kind" | "apiVersion" | "metadata" | "status" | "details"> {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details };
}

/** A path under a served group version that names no resource. */
export function noSuchResource(): StatusError {
  return failure(404, "NotFound", "the server could not find the requested resource", {});
}

/** 422 for watch and list options the API server refuses (kind ListOptions of meta.k8s.io). */
export function invalidListOptions(field: string, type: "Forbidden" | "Invalid", detail: string): StatusError {
  const message = `${type}: ${detail}`;
  return failure(422, "Invalid", `ListOptions.meta.k8s.io "" is invalid: ${field}: ${message}`, {
    group: "meta.k8s.io",
    kind: "ListOptions",
    causes: [{ reason: `FieldValue${type}`, message, field }],
  });
}

/** 500 for a bug of the emulator, as the API server words its own. */
export function internalError(err: unknown): StatusBody {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`,
    reason: "InternalError",
    code: 500,
  };
}

export function notAcceptable(message: string, details?: StatusBody["details"]): StatusError {
  return failure(406, "NotAcceptable", message, details);
}
