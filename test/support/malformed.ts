import { Client, credentials, Metadata, status as Code, type ServiceDefinition, type ServiceError } from "@grpc/grpc-js";
import { createFileRegistry, fromBinary, ScalarType, type DescMessage } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { descriptorSet } from "../../gen/descriptor_set.js";
import { AccountsService } from "../../gen/kubedriver/v1/accounts.js";
import { HealthService } from "../../gen/kubedriver/v1/health.js";
import { ServerGroupsService } from "../../gen/kubedriver/v1/server_groups.js";

/**
 * Building blocks for a corpus of malformed requests: requests are plain
 * objects shaped like ts-proto's messages, addressed by proto field paths
 * (`containers[0].liveness_probe.initial_delay`, `labels["team"]`), and sent
 * as raw bytes so that what ts-proto's typed encoder cannot express (invalid
 * UTF-8, unknown enum numbers, broken framing) travels too.
 */

export type Message = Record<string, unknown>;

let cached: ReturnType<typeof createFileRegistry> | undefined;
/** Descriptors of every kubedriver message, as buf compiled them. */
function registry() {
  return (cached ??= createFileRegistry(fromBinary(FileDescriptorSetSchema, descriptorSet)));
}

/** Every unary and server-streaming method of the three kubedriver services, by method name. */
export const rpcs = Object.fromEntries(
  ([["kubedriver.v1.Accounts", AccountsService], ["kubedriver.v1.ServerGroups", ServerGroupsService], ["kubedriver.v1.Health", HealthService]] as const).flatMap(
    ([service, definition]) =>
      Object.values(definition as ServiceDefinition).map((m) => {
        const method = m.path.slice(m.path.lastIndexOf("/") + 1);
        const input = registry().getService(service)!.methods.find((d) => d.name === method)!.input;
        return [method, { path: m.path, streaming: m.responseStream, input, encode: (req: Message) => m.requestSerialize(req) as Buffer }];
      }),
  ),
) as Record<string, { path: string; streaming: boolean; input: DescMessage; encode(req: Message): Buffer }>;

export type RpcName = keyof typeof rpcs;

// ---------------------------------------------------------------- field paths

type Segment = { field: string } | { index: number } | { key: string };

/** `containers[0].liveness_probe`, `labels["team"]` → segments. */
export function parsePath(path: string): Segment[] {
  const segments: Segment[] = [];
  for (const m of path.matchAll(/([a-z_0-9]+)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/g)) {
    if (m[1] !== undefined) segments.push({ field: m[1] });
    else if (m[2] !== undefined) segments.push({ index: Number(m[2]) });
    else segments.push({ key: JSON.parse(m[3]!) as string });
  }
  return segments;
}

export function renderPath(segments: readonly Segment[]): string {
  return segments
    .map((s, i) => ("field" in s ? (i === 0 ? s.field : `.${s.field}`) : "index" in s ? `[${s.index}]` : `[${JSON.stringify(s.key)}]`))
    .join("");
}

const camel = (snake: string) => snake.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** A deep copy of `req` with the field at `path` set to `value`. */
export function withField(req: Message, path: string, value: unknown): Message {
  const copy = structuredClone(req);
  const segments = parsePath(path);
  let at: Record<string | number, unknown> = copy;
  segments.forEach((s, i) => {
    const k = "field" in s ? camel(s.field) : "index" in s ? s.index : s.key;
    if (i === segments.length - 1) at[k] = value;
    else at = (at[k] ??= {}) as Record<string | number, unknown>;
  });
  return copy;
}

// ---------------------------------------------------------------- invalid UTF-8

/** ASCII that a base request never contains, swapped for invalid UTF-8 after encoding. */
const marker = "~utf8-marker~";
/** Same length as the marker, so every enclosing length prefix stays right: 0xff never occurs in UTF-8. */
const invalid = Buffer.concat([Buffer.from([0xff]), Buffer.from(marker.slice(1))]);
/** What a lenient decoder makes of the invalid bytes (how the server names a map key that holds them). */
export const leniently = new TextDecoder().decode(invalid);

/** One string of `req`: a value, a list item or a map key. */
export interface StringSlot {
  /** For test names: the proto field path, `labels[<key>]` for a map key. */
  title: string;
  /** The path naming the slot once it holds `value` (a map key's path changes with the key). */
  field(value: string): string;
  /** Sets the slot to `value` in a deep copy of the request. */
  replace(req: Message, value: string): Message;
}

/**
 * Every string slot the request holds, found by walking it alongside its
 * descriptor: each is a place where invalid UTF-8 can arrive.
 */
