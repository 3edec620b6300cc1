/**
 * Where text is cut to a number of bytes (log limits, bounded messages): at a
 * character boundary, so that a cut never leaves half a character that would
 * decode as U+FFFD.
 */

/** The longest head of `bytes` that is at most `max` bytes and ends at a character boundary. */
export function utf8Head(bytes: Buffer, max: number): Buffer {
  if (bytes.length <= max) return bytes;
  let end = max;
  while (end > 0 && isContinuation(bytes[end]!)) end--;
  return bytes.subarray(0, end);
}

/** The longest tail of `bytes` that is at most `max` bytes and starts at a character boundary. */
export function utf8Tail(bytes: Buffer, max: number): Buffer {
  if (bytes.length <= max) return bytes;
  let start = bytes.length - max;
  while (start < bytes.length && isContinuation(bytes[start]!)) start++;
  return bytes.subarray(start);
}

function isContinuation(byte: number): boolean {
  return (byte & 0xc0) === 0x80;
}
