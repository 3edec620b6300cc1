import { FileReadError, readBoundedFile } from "./common/files.js";
import { ConfigError } from "./config/load.js";
import type { KubedriverConfig } from "./config/types.js";
import { TokensFileError, TokenStore } from "./core/auth/tokens.js";
import { authenticator } from "./grpc/authentication.js";
import { AccountProvisioner, type ProvisionerOptions } from "./core/accounts/provisioner.js";
import { AccountRegistry } from "./core/accounts/registry.js";
import { resolveAccounts } from "./core/accounts/resolve.js";
import type { ExecCredentialOptions } from "./kube/exec-credentials.js";
import { monitoredAccounts } from "./core/health/accounts.js";
import { NamespaceMonitor } from "./core/health/monitor.js";
import { accountsHandlers, AccountsService } from "./grpc/accounts.js";
import { CallTracker } from "./grpc/calls.js";
import { namespaceHealthHandlers, NamespaceHealthService } from "./grpc/namespace-health.js";
import { LiveViews } from "./core/server-groups/live-views.js";
import { TrafficChanges } from "./core/server-groups/traffic.js";
import type { ReflectorOptions } from "./kube/reflector.js";
import { serverGroupsHandlers, ServerGroupsService } from "./grpc/server-groups.js";
import { autoscalersHandlers, AutoscalersService } from "./grpc/autoscalers.js";
import { instancesHandlers, InstancesService } from "./grpc/instances.js";
import { loadBalancersHandlers, LoadBalancersService } from "./grpc/load-balancers.js";
import { startGrpcServer, type RunningGrpcServer } from "./grpc/server.js";
import type { Logger } from "./observability/logger.js";
import { gaugeSource } from "./observability/metrics.js";
import { startMetricsServer, type MetricsServer } from "./observability/metrics-server.js";

export interface Kubedriver {
  grpc: RunningGrpcServer;
  /** Prometheus /metrics, when `server.metricsListen` is set. */
  metrics?: MetricsServer;
  /** Probes every namespace once per interval; shared by every Health caller. */
  namespaceMonitor: NamespaceMonitor;
  /** One watch-fed view per account namespace; shared by every server-group read, stream and wait. */
  liveViews: LiveViews;
  /** Graceful stop: see RunningGrpcServer.shutdown. */
  stop(): Promise<void>;
}

/**
 * The composition root: resolves accounts, builds core services and serves
 * them over gRPC. Nothing here waits for a cluster, so the port opens at once.
 */
export interface KubedriverOptions {
  /** Where the config came from, for error messages. */
  source?: string;
  /** Tests shorten the retry delays for unreachable accounts. */
  provisioning?: Pick<ProvisionerOptions, "retryDelaysMs" | "concurrency">;
  /** Tests shorten how long an enable/disable may take before kubedriver completes it by itself. */
  trafficLeaseMs?: number;
  /** Tests shorten the watches' timeouts and backoff. */
  liveViews?: ReflectorOptions;
  /** Tests shorten the exec credential plugin deadline. */
  execCredentials?: Partial<ExecCredentialOptions>;
}

