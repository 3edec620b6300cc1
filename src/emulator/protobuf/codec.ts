import { create, createFileRegistry, fromBinary, toBinary, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { reflect, type ReflectMessage } from "@bufbuild/protobuf/reflect";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { badRequest } from "../status.js";
import { kubernetesDescriptorSet } from "./generated/descriptors.js";
import { goFields } from "./generated/go-fields.js";

type Json = any;

/**
 * The Kubernetes protobuf wire format, as apimachinery's protobuf serializer
 * writes it: the magic `k8s\0`, then a `runtime.Unknown` whose typeMeta names
 * the kind and whose raw holds the object's message. The messages are
 * Kubernetes' own (generated.proto of k8s.io/api and k8s.io/apimachinery,
 * `generated/descriptors.ts`); what their JSON form adds is in
 * `generated/go-fields.ts` and the special types below.
 */
const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, kubernetesDescriptorSet));
const magic = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
const meta = "k8s.io.apimachinery.pkg.apis.meta.v1";
const unknownSchema = message("k8s.io.apimachinery.pkg.runtime.Unknown");
const watchEventSchema = message(`${meta}.WatchEvent`);

/** The message of a kind at an apiVersion: core/v1 and autoscaling kinds, and the meta/v1 kinds every group serves. */
function schemaOf(apiVersion: string, kind: string): DescMessage | undefined {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["core", apiVersion];
  if (["Status", "DeleteOptions", "WatchEvent"].includes(kind)) return registry.getMessage(`${meta}.${kind}`);
  return registry.getMessage(`k8s.io.api.${group}.${version}.${kind}`);
}

function message(typeName: string): DescMessage {
  const desc = registry.getMessage(typeName);
  if (!desc) throw new Error(`no message ${typeName} in the Kubernetes descriptor set`);
  return desc;
}

/** Whether an object of this kind has a protobuf form (Tables, for one, have none). */
export function hasProtobuf(obj: Json): boolean {
  return typeof obj?.kind === "string" && typeof obj?.apiVersion === "string" && schemaOf(obj.apiVersion, obj.kind) !== undefined;
}

/** An object (with kind and apiVersion) in its `k8s\0` envelope. */
export function encodeObject(obj: Json): Uint8Array {
  const desc = schemaOf(obj.apiVersion, obj.kind);
  if (!desc) throw new Error(`no protobuf message for ${obj.apiVersion} ${obj.kind}`);
  const unknown = create(unknownSchema, {
    typeMeta: { apiVersion: obj.apiVersion, kind: obj.kind },
    raw: toBinary(desc, fromJson(desc, obj).message),
    contentEncoding: "",
    contentType: "",
  });
  return Buffer.concat([magic, toBinary(unknownSchema, unknown)]);
}

/** A `k8s\0` envelope back to the object's JSON form, kind and apiVersion included. */
export function decodeObject(bytes: Uint8Array, expectedKind?: string): Json {
  if (bytes.length < 4 || !magic.equals(Buffer.from(bytes.subarray(0, 4)))) {
    // kube-apiserver appends the body's first bytes in hex; they may be a secret's, so they are left out.
    throw badRequest(
      `the object provided is unrecognized (must be of type ${expectedKind ?? "Unknown"}): provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]`,
    );
  }
  let unknown: Json;
  try {
    unknown = fromBinary(unknownSchema, bytes.subarray(4));
  } catch (err) {
    throw badRequest(`the object provided is unrecognized: ${(err as Error).message}`);
  }
  const { apiVersion = "", kind = "" } = unknown.typeMeta ?? {};
  const desc = schemaOf(apiVersion, kind);
  if (!desc) throw badRequest(`no kind "${kind}" is registered for version "${apiVersion}"`);
  let object: Json;
  try {
    object = toJson(reflect(desc, fromBinary(desc, unknown.raw)));
  } catch (err) {
    throw badRequest(`the object provided is unrecognized (must be of type ${kind}): ${(err as Error).message}`);
  }
  return { kind, apiVersion, ...object };
}

/** One frame of a protobuf watch stream: a 4-byte big-endian length, then a WatchEvent whose object is an envelope. */
export function encodeWatchFrame(type: string, object: Json): Uint8Array {
  const event = toBinary(watchEventSchema, create(watchEventSchema, { type, object: { raw: encodeObject(object) } }));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(event.length);
  return Buffer.concat([length, event]);
}

