/**
 * Text cut short at `max` characters, saying how long it was: statuses travel
 * in HTTP/2 trailers, and a client drops a connection whose trailers exceed
 * its header list limit (64 KiB in Node) instead of reading them.
 */
export function bounded(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
}

/** A caller's value as error messages quote it: JSON-quoted and cut short (see `bounded`). */
export function quoted(value: string, max = 64): string {
  return value.length <= max ? JSON.stringify(value) : `${JSON.stringify(value.slice(0, max))}… (${value.length} characters)`;
}
