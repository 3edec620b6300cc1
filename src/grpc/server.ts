import { Server, ServerCredentials, setLogger, type ServiceDefinition, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { HealthImplementation, type ServingStatus } from "grpc-health-check";
import { ListenError, listenProblem } from "../common/listen-error.js";
import type { Logger } from "../observability/logger.js";
import { initializeRpcMetrics } from "../observability/metrics.js";
import { rpcLabelsOf } from "../observability/rpc.js";
import { CallTracker } from "./calls.js";
import { addReflection } from "./reflection.js";
import { startHealthThread, type HealthThread } from "./health-thread.js";
import { decodingStrictly } from "./strict-decoding.js";

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
  /**
   * A second, plaintext port serving only grpc.health.v1: kubelet's gRPC
   * probes cannot speak TLS, and this port must not carry the API. It is
   * served from its own thread (see health-thread.ts), NOT_SERVING once the
   * main event loop has not run for `stallLimitMs`.
   */
  health?: { host: string; port: number; stallLimitMs?: number };
  /**
   * HTTP/2 streams one connection may have open at once
   * (`grpc.max_concurrent_streams`); a client past it waits for one to end,
   * and a stream opened anyway is refused before any handler runs.
   */
  maxConcurrentStreamsPerConnection?: number;
}

// grpc-js clients of one address share one connection, so a service holding a thousand watch streams needs room beside them for its calls.
export const defaultMaxConcurrentStreamsPerConnection = 4_096;

export interface RunningGrpcServer {
  /** The bound port (useful when 0 was asked for). */
  port: number;
  address: string;
  /** The health-only port's address, when one was asked for. */
  healthAddress?: string;
  /** Unary calls accepted and not yet answered. */
  readonly activeUnaryCalls: number;
  /** Streams open and not yet ended (their last message may still be on its way). */
  readonly activeStreams: number;
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
  const server = new Server({
    "grpc.max_concurrent_streams": opts.maxConcurrentStreamsPerConnection ?? defaultMaxConcurrentStreamsPerConnection,
  });
  for (const s of opts.services) {
    server.addService(decodingStrictly(s.definition), s.implementation);
    for (const m of Object.values(s.definition)) initializeRpcMetrics(rpcLabelsOf(m.path, m.responseStream ? "server_stream" : "unary"));
  }

  const statuses: Record<string, ServingStatus> = {
    "": "SERVING",
    ...Object.fromEntries(opts.services.map((s) => [s.name, "SERVING" as const])),
  };
  const mainHealth = new HealthImplementation(statuses);
  mainHealth.addToServer(server);
  addReflection(server);

  const address = await bind(server, opts.host, opts.port, credentialsFor(opts.tls), "server.listen");
  const port = Number(address.slice(address.lastIndexOf(":") + 1));
  let healthThread: HealthThread | undefined;
  if (opts.health) {
    try {
      healthThread = await startHealthThread(opts.health.host, opts.health.port, statuses, {
        stallLimitMs: opts.health.stallLimitMs,
        onError: (err) => opts.log.error("the health port's thread failed; probes will fail", { error: err.message }),
      });
    } catch (err) {
      server.forceShutdown();
      throw err;
    }
  }
  const health = {
    setStatus(service: string, status: ServingStatus) {
      mainHealth.setStatus(service, status);
      healthThread?.setStatus(service, status);
    },
  };

  let stopping: Promise<void> | undefined;
  return {
    port,
    address,
    healthAddress: healthThread?.address,
    get activeUnaryCalls() {
      return opts.tracker.activeUnaryCalls;
    },
    get activeStreams() {
      return opts.tracker.activeStreams;
    },
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
        // Last to go, so that probes see NOT_SERVING while calls drain.
        await healthThread?.close();
      })();
      return stopping;
    },
  };
}

/** Binds `host:port` (port 0: any free one) and returns the bound address; a failure is a ListenError naming `setting`. */
async function bind(server: Server, host: string, port: number, credentials: ServerCredentials, setting: string): Promise<string> {
  const target = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(target, credentials, (err, p) => (err ? reject(new ListenError(setting, target, listenProblem(err), { cause: err })) : resolve(p))),
  );
  return host.includes(":") ? `[${host}]:${bound}` : `${host}:${bound}`;
}

function credentialsFor(tls: GrpcServerOptions["tls"]): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure();
  return ServerCredentials.createSsl(tls.clientCa ?? null, [{ private_key: tls.key, cert_chain: tls.cert }], Boolean(tls.clientCa));
}

/**
 * grpc-js writes its own lines (`E No address added …`) to stderr, outside
 * the JSON log; what it reports we report ourselves, so its lines go to the
 * log at debug level, as JSON. Process-wide, as grpc-js's logger is.
 */
export function routeGrpcLogs(log: Logger): void {
  const write = (...args: unknown[]) => log.debug("grpc-js", { message: args.map(String).join(" ") });
  setLogger({ error: write, info: write, debug: write });
}
