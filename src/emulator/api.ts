import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Authenticator, User, Verb } from "./auth.js";
import { initialStatus } from "./defaults.js";
import { discovery } from "./discovery.js";
import type { Faults } from "./faults.js";
import type { RequestLog, RequestRecord } from "./metrics.js";
import { applyPatch } from "./patch.js";
import { serveLog } from "./pod-logs.js";
import { resourceByName, validateObject, type ResourceType } from "./resources.js";
import { matchesLabels, parseFieldSelector, parseLabelSelector, selectorString } from "./selectors.js";
import {
  badRequest,
  conflict,
  forbidden,
  injected,
  methodNotAllowed,
  notFound,
  StatusError,
  success,
  unsupportedMediaType,
  type StatusBody,
} from "./status.js";
import type { KubeObject, Store } from "./store.js";

type Json = Record<string, any>;

/** A request resolved against the URL scheme of the core/v1 API. */
interface Target {
  type: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/**
 * The REST layer: a thin router from Kubernetes API URLs and verbs onto the
 * store, with the API server's admission rules that kubedriver meets
 * (namespace existence and termination, optimistic concurrency, validation,
 * deletion propagation).
 */
export class ApiServer {
  private nextServiceIp = 1;

  constructor(
    private readonly store: Store,
    private readonly auth: Authenticator,
    private readonly faults: Faults,
    private readonly requests: RequestLog,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://emulator");
    const target = parseTarget(url.pathname);
    const record: RequestRecord = { verb: "", resource: "", subresource: "", scope: "", code: 0 };
    try {
      const fixed = this.fixedEndpoint(url.pathname);
      if (fixed !== undefined) return send(res, 200, fixed);
      if (!target) throw notFound("", url.pathname);

      record.resource = target.type.name;
      record.subresource = target.subresource ?? "";
      record.namespace = target.namespace ?? (target.type.name === "namespaces" ? target.name : undefined);
      record.name = target.name;
      record.verb = restVerb(req.method ?? "GET", target);
      record.scope = target.name ? "resource" : target.namespace ? "namespace" : "cluster";

      const effect = this.faults.effectFor(record.namespace, record.verb, record.resource);
      if (effect.reset) {
        req.socket.destroy();
        return;
      }
      if (effect.hang) return;
      if (effect.latencyMs > 0) await new Promise((r) => setTimeout(r, effect.latencyMs));
      if (effect.errorCode) throw injected(effect.errorCode);

      const user = this.auth.authenticate(req.headers.authorization);
      const contentType = String(req.headers["content-type"] ?? "");
      // Like an API server without a protobuf codec for the type: clients fall back to JSON.
      if (contentType.startsWith("application/vnd.kubernetes.protobuf")) throw unsupportedMediaType(contentType);
      const body = await readBody(req);
      if (target.subresource === "log") {
        this.auth.authorize(user, "get", target.type.name, target.namespace, target.name, target.subresource);
        record.code = 200;
        return serveLog(this.store, target.namespace!, target.name!, url.searchParams, res);
      }
      const [code, payload] = this.route(req.method ?? "GET", url, target, user, body, String(req.headers["content-type"] ?? ""));
      record.code = code;
      if (effect.loseResponse) {
        req.socket.destroy();
        return;
      }
      send(res, code, payload);
    } catch (err) {
      const status = err instanceof StatusError ? err.body : internal(err);
      record.code = status.code;
      send(res, status.code, status);
    } finally {
      if (record.resource) this.requests.record(record);
    }
  }

  private fixedEndpoint(path: string): unknown {
    if (path === "/healthz" || path === "/readyz" || path === "/livez") return "ok";
    if (path === "/metrics") return { prometheus: this.requests.prometheus() };
    return discovery(path);
  }

  private route(method: string, url: URL, t: Target, user: User, body: Json | undefined, contentType: string): [number, unknown] {
    const authorize = (verb: Verb) => this.auth.authorize(user, verb, t.type.name, t.namespace, t.name, t.subresource);
    if (url.searchParams.get("watch") === "true" || url.searchParams.get("watch") === "1") {
      throw badRequest("watch is not supported by the kubedriver emulator");
    }
    switch (method) {
      case "GET":
        if (!t.name) {
          authorize("list");
          return [200, this.list(t, url.searchParams)];
        }
        authorize("get");
        if (t.subresource === "scale") return [200, scaleOf(this.store.mustGet(t.type.name, t.namespace, t.name))];
        return [200, withKind(t.type, this.store.mustGet(t.type.name, t.namespace, t.name))];
      case "POST":
        if (t.name) throw methodNotAllowed();
        authorize("create");
        return [201, this.create(t, requireBody(body))];
      case "PUT":
        if (!t.name) throw methodNotAllowed();
        authorize("update");
        return [200, this.replace(t, requireBody(body))];
      case "PATCH":
        if (!t.name) throw methodNotAllowed();
        authorize("patch");
        return [200, this.patch(t, requireBody(body), contentType)];
      case "DELETE":
        if (!t.name) throw methodNotAllowed();
        authorize("delete");
        return [200, this.delete(t, body, url.searchParams)];
      default:
        throw methodNotAllowed();
    }
  }