/** Reads the frames of a protobuf watch stream; what is left is an incomplete frame. */
export function decodeWatchFrames(bytes: Uint8Array): { events: { type: string; object: Json }[]; rest: Uint8Array } {
  const events: { type: string; object: Json }[] = [];
  let at = 0;
  const view = Buffer.from(bytes);
  while (at + 4 <= view.length && at + 4 + view.readUInt32BE(at) <= view.length) {
    const length = view.readUInt32BE(at);
    const event: Json = fromBinary(watchEventSchema, view.subarray(at + 4, at + 4 + length));
    events.push({ type: event.type ?? "", object: decodeObject(event.object?.raw ?? new Uint8Array()) });
    at += 4 + length;
  }
  return { events, rest: view.subarray(at) };
}

/** The JSON form of an object as a message; fields absent in JSON stay unset. */
function fromJson(desc: DescMessage, json: Json): ReflectMessage {
  const msg = reflect(desc);
  const special = specialFromJson(desc.typeName, json);
  if (special) {
    for (const [name, value] of Object.entries(special)) msg.set(field(desc, name), value as never);
    return msg;
  }
  const facts = goFields[desc.typeName] ?? {};
  for (const f of desc.fields) {
    const fact = facts[f.name];
    if (fact?.inline) {
      msg.set(f, fromJson(f.message!, json) as never);
      continue;
    }
    const value = json[fact?.json ?? f.name];
    if (value === undefined || value === null) continue;
    switch (f.fieldKind) {
      case "scalar":
        msg.set(f, scalarFromJson(f, value) as never);
        break;
      case "message":
        msg.set(f, fromJson(f.message, value) as never);
        break;
      case "list": {
        const list = msg.get(f);
        for (const item of value as Json[]) list.add(f.listKind === "message" ? fromJson(f.message, item) : scalarFromJson(f, item));
        break;
      }
      case "map": {
        const map = msg.get(f);
        for (const [k, v] of Object.entries(value as Record<string, Json>)) {
          if (v !== null) map.set(k, f.mapKind === "message" ? fromJson(f.message, v) : scalarFromJson(f, v));
        }
        break;
      }
      default:
        throw new Error(`unexpected field kind of ${desc.typeName}.${f.name}`);
    }
  }
  return msg;
}

/** A message back to the JSON form the API server writes: a zero scalar that Go omits when empty is left out. */
function toJson(msg: ReflectMessage): Json {
  const desc = msg.desc;
  const special = specialToJson(desc.typeName, msg);
  if (special !== notSpecial) return special;
  const facts = goFields[desc.typeName] ?? {};
  const out: Json = {};
  for (const f of desc.fields) {
    const fact = facts[f.name];
    const value = msg.isSet(f) ? fieldToJson(f, msg, fact) : undefined;
    if (fact?.inline) Object.assign(out, value);
    else if (value !== undefined) out[fact?.json ?? f.name] = value;
    else if (fact?.null) out[fact?.json ?? f.name] = null;
  }
  return out;
}

/** A set field's JSON value; undefined for what JSON leaves out (a zero omitempty scalar, an empty list or map, a zero Time). */
function fieldToJson(f: DescField, msg: ReflectMessage, fact: (typeof goFields)[string][string] | undefined): Json {
  switch (f.fieldKind) {
    case "scalar": {
      const value = msg.get(f);
      const zero = value === "" || value === 0 || value === 0n || value === false || (value instanceof Uint8Array && value.length === 0);
      return fact?.omitEmpty && zero ? undefined : scalarToJson(value);
    }
    case "message":
      return toJson(msg.get(f));
    case "list": {
      const items = [...msg.get(f)].map((v) => (f.listKind === "message" ? toJson(v as ReflectMessage) : scalarToJson(v)));
      return items.length > 0 ? items : undefined;
    }
    case "map": {
      const entries = [...msg.get(f)].map(([k, v]) => [String(k), f.mapKind === "message" ? toJson(v as ReflectMessage) : scalarToJson(v)]);
      return entries.length > 0 ? Object.fromEntries(entries) : undefined;
    }
    default:
      return undefined;
  }
}

function field(desc: DescMessage, name: string): DescField {
  const f = desc.fields.find((x) => x.name === name);
  if (!f) throw new Error(`no field ${name} in ${desc.typeName}`);
  return f;
}

