import { FieldSet } from "./field-set.js";
import { goForm, kindType, shapeOf, type TypeRef } from "./go-types.js";
import { isObject, type Json } from "./json.js";
import { failure, type StatusError } from "./status.js";
import type { KubeObject } from "./store.js";

/**
 * Who makes a write: the field manager (a request's `fieldManager`, else the
 * product part of its User-Agent; a controller's own name) and the
 * subresource it writes through.
 */
export interface Writer {
  manager: string;
  subresource?: "status" | "scale";
  /**
   * The object as the writer sent it, defaulted, before the server's own
   * additions (allocated IPs, a new namespace's finalizers): kube-apiserver's
   * field manager sees it at that point, so the writer does not own those.
   */
  wrote?: KubeObject;
}

/**
 * The field manager of a request: its `fieldManager` (at most 128 bytes of
 * printable characters, or 422 in the options' words), else the product of
 * its User-Agent (the part before the first `/`, cut to 128 bytes), as
 * kube-apiserver names it.
 */
export function managerOf(query: URLSearchParams, userAgent: string, options: "CreateOptions" | "UpdateOptions" | "PatchOptions"): string {
  const manager = query.get("fieldManager") ?? "";
  if (manager === "") return Buffer.from(userAgent.split("/")[0]!).subarray(0, maxManagerBytes).toString();
  if (Buffer.byteLength(manager) > maxManagerBytes) {
    throw invalidOptions(options, { reason: "FieldValueTooLong", message: `Too long: may not be more than ${maxManagerBytes} bytes` });
  }
  let offset = 0;
  for (const c of manager) {
    // Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space; the position is in bytes.
    if (!/^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(c)) {
      const code = c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
      throw invalidOptions(options, { reason: "FieldValueInvalid", message: `Invalid value: ${JSON.stringify(manager)}: invalid character U+${code} (at position ${offset})` });
    }
    offset += Buffer.byteLength(c);
  }
  return manager;
}

const maxManagerBytes = 128;

function invalidOptions(options: string, cause: { reason: string; message: string }): StatusError {
  return failure(422, "Invalid", `${options}.meta.k8s.io "" is invalid: fieldManager: ${cause.message}`, {
    group: "meta.k8s.io",
    kind: options,
    causes: [{ ...cause, field: "fieldManager" }],
  });
}

interface ManagedFieldsEntry {
  manager?: string;
  operation: "Update" | "Apply";
  apiVersion: string;
  time?: string;
  fieldsType: "FieldsV1";
  fieldsV1: Json;
  subresource?: string;
}

/**
 * `metadata.managedFields` as kube-apiserver's field manager keeps them for
 * Update operations (create, update, patch, and writes through `status` and
 * `scale`): the write's fields are the ones it adds or changes, compared with
 * the live object (a create compares with the kind's Go zero value), both in
 * the form Go's unstructured converter gives them; the writer owns those, and
 * every other manager loses them and the fields the write removes. Lists
 * follow the kind's OpenAPI (`x-kubernetes-list-type`, `-list-map-keys`,
 * `-map-type`), so list items are keyed (`k:{"name":"web"}`) or valued (`v:`).
 * Server-side apply (the Apply operation) is not emulated.
 */
export function trackFields(live: KubeObject | undefined, next: KubeObject, writer: Writer, time: string): void {
  const type = kindType(String(next.apiVersion), String(next.kind));
  const wrote = writer.wrote ?? next;
  const requested = writer.subresource ? undefined : wrote.metadata.managedFields;
  if (isReset(requested)) {
    delete next.metadata.managedFields;
    return;
  }
  const managers = decode(requested) ?? decode(live?.metadata.managedFields) ?? new Map();
  const before = goForm(type, live ? withoutManagedFields(live) : {});
  const after = goForm(type, withoutManagedFields(wrote));
  const changed = new FieldSet();
  const removed = new FieldSet();
  diff(type, before, after, [], changed, removed);
  for (const set of [changed, removed]) {
    for (const path of ignoredFor(writer)) set.removeTree(path);
    if (writer.subresource === "scale") set.keepOnly(["f:spec", "f:replicas"]);
    for (const path of stripped) set.remove(path);
  }
  const id = identity({ manager: writer.manager, operation: "Update", apiVersion: String(next.apiVersion), subresource: writer.subresource });
  for (const [key, managed] of managers) {
    managed.set.subtract(changed);
    managed.set.subtract(removed);
    if (managed.set.empty) managers.delete(key);
  }
  if (!changed.empty) {
    const own = managers.get(id)?.set ?? new FieldSet();
    own.add(changed);
    managers.set(id, { entry: entryOf(writer, String(next.apiVersion), time), set: own });
  }
  const entries = [...managers.values()].map(({ entry, set }) => ({ ...entry, fieldsV1: set.toJson() })).sort(byEncodedOrder);
  if (entries.length > 0) next.metadata.managedFields = entries;
  else delete next.metadata.managedFields;
}

/** The fields the field manager never records (`stripMeta`): identity and server-kept metadata. */
const stripped = [["f:apiVersion"], ["f:kind"], ["f:metadata"], ...["name", "namespace", "creationTimestamp", "selfLink", "uid", "generation", "managedFields", "resourceVersion"].map((f) => ["f:metadata", `f:${f}`])];

