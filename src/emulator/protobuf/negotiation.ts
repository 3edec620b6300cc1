import { badRequest, failure, notAcceptable, unsupportedMediaType } from "../status.js";
import { decodeObject, encodeObject, encodeWatchFrame, hasProtobuf } from "./codec.js";

type Json = Record<string, any>;

export const protobufMediaType = "application/vnd.kubernetes.protobuf";
/** What kube-apiserver serves, in its order (the emulator writes no YAML, but the real messages list it). */
const servedMediaTypes = ["application/json", "application/yaml", protobufMediaType];
const watchMediaTypes = [...servedMediaTypes, "application/json;stream=watch", `${protobufMediaType};stream=watch`];
const patchMediaTypes = ["application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json"];

/** How an answer is written: JSON (possibly a meta.k8s.io Table) or protobuf. */
export interface Output {
  format: "json" | "protobuf";
  /** `meta.k8s.io/v1` or `meta.k8s.io/v1beta1` when a Table was asked for. */
  table?: string;
}

interface Clause {
  type: string;
  subtype: string;
  q: number;
  params: Record<string, string>;
}

/**
 * The answer's media type as kube-apiserver negotiates it: the Accept clauses
 * by quality (then concrete types before wildcards), each against JSON, YAML
 * and protobuf in that order, the first that can be met winning. A Table can
 * only be JSON. An Accept that names no served type at all is refused by the
 * route (406 listing the representations); one whose served types all ask for
 * something the server cannot do by the handler (406 listing the media types).
 */
export function negotiateOutput(accept: string | undefined, watch: boolean): Output {
  if (!accept?.trim()) return { format: "json" };
  const clauses = parseAccept(accept);
  const offered = watch ? watchMediaTypes : servedMediaTypes;
  if (!clauses.some((c) => offered.some((m) => matches(c, m)))) {
    throw notAcceptable(`406: Not Acceptable\n\nAvailable representations: ${offered.join(", ")}`, {});
  }
  for (const clause of clauses) {
    for (const media of servedMediaTypes) {
      if (!matches(clause, media)) continue;
      const { as, g, v } = clause.params;
      if (media === "application/yaml") continue;
      if (as === undefined && g === undefined && v === undefined) return { format: media === protobufMediaType ? "protobuf" : "json" };
      if (media === "application/json" && as === "Table" && g === "meta.k8s.io" && (v === "v1" || v === "v1beta1")) return { format: "json", table: `meta.k8s.io/${v}` };
    }
  }
  throw notAcceptable(`only the following media types are accepted: ${servedMediaTypes.join(", ")}`);
}

/** goautoneg's ParseAccept and its ordering: higher quality first, then concrete types, then concrete subtypes. */
function parseAccept(header: string): Clause[] {
  const clauses: Clause[] = [];
  for (const part of header.split(",")) {
    const [range = "", ...rest] = part.trim().split(";");
    const [type = "", subtype, extra] = range.trim().split("/");
    if (extra !== undefined || (subtype === undefined && type !== "*")) continue;
    const clause: Clause = { type, subtype: subtype?.trim() ?? "*", q: 1, params: {} };
    for (const param of rest) {
      const [key, value, more] = param.split("=");
      if (value === undefined || more !== undefined) continue;
      if (key!.trim() === "q") clause.q = Number(value) || 0;
      else clause.params[key!.trim()] = value.trim();
    }
    clauses.push(clause);
  }
  const rank = (c: Clause) => [-c.q, c.type === "*" ? 1 : 0, c.subtype === "*" ? 1 : 0];
  return clauses.sort((a, b) => {
    const [ra, rb] = [rank(a), rank(b)];
    return ra[0]! - rb[0]! || ra[1]! - rb[1]! || ra[2]! - rb[2]!;
  });
}

function matches(clause: Clause, media: string): boolean {
  const [type, subtype] = media.split(";")[0]!.split("/");
  return (clause.type === "*" && clause.subtype === "*") || (clause.type === type && (clause.subtype === "*" || clause.subtype === subtype));
}

/**
 * A request body by its Content-Type: JSON or protobuf for writes, one of the
 * patch types (JSON) for PATCH; an empty Content-Type means JSON. Anything
 * else is 415 with the real server's words: the route's for PATCH, the
 * decoder's for the rest.
 */
export function decodeBody(method: string, contentType: string, bytes: Buffer, expectedKind: string): Json | undefined {
  const media = contentType.split(";")[0]!.trim().toLowerCase();
  if (method === "PATCH" && !patchMediaTypes.includes(media)) throw unsupportedMediaType();
  if (bytes.length === 0) return undefined;
  if (media === protobufMediaType) return decodeObject(bytes, expectedKind);
  if (method !== "PATCH" && media !== "" && media !== "application/json") {
    throw failure(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: ${servedMediaTypes.join(", ")}`);
  }
  const text = bytes.toString("utf8");
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as Json;
  } catch {
    throw badRequest("the request body is not valid JSON");
  }
}

/** An answer's bytes and Content-Type; objects without a protobuf form (Tables) stay JSON. */
export function encodeBody(payload: unknown, output: Output): { contentType: string; body: string | Uint8Array } {
  if (output.format === "protobuf" && hasProtobuf(payload)) return { contentType: protobufMediaType, body: encodeObject(payload) };
  return { contentType: "application/json", body: JSON.stringify(payload) };
}

/** The Content-Type of a watch stream and how one event is written in it. */
export function watchEncoding(output: Output): { contentType: string; frame(type: string, object: unknown): string | Uint8Array } {
  if (output.format === "protobuf") return { contentType: `${protobufMediaType};stream=watch`, frame: encodeWatchFrame };
  return { contentType: "application/json", frame: (type, object) => `${JSON.stringify({ type, object })}\n` };
}
