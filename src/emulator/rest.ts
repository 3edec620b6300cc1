import type { ServerResponse } from "node:http";
import { randomBytes } from "node:crypto";
import type { Authenticator, User, Verb } from "./auth.js";
import { initialStatus } from "./defaults.js";
import { decodeFields, decodePatched, directiveOf } from "./field-validation.js";
import { managerOf } from "./managed-fields.js";
import { applyPatch } from "./patch.js";
import type { PodLogs } from "./pod-logs.js";
import { resourceByName, validateObject, type ResourceType } from "./resources.js";
import { matchesLabels, parseFieldSelector, parseLabelSelector, selectorString } from "./selectors.js";
import {
  badRequest,
  conflict,
  forbidden,
  invalidListOptions,
  methodNotAllowed,
  notFound,
  StatusError,
  success,
} from "./status.js";
import type { KubeObject, Store } from "./store.js";
import { serveWatch, type WatchRequest, type WatchSink } from "./watch.js";

type Json = Record<string, any>;

/** A request resolved against the URL scheme of the core/v1 API. */
export interface Target {
  type: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/** One API request after the HTTP layer decoded it. */
export interface RestRequest {
  method: string;
  target: Target;
  query: URLSearchParams;
  user: User;
  body: Json | undefined;
  contentType: string;
  /** The User-Agent header: its product names the field manager of a write without `fieldManager`. */
  userAgent: string;
}

/** An answer: one object, a stream of watch events, or a pod's log (plain text, written by the fake kubelet). */
export type Reply =
  | { code: number; body: unknown }
  | { code: 200; watch: (sink: WatchSink) => void }
  | { code: 200; log: (res: ServerResponse) => void };

/**
 * The REST semantics of core/v1: verb → store call, with the API server's
 * admission rules that kubedriver meets (namespace existence and termination,
 * optimistic concurrency, validation, deletion propagation) and watch. HTTP
 * (bodies, faults, metrics) is the job of `http.ts`.
 */
export class RestApi {
  private nextServiceIp = 1;

  constructor(
    private readonly store: Store,
    private readonly auth: Authenticator,
    private readonly logs: PodLogs,
  ) {}

  serve({ method, target: t, query, user, body, contentType, userAgent }: RestRequest): Reply {
    const authorize = (verb: Verb) => this.auth.authorize(user, verb, t.type.name, t.namespace, t.name, t.subresource);
    switch (method) {
      case "GET":
        if (isWatch(query)) {
          authorize("watch");
          const w = this.watchRequest(t, query);
          return { code: 200, watch: (sink) => serveWatch(this.store, w, sink) };
        }
        if (!t.name) {
          authorize("list");
          return { code: 200, body: this.list(t, query) };
        }
        authorize("get");
        if (t.subresource === "log") return { code: 200, log: (res) => this.logs.serve(t.namespace!, t.name!, query, res) };
        if (t.subresource === "scale") return { code: 200, body: scaleOf(this.store.mustGet(t.type.name, t.namespace, t.name)) };
        return { code: 200, body: withKind(t.type, this.store.mustGet(t.type.name, t.namespace, t.name)) };
      case "POST":
        if (t.name) throw methodNotAllowed();
        authorize("create");
        return { code: 201, body: this.create(t, decodeFields(t.type, t.subresource, requireBody(body), query, "CreateOptions"), managerOf(query, userAgent, "CreateOptions")) };
      case "PUT":
        if (!t.name) throw methodNotAllowed();
        authorize("update");
        return { code: 200, body: this.replace(t, decodeFields(t.type, t.subresource, requireBody(body), query, "UpdateOptions"), managerOf(query, userAgent, "UpdateOptions")) };
      case "PATCH":
        if (!t.name) throw methodNotAllowed();
        authorize("patch");
        directiveOf(query, "PatchOptions");
        return { code: 200, body: this.patch(t, requireBody(body), contentType, query, managerOf(query, userAgent, "PatchOptions")) };
      case "DELETE":
        if (!t.name) throw methodNotAllowed();
        authorize("delete");
        return { code: 200, body: this.delete(t, body, query) };
      default:
        throw methodNotAllowed();
    }
  }

