import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { kindType, storedForm } from "./go-types.js";
import { trackFields, type Writer } from "./managed-fields.js";
import { alreadyExists, conflict, notFound } from "./status.js";

/** Any Kubernetes object as JSON; the emulator only relies on metadata. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  generateName?: string;
  [field: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export type EventType = "ADDED" | "MODIFIED" | "DELETED";

export interface StoreEvent {
  type: EventType;
  resource: string;
  object: KubeObject;
  /** The object before this write; for DELETED, the object as it was last stored. */
  previous?: KubeObject;
  /** The revision this write created. */
  revision: number;
}

/** How many past writes a watch can start from, like the API server's watch cache. */
const defaultHistory = 10_000;

const copy = <T>(value: T): T => structuredClone(value);

/**
 * The one store of every object, keyed like etcd (`resource/namespace/name`).
 * Every write goes through `commit`, which assigns uid and creationTimestamp
 * on create, drops what the Go types would not keep (empty omitempty maps and
 * lists), records the writer's fields in managedFields (a write without a
 * writer, like deletion's, keeps the managedFields the object carries), bumps the global
 * resourceVersion, and emits the event controllers react to. Objects are
 * copied in and out, so nobody holds a reference into the store.
 */
export class Store {
  private readonly objects = new Map<string, KubeObject>();
  private revision = 1;
  /** Past writes, oldest first; a watch from a revision before them is 410 Gone. */
  private history: StoreEvent[] = [];
  private forgottenUpTo = 1;
  readonly events = new EventEmitter();

  constructor(private readonly historyLimit = defaultHistory) {
    this.events.setMaxListeners(0);
  }

  get resourceVersion(): string {
    return String(this.revision);
  }

  get currentRevision(): number {
    return this.revision;
  }

  /**
   * Writes after `revision`, oldest first, or undefined when some of them are
   * forgotten (the API server's "too old resource version"); `oldest` is the
   * revision in its message.
   */
  eventsAfter(revision: number): { events: StoreEvent[] } | { oldest: number } {
    if (revision < this.forgottenUpTo) return { oldest: this.forgottenUpTo };
    return { events: this.history.filter((e) => e.revision > revision).map(copy) };
  }

  /** Forgets every past write, as etcd compaction does: watches from an older revision get 410 Gone. */
  compact(): void {
    this.history = [];
    this.forgottenUpTo = this.revision;
  }

  get(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const obj = this.objects.get(key(resource, namespace, name));
    return obj && copy(obj);
  }

  mustGet(resource: string, namespace: string | undefined, name: string): KubeObject {
    const obj = this.get(resource, namespace, name);
    if (!obj) throw notFound(resource, name);
    return obj;
  }

  /**
   * Objects of a resource, in key order (namespace, then name), as etcd lists
   * them; only those `where` accepts are copied out, which keeps selective
   * lists cheap in a namespace of many objects.
   */
  list(resource: string, namespace?: string, where: (obj: KubeObject) => boolean = () => true): KubeObject[] {
    const prefix = namespace === undefined ? `${resource}/` : `${resource}/${namespace}/`;
    return [...this.objects.entries()]
      .filter(([k, o]) => k.startsWith(prefix) && where(o))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, o]) => copy(o));
  }

  create(resource: string, obj: KubeObject, writer?: Writer): KubeObject {
    const k = key(resource, obj.metadata.namespace, obj.metadata.name);
    if (this.objects.has(k)) throw alreadyExists(resource, obj.metadata.name);
    obj.metadata.uid = randomUUID();
    obj.metadata.creationTimestamp = now();
    return this.commit(resource, obj, "ADDED", undefined, writer);
  }

  /**
   * Replaces an object. With `expectedVersion`, a stale version is a 409
   * Conflict, as on a real API server.
   */
  update(resource: string, obj: KubeObject, expectedVersion?: string, writer?: Writer): KubeObject {
    const current = this.mustGet(resource, obj.metadata.namespace, obj.metadata.name);
    if (expectedVersion && expectedVersion !== current.metadata.resourceVersion) throw conflict(resource, obj.metadata.name);
    obj.metadata.uid = current.metadata.uid;
    obj.metadata.creationTimestamp = current.metadata.creationTimestamp;
    return this.commit(resource, obj, "MODIFIED", current, writer);
  }

  /** Reads, changes and writes an object; controllers use this for status. */
  mutate(resource: string, namespace: string | undefined, name: string, change: (obj: KubeObject) => void, writer?: Writer): KubeObject | undefined {
    const current = this.get(resource, namespace, name);
    if (!current) return undefined;
    const before = JSON.stringify(current);
    change(current);
    if (JSON.stringify(current) === before) return current;
    return this.commit(resource, current, "MODIFIED", JSON.parse(before) as KubeObject, writer);
  }

  remove(resource: string, namespace: string | undefined, name: string): KubeObject {
    const k = key(resource, namespace, name);
    const obj = this.objects.get(k);
    if (!obj) throw notFound(resource, name);
    this.objects.delete(k);
    this.revision++;
    const gone = copy(obj);
    gone.metadata.resourceVersion = String(this.revision);
    this.publish({ type: "DELETED", resource, object: copy(gone), previous: copy(obj), revision: this.revision });
    return gone;
  }

  private commit(resource: string, written: KubeObject, type: EventType, previous: KubeObject | undefined, writer: Writer | undefined): KubeObject {
    const obj: KubeObject = storedForm(kindType(String(written.apiVersion), String(written.kind)), written);
    if (writer) trackFields(previous, obj, writer, now());
    this.revision++;
    obj.metadata.resourceVersion = String(this.revision);
    this.objects.set(key(resource, obj.metadata.namespace, obj.metadata.name), copy(obj));
    this.publish({ type, resource, object: copy(obj), previous, revision: this.revision });
    return copy(obj);
  }

  private publish(event: StoreEvent): void {
    this.history.push(copy(event));
    if (this.history.length > this.historyLimit * 1.1) {
      const dropped = this.history.splice(0, this.history.length - this.historyLimit);
      this.forgottenUpTo = dropped[dropped.length - 1]!.revision;
    }
    this.events.emit("change", event);
  }
}

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, "Z");
}

function key(resource: string, namespace: string | undefined, name: string): string {
  return namespace ? `${resource}/${namespace}/${name}` : `${resource}/${name}`;
}
