import type { Server } from "@grpc/grpc-js";
import { ReflectionService } from "@grpc/reflection";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { descriptorSet } from "../../gen/descriptor_set.js";

/**
 * Serves gRPC server reflection (v1 and v1alpha), so grpcurl and `buf curl`
 * can list and call every method without a copy of our protos.
 *
 * The descriptors are the exact ones buf compiled (`gen/descriptor_set.ts`),
 * well-known types included: loading the .proto files through proto-loader
 * instead leaves the well-known types out, and clients then fail on every
 * message with a Timestamp (grpc/grpc-node#2958).
 */
export function addReflection(server: Server): void {
  // @grpc/reflection reads only `fileDescriptorProtos` from a package definition's entries.
  const definition = { kubedriver: { fileDescriptorProtos: filesOf(descriptorSet) } } as unknown as ConstructorParameters<
    typeof ReflectionService
  >[0];
  new ReflectionService(definition).addToServer(server);
}

/** The serialized FileDescriptorProtos of a FileDescriptorSet (field 1). */
function filesOf(set: Uint8Array): Uint8Array[] {
  const reader = new BinaryReader(set);
  const files: Uint8Array[] = [];
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.LengthDelimited) files.push(reader.bytes());
    else reader.skip(wireType);
  }
  return files;
}
