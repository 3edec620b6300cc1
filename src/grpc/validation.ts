import { InvalidArgumentError } from "../common/errors.js";
import type { FieldErrors } from "../common/field-path.js";

/** Longer than any account, namespace or object name (DNS subdomains stop at 253). */
const maxNameLength = 253;

/** Why a required name is unusable (empty, or too long to name anything); undefined when it is fine. */
function nameProblem(value: string): string | undefined {
  if (value === "") return "is required";
  if (value.length > maxNameLength) return `must be at most ${maxNameLength} characters, got ${value.length}`;
  return undefined;
}

/** INVALID_ARGUMENT naming `field` when a required name is empty, or too long to name anything. */
export function requireField(field: string, value: string): void {
  const description = nameProblem(value);
  if (description) throw new InvalidArgumentError(`${field} ${description}`, [{ field, description }]);
}

/** The same check, collected with a request's other problems so that one answer names them all. */
export function checkField(errors: FieldErrors, field: string, value: string): void {
  const description = nameProblem(value);
  if (description) errors.add(field, description);
}

