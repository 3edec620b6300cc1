/**
 * The next version of a cluster: the highest existing + 1; after v999 it
 * wraps to the lowest free version. Undefined when all 1,000 are taken.
 */
export function nextVersion(existing: Iterable<number>): number | undefined {
  const taken = new Set(existing);
  if (taken.size === 0) return 0;
  const highest = Math.max(...taken);
  if (highest < 999) return highest + 1;
  for (let v = 0; v <= 999; v++) if (!taken.has(v)) return v;
  return undefined;
}
