import { type RunningGrpcServer, type ServiceBinding, startGrpcServer } from "../../src/grpc/server.js";
import type { CallTracker } from "../../src/grpc/calls.js";
import type { Logger } from "../../src/observability/logger.js";

/** The real gRPC server on a free loopback port with only the given services, for tests of one handler or adapter. */
export function serveAlone(services: ServiceBinding | ServiceBinding[], deps: { log: Logger; tracker: CallTracker }): Promise<RunningGrpcServer> {
  return startGrpcServer({ host: "127.0.0.1", port: 0, log: deps.log, tracker: deps.tracker, services: [services].flat() });
}
