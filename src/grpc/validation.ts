import { InvalidArgumentError } from "../common/errors.js";
import { serverGroupNameProblem } from "../core/server-groups/naming.js";

/** Longer than any account, namespace or object name (DNS subdomains stop at 253). */
const maxNameLength = 253;

/** INVALID_ARGUMENT naming `field` when a required name is empty, or too long to name anything. */
export function requireField(field: string, value: string): void {
  if (value === "") {
    throw new InvalidArgumentError(`${field} is required`, [{ field, description: "is required" }]);
  }
  if (value.length > maxNameLength) {
    const description = `must be at most ${maxNameLength} characters, got ${value.length}`;
    throw new InvalidArgumentError(`${field} ${description}`, [{ field, description }]);
  }
}

/**
 * INVALID_ARGUMENT naming `field` unless `value` can be a server group's
 * name: such a name also becomes a label selector value, which the API
 * server rejects (400) when it is not a valid label value.
 */
export function requireServerGroupName(field: string, value: string): void {
  const problem = serverGroupNameProblem(value);
  if (problem) throw new InvalidArgumentError(`${field}: ${problem}`, [{ field, description: problem }]);
}