/** A JSON scalar as the field's protobuf type: 64-bit integers as bigint, bytes from base64. */
function scalarFromJson(f: DescField, value: Json): unknown {
  const type = f.fieldKind === "map" ? f.scalar : f.fieldKind === "list" || f.fieldKind === "scalar" ? f.scalar : undefined;
  switch (type) {
    case 12: // bytes
      return Buffer.from(String(value), "base64");
    case 3: // int64
    case 4: // uint64
    case 6: // fixed64
    case 16: // sfixed64
    case 18: // sint64
      return BigInt(Math.trunc(Number(value)));
    case 9: // string
      return String(value);
    case 8: // bool
      return Boolean(value);
    default:
      return Number(value);
  }
}

function scalarToJson(value: unknown): Json {
  if (typeof value === "bigint") return Number(value);
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  return value;
}

const notSpecial = Symbol("not special");

/** The apimachinery types whose JSON is not their message's: timestamps, durations, quantities, int-or-string, raw JSON. */
function specialFromJson(typeName: string, json: Json): Record<string, unknown> | undefined {
  switch (typeName) {
    case `${meta}.Time`:
    case `${meta}.MicroTime`: {
      const match = /^(.*?)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(String(json));
      const seconds = match ? Date.parse(`${match[1]}${match[3]}`) / 1000 : NaN;
      if (!Number.isFinite(seconds)) throw badRequest(`invalid timestamp ${JSON.stringify(json)}`);
      return { seconds: BigInt(seconds), nanos: Number((match![2] ?? "").padEnd(9, "0")) };
    }
    case `${meta}.Duration`:
      return { duration: BigInt(Math.round(parseGoDuration(String(json)))) };
    case "k8s.io.apimachinery.pkg.api.resource.Quantity":
      return { string: String(json) };
    case "k8s.io.apimachinery.pkg.util.intstr.IntOrString":
      return typeof json === "number" ? { type: 0n, intVal: json } : { type: 1n, strVal: String(json) };
    case "k8s.io.apimachinery.pkg.runtime.RawExtension":
    case `${meta}.FieldsV1`:
      return { [typeName.endsWith("FieldsV1") ? "Raw" : "raw"]: Buffer.from(JSON.stringify(json)) };
    default:
      return undefined;
  }
}

function specialToJson(typeName: string, msg: ReflectMessage): Json {
  const get = (name: string) => msg.get(field(msg.desc, name));
  switch (typeName) {
    case `${meta}.Time`:
    case `${meta}.MicroTime`: {
      // A zero Time is an empty message on the wire (its Size is 0).
      if (!msg.isSet(field(msg.desc, "seconds")) && !msg.isSet(field(msg.desc, "nanos"))) return undefined;
      const seconds = BigInt(get("seconds") as bigint);
      const base = new Date(Number(seconds) * 1000).toISOString().replace(/\.\d+Z$/, "");
      // Time writes whole seconds (RFC 3339); MicroTime six fraction digits.
      if (typeName.endsWith(".Time")) return `${base}Z`;
      return `${base}.${String(Math.floor(Number(get("nanos")) / 1000)).padStart(6, "0")}Z`;
    }
    case `${meta}.Duration`:
      return formatGoDuration(Number(get("duration")));
    case "k8s.io.apimachinery.pkg.api.resource.Quantity":
      return get("string");
    case "k8s.io.apimachinery.pkg.util.intstr.IntOrString":
      return Number(get("type")) === 1 ? get("strVal") : get("intVal");
    case "k8s.io.apimachinery.pkg.runtime.RawExtension":
    case `${meta}.FieldsV1`: {
      const raw = get(typeName.endsWith("FieldsV1") ? "Raw" : "raw") as Uint8Array;
      return raw.length === 0 ? undefined : JSON.parse(Buffer.from(raw).toString("utf8"));
    }
    default:
      return notSpecial;
  }
}

const durationUnits: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration, in nanoseconds. */
function parseGoDuration(text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (text !== "0" && parts.map((p) => p[0]).join("") !== text.replace(/^-/, "")) throw badRequest(`time: invalid duration "${text}"`);
  const total = parts.reduce((sum, [, n, unit]) => sum + Number(n) * durationUnits[unit!]!, 0);
  return text.startsWith("-") ? -total : total;
}

/** Go's time.Duration.String for whole seconds and above, which is what Kubernetes durations hold. */
function formatGoDuration(ns: number): string {
  if (ns === 0) return "0s";
  const sign = ns < 0 ? "-" : "";
  let rest = Math.abs(ns);
  const h = Math.floor(rest / 3600e9);
  rest -= h * 3600e9;
  const m = Math.floor(rest / 60e9);
  rest -= m * 60e9;
  const s = rest / 1e9;
  return `${sign}${h ? `${h}h` : ""}${h || m ? `${m}m` : ""}${s}s`;
}
