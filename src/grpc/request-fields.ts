import { FieldPath, type FieldErrors } from "../common/field-path.js";

/**
 * The request fields every RPC shares, checked alike everywhere and
 * collected with the request's other problems, so that one answer names
 * them all (see InvalidArgumentError.throwIfAny).
 */

const maxRequestIdLength = 128;
/** Longer than any account, namespace or object name (DNS subdomains stop at 253). */
const maxNameLength = 253;

/** Adds a problem for each required name that is empty or too long to name anything. */
export function requiredNames(errors: FieldErrors, fields: Record<string, string>): FieldErrors {
  for (const [field, value] of Object.entries(fields)) {
    if (value === "") errors.add(FieldPath.root(field), "is required");
    else if (value.length > maxNameLength) errors.add(FieldPath.root(field), `must be at most ${maxNameLength} characters, got ${value.length}`);
  }
  return errors;
}

/** A mutation's `request_id`: optional, at most 128 characters. */
export function requestIdProblems(errors: FieldErrors, requestId: string): FieldErrors {
  if (requestId.length > maxRequestIdLength) errors.add(FieldPath.root("request_id"), `must be at most ${maxRequestIdLength} characters, got ${requestId.length}`);
  return errors;
}