  /**
   * The watch options as kube-apiserver defaults and validates them: an unset
   * or "0" resourceVersion without sendInitialEvents or resourceVersionMatch
   * means the current state first; sendInitialEvents needs
   * resourceVersionMatch=NotOlderThan, and that match needs sendInitialEvents.
   */
  private watchRequest(t: Target, query: URLSearchParams): WatchRequest {
    const labels = parseLabelSelector(query.get("labelSelector"));
    const fields = parseFieldSelector(query.get("fieldSelector"), t.type.fieldSelectors);
    const resourceVersion = query.get("resourceVersion") ?? "";
    const match = query.get("resourceVersionMatch") ?? "";
    const sendParam = query.get("sendInitialEvents");
    if (resourceVersion !== "" && !/^\d+$/.test(resourceVersion)) throw badRequest(`invalid resource version: ${resourceVersion}`);
    let sendInitialEvents = sendParam === null ? undefined : sendParam === "true" || sendParam === "1";
    if (sendInitialEvents === undefined && match === "" && (resourceVersion === "" || resourceVersion === "0")) sendInitialEvents = true;
    else if (sendInitialEvents !== undefined && match !== "NotOlderThan") {
      throw invalidListOptions("resourceVersionMatch", "Forbidden", "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan");
    } else if (sendInitialEvents === undefined && match !== "") {
      throw invalidListOptions("resourceVersionMatch", "Forbidden", "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided");
    }
    const timeout = Number(query.get("timeoutSeconds") ?? 0);
    return {
      type: t.type,
      namespace: t.type.namespaced ? t.namespace : undefined,
      matches: (o) => matchesLabels(labels, o.metadata.labels) && fields(o) && (t.name === undefined || o.metadata.name === t.name),
      resourceVersion,
      sendInitialEvents: sendInitialEvents ?? false,
      allowWatchBookmarks: query.get("allowWatchBookmarks") === "true" || query.get("allowWatchBookmarks") === "1",
      timeoutSeconds: Number.isFinite(timeout) && timeout > 0 ? timeout : undefined,
    };
  }

  private list(t: Target, query: URLSearchParams): Json {
    const labels = parseLabelSelector(query.get("labelSelector"));
    const fields = parseFieldSelector(query.get("fieldSelector"), t.type.fieldSelectors);
    const matching = this.store.list(t.type.name, t.namespace, (o) => matchesLabels(labels, o.metadata.labels) && fields(o));
    const limit = Number(query.get("limit") ?? 0);
    const after = query.get("continue") ? decodeContinue(query.get("continue")!) : undefined;
    const start = after === undefined ? 0 : matching.findIndex((o) => keyOf(o) > after);
    const from = start === -1 ? matching.length : start;
    const items = limit > 0 ? matching.slice(from, from + limit) : matching.slice(from);
    const remaining = matching.length - from - items.length;
    const metadata: Json = { resourceVersion: this.store.resourceVersion };
    if (remaining > 0) {
      metadata.continue = encodeContinue(keyOf(items[items.length - 1]!), this.store.resourceVersion);
      metadata.remainingItemCount = remaining;
    }
    return {
      kind: `${t.type.kind}List`,
      apiVersion: t.type.apiVersion,
      metadata,
      items: items.map((o) => {
        delete o.kind;
        delete o.apiVersion;
        return o;
      }),
    };
  }

  private create(t: Target, body: Json, manager: string): KubeObject {
    const obj = body as KubeObject;
    obj.metadata ??= { name: "" };
    if (t.type.namespaced) {
      if (obj.metadata.namespace && obj.metadata.namespace !== t.namespace) {
        throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
      }
      obj.metadata.namespace = t.namespace;
      this.requireLiveNamespace(t.type, t.namespace!, obj.metadata.name || obj.metadata.generateName || "");
    }
    if (!obj.metadata.name && obj.metadata.generateName) {
      obj.metadata.name = `${obj.metadata.generateName}${randomSuffix()}`;
    }
    delete obj.metadata.resourceVersion;
    delete obj.metadata.deletionTimestamp;
    obj.apiVersion = t.type.apiVersion;
    obj.kind = t.type.kind;
    t.type.defaults(obj);
    const wrote = structuredClone(obj);
    t.type.prepare(obj, { allocateIP: () => this.allocateServiceIp() });
    const status = initialStatus(t.type.kind);
    if (status) obj.status = status;
    else delete obj.status;
    if (t.type.tracksGeneration) obj.metadata.generation = 1;
    validateObject(t.type, obj);
    return this.store.create(t.type.name, obj, { manager, wrote });
  }

  private replace(t: Target, body: Json, manager: string): unknown {
    const obj = body as KubeObject;
    // Scale's replicas is omitempty: absent means 0, as a JSON or protobuf client sends a scale to zero.
    if (t.subresource === "scale") return this.scale(t, body.spec?.replicas ?? 0, body.metadata?.resourceVersion, manager);
    if (obj.metadata?.name !== t.name) {
      throw badRequest(`the name of the object (${obj.metadata?.name}) does not match the name on the URL (${t.name})`);
    }
    return this.write(t, obj, obj.metadata.resourceVersion, manager);
  }

