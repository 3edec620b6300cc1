/** Only what views read: managed fields are most of an object's bytes and none of its meaning here. */
export function slim<T extends { metadata?: { managedFields?: unknown } }>(obj: T): T {
  if (obj.metadata?.managedFields === undefined) return obj;
  return { ...obj, metadata: { ...obj.metadata, managedFields: undefined } };
}