export function stringSlots(desc: DescMessage, req: Message): StringSlot[] {
  const slots: StringSlot[] = [];
  /** `container(root)` finds, in a copy of the request, the object that holds the field. */
  type Locate = (root: Message) => Record<string | number, unknown>;
  const slot = (path: Segment[], container: Locate, k: string | number) =>
    slots.push({ title: renderPath(path), field: () => renderPath(path), replace: (r, v) => copyWith(r, (root) => void (container(root)[k] = v)) });
  const keySlot = (map: Segment[], container: Locate, key: string) =>
    slots.push({
      title: `${renderPath(map)}[<key>]`,
      field: (k) => renderPath([...map, { key: k }]),
      replace: (r, v) =>
        copyWith(r, (root) => {
          const entries = container(root);
          entries[v] = entries[key];
          delete entries[key];
        }),
    });
  const walk = (desc: DescMessage, msg: Message, at: Segment[], locate: Locate) => {
    for (const f of desc.fields) {
      const value = msg[f.localName];
      if (value === undefined || value === null) continue;
      const here = [...at, { field: f.name }];
      const own: Locate = (root) => locate(root)[f.localName] as Record<string | number, unknown>;
      if (f.fieldKind === "scalar" && f.scalar === ScalarType.STRING) slot(here, locate, f.localName);
      else if (f.fieldKind === "message") walk(f.message, value as Message, here, own);
      else if (f.fieldKind === "list") {
        (value as unknown[]).forEach((item, i) => {
          const path = [...here, { index: i }];
          if (f.listKind === "scalar" && f.scalar === ScalarType.STRING) slot(path, own, i);
          else if (f.listKind === "message") walk(f.message, item as Message, path, (root) => own(root)[i] as Message);
        });
      } else if (f.fieldKind === "map") {
        for (const [key, item] of Object.entries(value as Message)) {
          const path = [...here, { key }];
          if (f.mapKey === ScalarType.STRING) keySlot(here, own, key);
          if (f.mapKind === "scalar" && f.scalar === ScalarType.STRING) slot(path, own, key);
          else if (f.mapKind === "message") walk(f.message, item as Message, path, (root) => own(root)[key] as Message);
        }
      }
    }
  };
  walk(desc, req, [], (root) => root);
  return slots;
}

function copyWith(req: Message, mutate: (copy: Message) => void): Message {
  const copy = structuredClone(req);
  mutate(copy);
  return copy;
}

/**
 * The request encoded with invalid UTF-8 in one string slot, and the path
 * the server should name (a map key is named as a lenient decoder reads it).
 */
export function withInvalidUtf8(rpc: RpcName, req: Message, slot: StringSlot): { bytes: Buffer; field: string } {
  const bytes = Buffer.from(rpcs[rpc]!.encode(slot.replace(req, marker)));
  const at = bytes.indexOf(marker);
  if (at < 0 || bytes.indexOf(marker, at + 1) >= 0) throw new Error(`marker not found exactly once for ${slot.title}`);
  invalid.copy(bytes, at);
  return { bytes, field: slot.field(leniently) };
}

// ---------------------------------------------------------------- hand-encoded wire

/** Appends fields to an encoded message: protobuf merges them (repeated fields gain an item, scalars are replaced). */
export function appended(base: Uint8Array, write: (w: BinaryWriter) => void): Buffer {
  const w = new BinaryWriter();
  write(w);
  return Buffer.concat([base, w.finish()]);
}

/** A length-delimited sub-message written by `write`. */
export function nested(w: BinaryWriter, field: number, write: (w: BinaryWriter) => void): BinaryWriter {
  w.tag(field, WireType.LengthDelimited).fork();
  write(w);
  return w.join();
}

export { WireType };

// ---------------------------------------------------------------- raw calls

export interface Outcome {
  code: Code;
  message: string;
  error?: ServiceError;
}

const identity = (b: Buffer) => b;

/**
 * A grpc-js client that sends bytes as they are: no serializer stands
 * between the corpus and the server. A streaming call is settled by its
 * first message (OK) or its status. A call that runs into its deadline gets
 * the next call a new channel, so that one wedged connection cannot fail
 * the cases after it.
 */
export function rawClient(address: string) {
  let client = new Client(address, credentials.createInsecure());
  const deadline = () => new Date(Date.now() + 10_000);
  const settle = (err: ServiceError | null): Outcome => {
    if (err?.code === Code.DEADLINE_EXCEEDED) {
      client.close();
      client = new Client(address, credentials.createInsecure());
    }
    return err ? { code: err.code, message: err.details, error: err } : { code: Code.OK, message: "" };
  };
  return {
    call(rpc: RpcName, bytes: Buffer): Promise<Outcome> {
      const { path, streaming } = rpcs[rpc]!;
      if (!streaming) {
        return new Promise((resolve) =>
          client.makeUnaryRequest(path, identity, identity, bytes, new Metadata(), { deadline: deadline() }, (err) => resolve(settle(err))),
        );
      }
      return new Promise((resolve) => {
        const stream = client.makeServerStreamRequest(path, identity, identity, bytes, new Metadata(), { deadline: deadline() });
        stream.on("data", () => {
          resolve(settle(null));
          stream.cancel();
        });
        stream.on("error", (err: ServiceError) => resolve(settle(err.code === Code.CANCELLED ? null : err)));
        stream.on("end", () => resolve(settle(null)));
      });
    },
    close: () => client.close(),
  };
}