  private patch(t: Target, body: Json, contentType: string, query: URLSearchParams, manager: string): unknown {
    const current = this.store.mustGet(t.type.name, t.namespace, t.name!);
    if (t.subresource === "scale") {
      const scale = decodePatched(t.type, t.subresource, applyPatch(scaleOf(current), body, contentType) as Json, body, contentType, query);
      return this.scale(t, scale.spec?.replicas ?? 0, scale.metadata?.resourceVersion, manager);
    }
    const patched = decodePatched(t.type, t.subresource, applyPatch(current, body, contentType) as Json, body, contentType, query) as KubeObject;
    if (patched.metadata?.name !== current.metadata.name) throw badRequest("metadata.name cannot be changed by a patch");
    return this.write(t, patched, patched.metadata.resourceVersion, manager);
  }

  /** The common update path of PUT and PATCH, for the object or its status. */
  private write(t: Target, obj: KubeObject, expectedVersion: string | undefined, manager: string): KubeObject {
    const current = this.store.mustGet(t.type.name, t.namespace, t.name!);
    let next: KubeObject;
    let wrote: KubeObject | undefined;
    if (t.subresource === "status") {
      next = { ...current, status: obj.status };
    } else {
      next = { ...obj, apiVersion: t.type.apiVersion, kind: t.type.kind, status: current.status };
      next.metadata = {
        ...obj.metadata,
        namespace: current.metadata.namespace,
        uid: current.metadata.uid,
        creationTimestamp: current.metadata.creationTimestamp,
        deletionTimestamp: current.metadata.deletionTimestamp,
        generation: current.metadata.generation,
      };
      if (next.metadata.deletionTimestamp === undefined) delete next.metadata.deletionTimestamp;
      if (next.metadata.generation === undefined) delete next.metadata.generation;
      t.type.defaults(next);
      wrote = structuredClone(next);
      t.type.prepare(next, { allocateIP: () => String((current.spec as Json | undefined)?.clusterIP ?? this.allocateServiceIp()), current });
      next.status = current.status;
      if (t.type.tracksGeneration && JSON.stringify(next.spec) !== JSON.stringify(current.spec)) {
        next.metadata.generation = (current.metadata.generation ?? 0) + 1;
      }
      validateObject(t.type, next);
    }
    if (current.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0) {
      if (expectedVersion && expectedVersion !== current.metadata.resourceVersion) this.store.update(t.type.name, next, expectedVersion);
      return this.store.remove(t.type.name, t.namespace, t.name!);
    }
    const subresource = t.subresource === "status" ? "status" : undefined;
    return this.store.update(t.type.name, next, expectedVersion, { manager, subresource, wrote });
  }

  private scale(t: Target, replicas: unknown, expectedVersion: string | undefined, manager: string): Json {
    if (t.type.name !== "replicationcontrollers") throw notFound(t.type.name, t.name!);
    const current = this.store.mustGet(t.type.name, t.namespace, t.name!);
    const next = structuredClone(current);
    (next.spec as Json).replicas = replicas;
    if (typeof replicas !== "number" || replicas < 0) {
      throw new StatusError({
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: `Scale.autoscaling "${t.name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
        reason: "Invalid",
        details: {
          name: t.name,
          group: "autoscaling",
          kind: "Scale",
          causes: [{ reason: "FieldValueInvalid", message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`, field: "spec.replicas" }],
        },
        code: 422,
      });
    }
    if (JSON.stringify(next.spec) !== JSON.stringify(current.spec)) next.metadata.generation = (current.metadata.generation ?? 0) + 1;
    return scaleOf(this.store.update(t.type.name, next, expectedVersion, { manager, subresource: "scale" }));
  }

  private delete(t: Target, body: Json | undefined, query: URLSearchParams): unknown {
    const current = this.store.mustGet(t.type.name, t.namespace, t.name!);
    const preconditions = body?.preconditions as { resourceVersion?: string; uid?: string } | undefined;
    if (
      (preconditions?.resourceVersion && preconditions.resourceVersion !== current.metadata.resourceVersion) ||
      (preconditions?.uid && preconditions.uid !== current.metadata.uid)
    ) {
      throw conflict(t.type.name, t.name!);
    }
    if (t.type.name === "namespaces") {
      if (current.metadata.deletionTimestamp) return current;
      return this.store.update("namespaces", {
        ...current,
        metadata: { ...current.metadata, deletionTimestamp: now() },
        status: { ...(current.status as Json), phase: "Terminating" },
      });
    }
    const policy = String(
      body?.propagationPolicy ?? query.get("propagationPolicy") ?? (body?.orphanDependents === undefined ? t.type.defaultPropagation : body.orphanDependents ? "Orphan" : "Background"),
    );
    const finalizers = [...(current.metadata.finalizers ?? [])];
    // The garbage collector finishes these: it orphans or deletes the dependents, then drops the finalizer.
    if (policy === "Foreground" && !finalizers.includes("foregroundDeletion")) finalizers.push("foregroundDeletion");
    if (policy === "Orphan" && !finalizers.includes("orphan")) finalizers.push("orphan");
    if (finalizers.length > 0) {
      return this.store.update(t.type.name, {
        ...current,
        metadata: { ...current.metadata, finalizers, deletionTimestamp: current.metadata.deletionTimestamp ?? now(), deletionGracePeriodSeconds: 0 },
      });
    }
    const removed = this.store.remove(t.type.name, t.namespace, t.name!);
    return t.type.returnsDeletedObject ? withKind(t.type, removed) : success({ name: removed.metadata.name, kind: t.type.name, uid: removed.metadata.uid });
  }

  private requireLiveNamespace(type: ResourceType, namespace: string, name: string): void {
    const ns = this.store.get("namespaces", undefined, namespace);
    if (!ns) throw notFound("namespaces", namespace);
    if (ns.metadata.deletionTimestamp) {
      const message = `unable to create new content in namespace ${namespace} because it is being terminated`;
      throw forbidden(`${type.name} "${name}" is forbidden: ${message}`, {
        name,
        kind: type.name,
        causes: [{ reason: "NamespaceTerminating", message, field: "metadata.namespace" }],
      });
    }
  }

  private allocateServiceIp(): string {
    const n = this.nextServiceIp++;
    return `10.96.${Math.floor(n / 250)}.${(n % 250) + 1}`;
  }
}