  private list(t: Target, query: URLSearchParams): Json {
    const labels = parseLabelSelector(query.get("labelSelector"));
    const fields = parseFieldSelector(query.get("fieldSelector"));
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

  private create(t: Target, body: Json): KubeObject {
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
    t.type.defaults(obj, { allocateIP: () => this.allocateServiceIp() });
    const status = initialStatus(t.type.kind);
    if (status) obj.status = status;
    else delete obj.status;
    if (t.type.tracksGeneration) obj.metadata.generation = 1;
    validateObject(t.type, obj);
    return this.store.create(t.type.name, obj);
  }

  private replace(t: Target, body: Json): unknown {
    const obj = body as KubeObject;
    if (t.subresource === "scale") return this.scale(t, body.spec?.replicas, body.metadata?.resourceVersion);
    if (obj.metadata?.name !== t.name) {
      throw badRequest(`the name of the object (${obj.metadata?.name}) does not match the name on the URL (${t.name})`);
    }
    return this.write(t, obj, obj.metadata.resourceVersion);
  }

  private patch(t: Target, body: Json, contentType: string): unknown {
    const current = this.store.mustGet(t.type.name, t.namespace, t.name!);
    if (t.subresource === "scale") {
      const scale = applyPatch(scaleOf(current), body, contentType) as Json;
      return this.scale(t, scale.spec?.replicas, scale.metadata?.resourceVersion);
    }
    const patched = applyPatch(current, body, contentType) as KubeObject;
    if (patched.metadata?.name !== current.metadata.name) throw badRequest("metadata.name cannot be changed by a patch");
    return this.write(t, patched, patched.metadata.resourceVersion);
  }

  /** The common update path of PUT and PATCH, for the object or its status. */
  private write(t: Target, obj: KubeObject, expectedVersion: string | undefined): KubeObject {
    const current = this.store.mustGet(t.type.name, t.namespace, t.name!);
    let next: KubeObject;
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
      t.type.defaults(next, { allocateIP: () => String((current.spec as Json | undefined)?.clusterIP ?? this.allocateServiceIp()) });
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
    return this.store.update(t.type.name, next, expectedVersion);
  }

  private scale(t: Target, replicas: unknown, expectedVersion: string | undefined): Json {
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
    return scaleOf(this.store.update(t.type.name, next, expectedVersion));
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
    const policy = String(body?.propagationPolicy ?? query.get("propagationPolicy") ?? (body?.orphanDependents ? "Orphan" : "Background"));
    const finalizers = [...(current.metadata.finalizers ?? [])];
    if (policy === "Foreground" && !finalizers.includes("foregroundDeletion")) finalizers.push("foregroundDeletion");
    if (policy === "Orphan") this.orphanDependentsOf(current);
    if (finalizers.length > 0) {
      return this.store.update(t.type.name, {
        ...current,
        metadata: { ...current.metadata, finalizers, deletionTimestamp: current.metadata.deletionTimestamp ?? now() },
      });
    }
    const removed = this.store.remove(t.type.name, t.namespace, t.name!);
    return t.type.name === "pods" || t.type.name === "replicationcontrollers" ? withKind(t.type, removed) : success();
  }

  private orphanDependentsOf(owner: KubeObject): void {
    const owned = (pod: KubeObject) => pod.metadata.ownerReferences?.some((o) => o.uid === owner.metadata.uid) ?? false;
    for (const pod of this.store.list("pods", owner.metadata.namespace, owned)) {
      this.store.mutate("pods", pod.metadata.namespace, pod.metadata.name, (p) => {
        p.metadata.ownerReferences = p.metadata.ownerReferences?.filter((o) => o.uid !== owner.metadata.uid);
      });
    }
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

function restVerb(method: string, t: Target): string {
  if (method === "GET") return t.name ? "GET" : "LIST";
  return method;
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

async function readBody(req: IncomingMessage): Promise<Json | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  if (chunks.length === 0) return undefined;
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as Json;
  } catch {
    throw badRequest("the request body is not valid JSON");
  }
}

function send(res: ServerResponse, code: number, payload: unknown): void {
  if (res.headersSent || res.destroyed) return;
  if (payload === "ok") {
    res.writeHead(code, { "content-type": "text/plain" }).end("ok");
    return;
  }
  const prom = (payload as { prometheus?: string } | undefined)?.prometheus;
  if (typeof prom === "string") {
    res.writeHead(code, { "content-type": "text/plain; version=0.0.4" }).end(prom);
    return;
  }
  res.writeHead(code, { "content-type": "application/json" }).end(JSON.stringify(payload));
}

function internal(err: unknown): StatusBody {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`,
    reason: "InternalError",
    code: 500,
  };
}

function randomSuffix(): string {
  const alphabet = "bcdfghjklmnpqrstvwxz2456789";
  return [...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join("");
}

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, "Z");
}