/** The fields a write through a path resets, so its manager does not own them (the strategies' GetResetFields). */
function ignoredFor(writer: Writer): string[][] {
  if (writer.subresource === "status") return [["f:spec"], ["f:metadata", "f:deletionTimestamp"], ["f:metadata", "f:ownerReferences"]];
  return [["f:status"]];
}

/**
 * An entry's fields in the order of Go's ManagedFieldsEntry, without its
 * field set. A write through `scale` has no time: kube-apiserver maps it back
 * from the Scale's own entry, which loses it.
 */
function entryOf(writer: Writer, apiVersion: string, time: string): Omit<ManagedFieldsEntry, "fieldsV1"> {
  return {
    ...(writer.manager ? { manager: writer.manager } : {}),
    operation: "Update",
    apiVersion,
    ...(writer.subresource === "scale" ? {} : { time }),
    fieldsType: "FieldsV1",
    ...(writer.subresource ? { subresource: writer.subresource } : {}),
  };
}

/** A manager is its name, operation, apiVersion (not an applier's) and subresource (BuildManagerIdentifier). */
function identity(e: Pick<ManagedFieldsEntry, "manager" | "operation" | "apiVersion" | "subresource">): string {
  return JSON.stringify([e.manager ?? "", e.operation, e.operation === "Apply" ? "" : e.apiVersion, e.subresource ?? ""]);
}

/** `managedFields: []` or `[{}]` in a write clears them, this write's own fields too, as kube-apiserver lets a client reset them. */
function isReset(requested: unknown): boolean {
  if (!Array.isArray(requested)) return false;
  return requested.length === 0 || (requested.length === 1 && (requested[0] === null || (isObject(requested[0]) && Object.keys(requested[0]).length === 0)));
}

/** Each manager's entry (without its fields) and field set, by identity. */
type Managers = Map<string, { entry: Omit<ManagedFieldsEntry, "fieldsV1">; set: FieldSet }>;

/** A write's or the live object's managedFields; undefined when absent or when any entry is malformed (the write's are then ignored, as kube-apiserver ignores them). */
function decode(entries: unknown): Managers | undefined {
  if (!Array.isArray(entries)) return undefined;
  const managers: Managers = new Map();
  for (const raw of entries as ManagedFieldsEntry[]) {
    if (!isObject(raw) || !["Update", "Apply"].includes(raw.operation) || raw.fieldsType !== "FieldsV1" || !isObject(raw.fieldsV1)) return undefined;
    const { fieldsV1, ...entry } = raw;
    managers.set(identity(raw), { entry, set: FieldSet.fromJson(fieldsV1) });
  }
  return managers;
}

/** The order kube-apiserver writes the entries in: operation, time (to the second), manager, apiVersion, subresource. */
function byEncodedOrder(a: ManagedFieldsEntry, b: ManagedFieldsEntry): number {
  const keys = (e: ManagedFieldsEntry) => [e.operation, e.time ?? "", e.manager ?? "", e.apiVersion, e.subresource ?? ""];
  const [x, y] = [keys(a), keys(b)];
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  return 0;
}

function withoutManagedFields(obj: KubeObject): Json {
  const { managedFields: _, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

/** structured-merge-diff's Compare: what `after` adds or changes (`changed`) and what it removes. */
function diff(type: TypeRef | undefined, before: Json, after: Json, path: string[], changed: FieldSet, removed: FieldSet): void {
  if (before === undefined && after === undefined) return;
  const shape = shapeOf(type);
  if (shape.kind === "leaf") {
    if (before === undefined) changed.insert(path);
    else if (after === undefined) removed.insert(path);
    else if (!equal(before, after)) changed.insert(path);
    return;
  }
  if (shape.kind === "list") {
    const [l, r] = [itemsOf(shape.keys, before), itemsOf(shape.keys, after)];
    for (const key of new Set([...l.keys(), ...r.keys()])) diff(shape.items, l.get(key), r.get(key), [...path, key], changed, removed);
  } else {
    const [l, r] = [isObject(before) ? before : {}, isObject(after) ? after : {}];
    for (const key of new Set([...Object.keys(l), ...Object.keys(r)])) {
      diff(shape.kind === "struct" ? shape.fields(key) : shape.element, l[key], r[key], [...path, `f:${key}`], changed, removed);
    }
  }
  if (before === undefined) changed.insert(path);
  else if (after === undefined) removed.insert(path);
}

/** A list's items by their path element: `k:` and the key fields for a map list, `v:` and the value for a set. */
function itemsOf(keys: string[] | undefined, list: Json): Map<string, Json> {
  const items = new Map<string, Json>();
  if (!Array.isArray(list)) return items;
  for (const item of list) {
    const key = keys
      ? `k:${JSON.stringify(Object.fromEntries([...keys].sort().filter((k) => item?.[k] !== undefined).map((k) => [k, item[k]])))}`
      : `v:${JSON.stringify(item)}`;
    items.set(key, item);
  }
  return items;
}

function equal(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const [ka, kb] = [Object.keys(a), Object.keys(b)];
  return ka.length === kb.length && ka.every((k) => k in b && equal(a[k], b[k]));
}
