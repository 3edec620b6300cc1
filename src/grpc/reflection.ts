import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Server } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";

/** The contract files served by reflection: ours and the standard health service. */
const reflectedFiles = [
  "kubedriver/v1/accounts.proto",
  "kubedriver/v1/server_groups.proto",
  "kubedriver/v1/health.proto",
  "grpc/health/v1/health.proto",
  "google/rpc/status.proto",
  "google/rpc/error_details.proto",
];

/**
 * Serves gRPC server reflection (v1 and v1alpha) from the .proto files
 * themselves, so grpcurl and `buf curl` can list and call every method
 * without a copy of our protos.
 */
export function addReflection(server: Server): void {
  const definitions = loadSync(reflectedFiles, { includeDirs: [protoRoot()] });
  new ReflectionService(definitions).addToServer(server);
}

/** `proto/` at the package root, from `src/grpc` or from `dist/src/grpc`. */
function protoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, "proto");
    if (fs.existsSync(path.join(candidate, "kubedriver", "v1"))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("cannot find the proto/ directory of kubedriver");
    dir = parent;
  }
}
