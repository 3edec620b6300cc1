import { isUtf8 } from "node:buffer";
import type { ServiceDefinition } from "@grpc/grpc-js";
import { createFileRegistry, fromBinary, ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { InvalidArgumentError } from "../common/errors.js";
import { FieldErrors, FieldPath } from "../common/field-path.js";
import { descriptorSet } from "../../gen/descriptor_set.js";

/** Of a malformed request's problems, those listed in the status. */
const maxViolations = 20;

/**
 * The service with request decoding that rejects what is not a well-formed
 * request, as INVALID_ARGUMENT naming the field:
 *
 * - grpc-js answers INTERNAL ("Error deserializing request") whenever a
 *   deserializer throws (`BaseServerInterceptingCall.decompressAndMaybePush`
 *   in @grpc/grpc-js src/server-interceptors.ts), and ts-proto's decoders throw
 *   on truncated input, bad wire types and int64 values past 2^53;
 * - ts-proto's decoders replace invalid UTF-8 with U+FFFD, stop reading
 *   silently at a zero tag or a stray end-group tag, and drop a map entry
 *   keyed `__proto__`, so a broken request would otherwise be acted on.
 *
 * Each request is checked against its descriptor (the FileDescriptorSet buf
 * compiled) before ts-proto decodes it. grpc-js offers no way to answer from
 * a deserializer, so a rejected request decodes to a MalformedRequest, which
 * the handler adapters (`unary`, `serverStream`) answer with its error.
 */
export function decodingStrictly<S extends ServiceDefinition>(service: S): S {
  const methods = Object.entries(service).map(([name, method]) => {
    const input = inputOf(method.path);
    if (!input) return [name, method];
    const decode = method.requestDeserialize;
    return [name, { ...method, requestDeserialize: (bytes: Buffer) => decodeStrictly(input, bytes, decode) }];
  });
  return Object.fromEntries(methods) as S;
}

/** What a rejected request decodes to. */
export class MalformedRequest {
  constructor(readonly error: InvalidArgumentError) {}
}

function decodeStrictly<T>(input: DescMessage, bytes: Buffer, decode: (bytes: Buffer) => T): T {
  const errors = new FieldErrors();
  let where: FieldPath | undefined;
  try {
    checkMessage(input, new BinaryReader(bytes), FieldPath.root(), errors, (at) => (where = at));
  } catch (err) {
    errors.add(where ?? "", `not valid protobuf (${err instanceof Error ? err.message : String(err)})`);
  }
  if (errors.empty) {
    try {
      return decode(bytes);
    } catch (err) {
      errors.add("", `cannot be decoded (${err instanceof Error ? err.message : String(err)})`);
    }
  }
  // One violation per broken string could be thousands; a status must stay small enough for trailers.
  const shown = errors.violations.slice(0, maxViolations);
  const unlisted = errors.violations.length - shown.length;
  const summary = shown.map((v) => (v.field ? `${v.field}: ${v.description}` : v.description)).join("; ");
  const error = new InvalidArgumentError(
    `malformed ${input.typeName}: ${summary}${unlisted > 0 ? ` (${unlisted} more problems not listed)` : ""}`,
    shown.filter((v) => v.field !== ""),
  );
  return new MalformedRequest(error) as T;
}

let registry: ReturnType<typeof createFileRegistry> | undefined;

/** The request message of `/package.Service/Method`, when the descriptor set has it. */
function inputOf(path: string): DescMessage | undefined {
  registry ??= createFileRegistry(fromBinary(FileDescriptorSetSchema, descriptorSet));
  const m = /^\/(.+)\/([^/]+)$/.exec(path);
  return m ? registry.getService(m[1]!)?.methods.find((method) => method.name === m[2])?.input : undefined;
}

/**
 * Walks one message's wire form: every string must be UTF-8, every 64-bit
 * integer must fit a JavaScript number (ts-proto's `longToNumber` throws past
 * 2^53), and the framing must hold; `reading` is told each field's path
 * before it is read, so that a framing error can name it.
 */
function checkMessage(desc: DescMessage, reader: BinaryReader, at: FieldPath, errors: FieldErrors, reading: (at: FieldPath) => void): void {
  const counts = new Map<number, number>();
  while (reader.pos < reader.len) {
    reading(at);
    const [number, wireType] = reader.tag();
    const field = desc.fields.find((f) => f.number === number);
    if (!field) {
      skip(reader, wireType, number);
      continue;
    }
    let path = at.child(field.name);
    if (field.fieldKind === "list") {
      const index = counts.get(number) ?? 0;
      counts.set(number, index + 1);
      path = path.index(index);
    }
    reading(path);
    checkField(field, wireType, reader, path, errors, reading);
  }
}

function checkField(field: DescField, wireType: WireType, reader: BinaryReader, at: FieldPath, errors: FieldErrors, reading: (at: FieldPath) => void): void {
  const scalar = field.fieldKind === "scalar" || (field.fieldKind === "list" && field.listKind === "scalar") ? field.scalar : undefined;
  const message = field.fieldKind === "message" || (field.fieldKind === "list" && field.listKind === "message") ? field.message : undefined;
  if (scalar === ScalarType.STRING && wireType === WireType.LengthDelimited) {
    if (!isUtf8(reader.bytes())) errors.add(at, "is not valid UTF-8");
  } else if (scalar !== undefined && int64Readers.get(scalar)?.wireType === wireType) {
    const value = BigInt(int64Readers.get(scalar)!.read(reader));
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) errors.add(at, `${value} is out of range`);
  } else if (message && wireType === WireType.LengthDelimited) {
    checkMessage(message, new BinaryReader(reader.bytes()), at, errors, reading);
  } else if (field.fieldKind === "map" && wireType === WireType.LengthDelimited) {
    checkMapEntry(field, new BinaryReader(reader.bytes()), at, errors, reading);
  } else {
    // A wire type the field does not have: ts-proto skips it, and so do we.
    skip(reader, wireType, field.number);
  }
}

