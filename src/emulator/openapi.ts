import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { gunzipSync } from "node:zlib";
import v2Document from "./generated/openapi-v2.json" with { type: "json" };
import { openapiV2ProtobufGzipBase64 } from "./generated/openapi-v2-protobuf.js";
import v3Documents from "./generated/openapi-v3.json" with { type: "json" };

/** One served document: its bytes in each media type, and its ETag (kube-openapi's: SHA-512 of the JSON, upper-case hex). */
interface Document {
  json: Buffer;
  protobuf?: Buffer;
  hash: string;
}

const v2Protobuf = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";
const v3Protobuf = "application/com.github.proto-openapi.spec.v3.v1.0+protobuf";
const servedSince = new Date(Math.floor(Date.now() / 1000) * 1000);

let documents: { v2: Document; v3: Map<string, Document>; v3Index: Buffer } | undefined;

/** Built on first use: serialising and hashing ~1 MB is not worth paying at every emulator start. */
function load(): NonNullable<typeof documents> {
  if (documents) return documents;
  const v2 = document(v2Document, gunzipSync(Buffer.from(openapiV2ProtobufGzipBase64, "base64")));
  const v3 = new Map(Object.entries(v3Documents).map(([gv, doc]) => [gv, document(doc)]));
  const paths = Object.fromEntries([...v3].map(([gv, d]) => [gv, { serverRelativeURL: serverRelativeUrl(gv, d.hash) }]));
  documents = { v2, v3, v3Index: Buffer.from(JSON.stringify({ paths })) };
  return documents;
}

function document(doc: unknown, protobuf?: Buffer): Document {
  const json = Buffer.from(JSON.stringify(doc));
  return { json, protobuf, hash: createHash("sha512").update(json).digest("hex").toUpperCase() };
}

function serverRelativeUrl(gv: string, hash: string): string {
  return `/openapi/v3/${gv}?hash=${hash}`;
}

/**
 * Serves `/openapi/v2` and `/openapi/v3[/<group-version>]` as kube-apiserver's
 * kube-openapi handlers do (media types by Accept, ETag, the `?hash=`
 * redirect and immutable caching); false when the path is not one of them.
 */
export function serveOpenApi(url: URL, req: IncomingMessage, res: ServerResponse): boolean {
  if (url.pathname === "/openapi/v2") {
    const { v2 } = load();
    const type = negotiate(req.headers.accept, {
      "application/json": "application/json",
      "application/com.github.proto-openapi.spec.v2@v1.0+protobuf": v2Protobuf,
      [v2Protobuf]: v2Protobuf,
    });
    res.setHeader("Vary", "Accept");
    if (!type) return end(res, 406);
    serveContent(req, res, type, v2.hash, type === v2Protobuf ? v2.protobuf! : v2.json);
    return true;
  }
  if (url.pathname === "/openapi/v3") {
    res.setHeader("Cache-Control", "no-cache, private");
    res.setHeader("Last-Modified", servedSince.toUTCString());
    res.writeHead(200, { "Accept-Ranges": "bytes", "Content-Type": "text/plain; charset=utf-8" }).end(load().v3Index);
    return true;
  }
  if (!url.pathname.startsWith("/openapi/v3/")) return false;
  const gv = url.pathname.slice("/openapi/v3/".length);
  const doc = load().v3.get(gv);
  if (!doc) return end(res, 404);
  res.setHeader("Vary", "Accept");
  const type = negotiate(req.headers.accept, {
    "application/json": "application/json",
    [v3Protobuf]: v3Protobuf,
    "application/com.github.proto-openapi.spec.v3@v1.0+protobuf": v3Protobuf,
  });
  // The v3 protobuf form is not generated: no client in use asks for it.
  if (!type || type === v3Protobuf) return end(res, 406);
  const hash = url.searchParams.get("hash");
  if (hash && hash !== doc.hash) {
    res.writeHead(301, { "Content-Type": type, Etag: `"${doc.hash}"`, Location: serverRelativeUrl(gv, doc.hash), "Cache-Control": "no-cache, private" }).end();
    return true;
  }
  if (hash) {
    res.setHeader("Cache-Control", "public, immutable");
    res.setHeader("Expires", new Date(Date.now() + 365 * 24 * 3600 * 1000).toUTCString());
  }
  serveContent(req, res, type, doc.hash, doc.json);
  return true;
}

/**
 * The media type of the first Accept clause (after goautoneg's sort: quality,
 * then specificity) that one of `offered` matches; an absent Accept is any.
 */
function negotiate(accept: string | undefined, offered: Record<string, string>): string | undefined {
  const clauses = (accept || "*/*")
    .split(",")
    .map((clause) => {
      const [range = "", ...params] = clause.split(";").map((p) => p.trim());
      const q = params.find((p) => p.startsWith("q="));
      const [type = "", subtype = ""] = range.split("/");
      return { type, subtype, q: q ? Number(q.slice(2)) : 1 };
    })
    .filter((c) => c.type !== "")
    .sort((a, b) => b.q - a.q || Number(a.type === "*") - Number(b.type === "*") || Number(a.subtype === "*") - Number(b.subtype === "*"));
  for (const c of clauses) {
    for (const [mediaType, returned] of Object.entries(offered)) {
      const [type, subtype] = mediaType.split("/");
      if ((c.type === type || c.type === "*") && (c.subtype === subtype || c.subtype === "*")) return returned;
    }
  }
  return undefined;
}

/** What Go's http.ServeContent answers for a static body with an ETag: 304 to a matching If-None-Match. */
function serveContent(req: IncomingMessage, res: ServerResponse, type: string, hash: string, body: Buffer): void {
  const etag = `"${hash}"`;
  res.setHeader("Etag", etag);
  res.setHeader("Last-Modified", servedSince.toUTCString());
  if (!res.hasHeader("Cache-Control")) res.setHeader("Cache-Control", "no-cache, private");
  const ifNoneMatch = req.headers["if-none-match"];
  if (ifNoneMatch && ifNoneMatch.split(",").some((t) => t.trim() === etag || t.trim() === "*")) {
    res.writeHead(304).end();
    return;
  }
  res.writeHead(200, { "Accept-Ranges": "bytes", "Content-Type": type, "Content-Length": body.length }).end(body);
}

function end(res: ServerResponse, code: number): true {
  if (!res.hasHeader("Cache-Control")) res.setHeader("Cache-Control", "no-cache, private");
  res.writeHead(code, { "Content-Length": 0 }).end();
  return true;
}
