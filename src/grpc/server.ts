import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { HealthImplementation, type ServingStatus } from "grpc-health-check";
import type { Logger } from "../observability/logger.js";
import { CallTracker } from "./calls.js";
import { addReflection } from "./reflection.js";

export interface ServiceBinding {
  /** Fully qualified name, e.g. `kubedriver.v1.Accounts`, for grpc.health.v1. */
  name: string;
  definition: ServiceDefinition;
  implementation: UntypedServiceImplementation;
}

export interface GrpcServerOptions {
  host: string;
  port: number;
  log: Logger;
  tracker: CallTracker;
  services: ServiceBinding[];
  /** PEM contents; with `clientCa`, clients without a certificate it signed fail the handshake. */
  tls?: { cert: Buffer; key: Buffer; clientCa?: Buffer };
}

export interface RunningGrpcServer {
  /** The bound port (useful when 0 was asked for). */
  port: number;
  address: string;
  /** Sets the grpc.health.v1 status of a service ("" is the whole server). */
  setHealth(service: string, status: ServingStatus): void;
  /**
   * Stops accepting calls, ends streams with UNAVAILABLE, lets unary calls
   * finish within `graceMs`, then cancels whatever is left.
   */
  shutdown(graceMs: number): Promise<void>;
}

/** Binds a grpc-js server with our services, grpc.health.v1 and reflection. */
export async function startGrpcServer(opts: GrpcServerOptions): Promise<RunningGrpcServer> {
  const server = new Server();
  for (const s of opts.services) server.addService(s.definition, s.implementation);

  const health = new HealthImplementation({
    "": "SERVING",
    ...Object.fromEntries(opts.services.map((s) => [s.name, "SERVING" as const])),
  });
  health.addToServer(server);
  addReflection(server);

  const target = opts.host.includes(":") ? `[${opts.host}]:${opts.port}` : `${opts.host}:${opts.port}`;
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(target, credentialsFor(opts.tls), (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  const address = opts.host.includes(":") ? `[${opts.host}]:${port}` : `${opts.host}:${port}`;

  let stopping: Promise<void> | undefined;
  return {
    port,
    address,
    setHealth: (service, status) => health.setStatus(service, status),
    shutdown(graceMs) {
      stopping ??= (async () => {
        health.setStatus("", "NOT_SERVING");
        for (const s of opts.services) health.setStatus(s.name, "NOT_SERVING");
        const closed = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
        opts.tracker.endStreams();
        const drained = await opts.tracker.drainUnary(graceMs);
        if (!drained) {
          opts.log.warn("grace period over, cancelling calls still in flight", {
            unaryCalls: opts.tracker.activeUnaryCalls,
            graceMs,
          });
          server.forceShutdown();
        }
        await Promise.race([closed, new Promise((r) => setTimeout(r, 1000).unref())]);
        server.forceShutdown();
      })();
      return stopping;
    },
  };
}

function credentialsFor(tls: GrpcServerOptions["tls"]): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure();
  return ServerCredentials.createSsl(tls.clientCa ?? null, [{ private_key: tls.key, cert_chain: tls.cert }], Boolean(tls.clientCa));
}