/** Parses `/api/v1/...` (or `/apis/<group>/<version>/...`) into resource, namespace, name and subresource. */
export function parseTarget(path: string): Target | undefined {
  const prefix = /^\/(?:api\/v1|apis\/([a-z0-9.-]+\/[a-z0-9]+))\//.exec(path);
  if (!prefix) return undefined;
  const apiVersion = prefix[1] ?? "v1";
  const parts = path.slice(prefix[0].length).split("/").filter(Boolean).map(decodeURIComponent);
  let namespace: string | undefined;
  if (parts[0] === "namespaces" && parts.length >= 3 && resourceByName.has(parts[2]!)) {
    namespace = parts[1];
    parts.splice(0, 2);
  }
  const type = resourceByName.get(parts[0] ?? "");
  if (!type || type.apiVersion !== apiVersion || parts.length > 3) return undefined;
  if (type.namespaced === false && namespace) return undefined;
  const subresource = parts[2];
  if (subresource && !type.subresources.includes(subresource)) return undefined;
  return { type, namespace, name: parts[1], subresource };
}

/** The verb as `apiserver_request_total` labels it. */
export function restVerb(method: string, t: Target, query: URLSearchParams): string {
  if (method === "GET" && isWatch(query)) return "WATCH";
  if (method === "GET") return t.name ? "GET" : "LIST";
  return method;
}

function isWatch(query: URLSearchParams): boolean {
  return query.get("watch") === "true" || query.get("watch") === "1";
}

function scaleOf(rc: KubeObject): Json {
  const spec = rc.spec as Json;
  return {
    kind: "Scale",
    apiVersion: "autoscaling/v1",
    metadata: {
      name: rc.metadata.name,
      namespace: rc.metadata.namespace,
      uid: rc.metadata.uid,
      resourceVersion: rc.metadata.resourceVersion,
      creationTimestamp: rc.metadata.creationTimestamp,
    },
    spec: { replicas: spec.replicas },
    status: { replicas: (rc.status as Json | undefined)?.replicas ?? 0, selector: selectorString(spec.selector) },
  };
}

function withKind(type: ResourceType, obj: KubeObject): KubeObject {
  return { ...obj, apiVersion: type.apiVersion, kind: type.kind };
}

function keyOf(o: KubeObject): string {
  return `${o.metadata.namespace ?? ""}/${o.metadata.name}`;
}

function encodeContinue(start: string, rv: string): string {
  return Buffer.from(JSON.stringify({ v: "meta.k8s.io/v1", rv: Number(rv), start })).toString("base64");
}

function decodeContinue(token: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64").toString("utf8")) as { start?: unknown };
    if (typeof parsed.start === "string") return parsed.start;
  } catch {
    // Fall through to the error below.
  }
  throw badRequest(`invalid continue token: ${token}`);
}

function requireBody(body: Json | undefined): Json {
  if (!body || typeof body !== "object") throw badRequest("the request body is missing or not a JSON object");
  return body;
}

function randomSuffix(): string {
  const alphabet = "bcdfghjklmnpqrstvwxz2456789";
  return [...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join("");
}

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, "Z");
}
