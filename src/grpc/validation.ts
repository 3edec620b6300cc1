import { InvalidArgumentError } from "../core/errors.js";

/** INVALID_ARGUMENT naming `field` when a required string is empty. */
export function requireField(field: string, value: string): void {
  if (value === "") {
    throw new InvalidArgumentError(`${field} is required`, [{ field, description: "is required" }]);
  }
}