export async function startKubedriver(config: KubedriverConfig, log: Logger, options: KubedriverOptions = {}): Promise<Kubedriver> {
  const registry = new AccountRegistry(resolveAccounts(config, options.source, options));
  const tracker = new CallTracker();
  const tls = config.server.tls;
  const tlsFiles = tls && readTlsFiles(tls, options.source);
  const tokens = config.server.auth?.tokensFile ? loadTokens(config.server.auth.tokensFile, log, options.source) : undefined;
  const deps = {
    log,
    tracker,
    authenticate: authenticator({ tokens, clientCertificates: Boolean(tls?.clientCaFile), log }),
  };
  const provisioner = new AccountProvisioner(registry.list(), { log: log.child({ component: "provisioner" }), ...options.provisioning });
  const namespaceMonitor = new NamespaceMonitor(monitoredAccounts(registry.list()), {
    intervalMs: config.kubernetes.healthCheckIntervalSeconds * 1000,
    timeoutMs: config.kubernetes.healthCheckTimeoutSeconds * 1000,
    concurrency: config.kubernetes.healthCheckConcurrency,
    log: log.child({ component: "namespace-monitor" }),
  });

  const liveViews = new LiveViews(() => registry.list(), options.liveViews);
  const trafficChanges = new TrafficChanges(() => registry.list(), {
    intervalMs: config.kubernetes.healthCheckIntervalSeconds * 1000,
    leaseMs: options.trafficLeaseMs,
    log: log.child({ component: "traffic-changes" }),
  });

  const grpc = await startGrpcServer({
    host: config.server.host,
    port: config.server.port,
    log,
    tracker,
    health: config.server.healthListen,
    tls: tlsFiles,
    services: [
      { name: "kubedriver.v1.Accounts", definition: AccountsService, implementation: accountsHandlers(registry, provisioner, deps) },
      {
        name: "kubedriver.v1.ServerGroups",
        definition: ServerGroupsService,
        implementation: serverGroupsHandlers(registry, liveViews, trafficChanges, deps),
      },
      { name: "kubedriver.v1.LoadBalancers", definition: LoadBalancersService, implementation: loadBalancersHandlers(registry, deps) },
      { name: "kubedriver.v1.Instances", definition: InstancesService, implementation: instancesHandlers(registry, deps) },
      { name: "kubedriver.v1.Autoscalers", definition: AutoscalersService, implementation: autoscalersHandlers(registry, deps) },
      {
        name: "kubedriver.v1.Health",
        definition: NamespaceHealthService,
        implementation: namespaceHealthHandlers(registry, namespaceMonitor, deps),
      },
    ],
  });

  let metrics: MetricsServer | undefined;
  try {
    metrics = config.server.metricsListen && (await startMetricsServer(config.server.metricsListen, log));
  } catch (err) {
    await grpc.shutdown(0);
    throw err;
  }
  const unregisterGauges = [
    gaugeSource("open_streams", () => tracker.activeStreams),
    gaugeSource("admitted_calls", () => tracker.admittedCalls),
    gaugeSource("queued_calls", () => tracker.waitingCalls),
  ];

  const healthStatus = namespaceMonitor.serving$.subscribe((serving) =>
    grpc.setHealth("kubedriver.v1.Health", serving ? "SERVING" : "NOT_SERVING"),
  );
  namespaceMonitor.start();
  provisioner.start();
  trafficChanges.start();
  liveViews.start();

  return {
    grpc,
    metrics,
    namespaceMonitor,
    liveViews,
    stop: async () => {
      for (const unregister of unregisterGauges) unregister();
      healthStatus.unsubscribe();
      namespaceMonitor.stop();
      provisioner.stop();
      trafficChanges.stop();
      tokens?.close();
      await grpc.shutdown(config.server.shutdownGraceSeconds * 1000);
      // After the streams they feed have ended with UNAVAILABLE.
      await liveViews.stop();
      // Last: a scrape during the drain still sees it.
      await metrics?.close();
    },
  };
}

/** The callers' tokens; a file that cannot be used stops start-up like any config error. */
function loadTokens(file: string, log: Logger, source = "config"): TokenStore {
  try {
    return new TokenStore(file, (result) =>
      "problems" in result
        ? log.error("tokens file not reloaded; keeping the previous tokens", { file, problems: result.problems })
        : log.info("tokens file reloaded", { file, tokens: result.tokens }),
    );
  } catch (err) {
    if (!(err instanceof TokensFileError)) throw err;
    throw new ConfigError(
      source,
      err.problems.map((p) => ({ field: "server.auth.tokensFile", description: `tokens file "${file}": ${p}` })),
    );
  }
}

/** Certificate, key and CA, read once here: the config only checked that they could be read. */
function readTlsFiles(tls: NonNullable<KubedriverConfig["server"]["tls"]>, source = "config") {
  const read = (file: string, key: string) => {
    try {
      return readBoundedFile(file, "tls");
    } catch (err) {
      if (!(err instanceof FileReadError)) throw err;
      throw new ConfigError(source, [{ field: `server.tls.${key}`, description: err.message }]);
    }
  };
  return {
    cert: read(tls.certFile, "certFile"),
    key: read(tls.keyFile, "keyFile"),
    clientCa: tls.clientCaFile ? read(tls.clientCaFile, "clientCaFile") : undefined,
  };
}
