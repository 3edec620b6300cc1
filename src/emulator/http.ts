import type { IncomingMessage, ServerResponse } from "node:http";
import type { Authenticator } from "./auth.js";
import { discovery } from "./discovery.js";
import type { Faults } from "./faults.js";
import type { RequestLog, RequestRecord } from "./metrics.js";
import { serveOpenApi } from "./openapi.js";
import { parseTarget, restVerb, type RestApi } from "./rest.js";
import { badRequest, injected, internalError, noSuchResource, notAcceptable, StatusError, unsupportedMediaType } from "./status.js";
import { asTable } from "./tables.js";
import type { WatchSink } from "./watch.js";

type Json = Record<string, any>;

/**
 * The HTTP side of the emulator: health, metrics and discovery endpoints,
 * fault injection, the request log, credentials, request bodies and writing
 * answers (objects, Status errors, watch streams). What a request means is
 * the job of `rest.ts`.
 */
export class HttpFront {
  constructor(
    private readonly rest: RestApi,
    private readonly auth: Authenticator,
    private readonly faults: Faults,
    private readonly requests: RequestLog,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://emulator");
    const method = req.method ?? "GET";
    if (this.fixedEndpoint(url.pathname, res) || serveOpenApi(url, req, res)) return;
    const target = parseTarget(url.pathname);
    if (!target && !url.pathname.startsWith("/api/v1/")) {
      // Outside every served group version, the API server's mux answers in plain text.
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("404 page not found\n");
      return;
    }
    const record: RequestRecord = { verb: "", resource: "", subresource: "", scope: "", code: 0 };
    try {
      if (!target) throw noSuchResource();
      record.resource = target.type.name;
      record.subresource = target.subresource ?? "";
      record.namespace = target.namespace ?? (target.type.name === "namespaces" ? target.name : undefined);
      record.name = target.name;
      record.verb = restVerb(method, target, url.searchParams);
      record.scope = target.name ? "resource" : target.namespace ? "namespace" : "cluster";
      res.once("close", this.requests.opened(record));

      const effect = this.faults.effectFor(record.namespace, record.verb, record.resource, record.subresource);
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
      const output = negotiate(req.headers.accept);
      const reply = this.rest.serve({ method, target, query: url.searchParams, user, body, contentType });
      record.code = reply.code;
      if (effect.loseResponse) {
        req.socket.destroy();
        return;
      }
      if ("watch" in reply) reply.watch(streamTo(res));
      else if ("log" in reply) reply.log(res);
      else if (output.table && method === "GET" && !target.subresource) {
        sendJson(res, reply.code, asTable(target.type.name, reply.body as Json, output.table, url.searchParams.get("includeObject") ?? "Metadata") ?? reply.body);
      } else sendJson(res, reply.code, reply.body);
    } catch (err) {
      const status = err instanceof StatusError ? err.body : internalError(err);
      record.code = status.code;
      sendJson(res, status.code, status);
    } finally {
      if (record.resource) this.requests.record(record);
    }
  }

  /** Answers the endpoints outside the REST scheme; false when `path` is not one of them. */
  private fixedEndpoint(path: string, res: ServerResponse): boolean {
    if (path === "/healthz" || path === "/readyz" || path === "/livez") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
      return true;
    }
    if (path === "/metrics") {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(this.requests.prometheus());
      return true;
    }
    const document = discovery(path);
    if (document === undefined) return false;
    sendJson(res, 200, document);
    return true;
  }
}

/**
 * The first media type of the Accept list the emulator can write, as the API
 * server picks it: JSON, or a meta.k8s.io Table in JSON; 406 when none is.
 */
function negotiate(accept: string | undefined): { table?: string } {
  if (!accept) return {};
  for (const entry of accept.split(",")) {
    const [type, ...params] = entry.split(";").map((p) => p.trim());
    const p = Object.fromEntries(params.map((kv) => kv.split("=").map((x) => x.trim()) as [string, string]));
    if (!["application/json", "application/*", "*/*"].includes(type!)) continue;
    if (p.as === undefined) return {};
    if (p.as === "Table" && p.g === "meta.k8s.io" && (p.v === "v1" || p.v === "v1beta1")) return { table: `meta.k8s.io/${p.v}` };
  }
  throw notAcceptable();
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

function sendJson(res: ServerResponse, code: number, payload: unknown): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(code, { "content-type": "application/json" }).end(JSON.stringify(payload));
}

/** A watch stream as kube-apiserver writes it in JSON: one `{"type","object"}` document per line, chunked. */
function streamTo(res: ServerResponse): WatchSink {
  res.writeHead(200, { "content-type": "application/json", "cache-control": "no-cache, private" });
  res.flushHeaders();
  return {
    event: (type, object) => {
      if (!res.destroyed) res.write(`${JSON.stringify({ type, object })}\n`);
    },
    end: () => res.end(),
    onClose: (listener) => res.once("close", listener),
  };
}