function skip(reader: BinaryReader, wireType: WireType, number: number): void {
  if (wireType === WireType.EndGroup) throw new Error(`stray end-group tag of field ${number}`);
  // Reading rejects a varint longer than ten bytes, which skipping lets through.
  if (wireType === WireType.Varint) reader.uint64();
  else reader.skip(wireType, number);
}

const int64Readers = new Map<ScalarType, { wireType: WireType; read: (r: BinaryReader) => bigint | string }>([
  [ScalarType.INT64, { wireType: WireType.Varint, read: (r) => r.int64() }],
  [ScalarType.UINT64, { wireType: WireType.Varint, read: (r) => r.uint64() }],
  [ScalarType.SINT64, { wireType: WireType.Varint, read: (r) => r.sint64() }],
  [ScalarType.FIXED64, { wireType: WireType.Bit64, read: (r) => r.fixed64() }],
  [ScalarType.SFIXED64, { wireType: WireType.Bit64, read: (r) => r.sfixed64() }],
]);

/** A map entry: key (field 1) and value (field 2), in either order; named by its key. */
function checkMapEntry(
  field: Extract<DescField, { fieldKind: "map" }>,
  entry: BinaryReader,
  at: FieldPath,
  errors: FieldErrors,
  reading: (at: FieldPath) => void,
): void {
  let key: Uint8Array | undefined;
  let value: Uint8Array | undefined;
  while (entry.pos < entry.len) {
    const [number, wireType] = entry.tag();
    if (number === 1 && wireType === WireType.LengthDelimited && field.mapKey === ScalarType.STRING) key = entry.bytes();
    else if (number === 2 && wireType === WireType.LengthDelimited && field.mapKind !== "enum") value = entry.bytes();
    else skip(entry, wireType, number);
  }
  const keyText = key ? new TextDecoder().decode(key) : "";
  const path = field.mapKey === ScalarType.STRING ? at.key(keyText) : at;
  reading(path);
  if (key && !isUtf8(key)) errors.add(path, "key is not valid UTF-8");
  // ts-proto stores entries on plain objects, where this key sets the prototype instead.
  if (keyText === "__proto__") errors.add(path, "is not a valid key");
  if (value === undefined) return;
  if (field.mapKind === "scalar" && field.scalar === ScalarType.STRING && !isUtf8(value)) errors.add(path, "is not valid UTF-8");
  if (field.mapKind === "message") checkMessage(field.message, new BinaryReader(value), path, errors, reading);
}
