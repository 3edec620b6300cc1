import { FieldErrors, FieldPath } from "../common/field-path.js";

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

export function requestIdProblems(errors: FieldErrors, requestId: string): FieldErrors {
  if (requestId.length > maxRequestIdLength) errors.add(FieldPath.root("request_id"), `must be at most ${maxRequestIdLength} characters, got ${requestId.length}`);
  return errors;
}
