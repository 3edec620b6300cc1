import { FileReadError, readBoundedFile } from "./common/files.js";
import { ConfigError } from "./config/load.js";
import type { KubedriverConfig } from "./config/types.js";
import { TokensFileError, TokenStore } from "./core/auth/tokens.js";
import { authenticator } from "./grpc/authentication.js";
import { AccountProvisioner, type ProvisionerOptions } from "./core/accounts/provisioner.js";
import { AccountRegistry } from "./core/accounts/registry.js";
import type { AccountChanges } from "./core/accounts/changes.js";
import { ConfigReloader, type ConfigStatus } from "./core/accounts/reloader.js";
import { resolveAccounts } from "./core/accounts/resolve.js";
import type { ExecCredentialOptions } from "./kube/exec-credentials.js";
import { monitoredAccounts } from "./core/health/accounts.js";
import { NamespaceMonitor } from "./core/health/monitor.js";
import { accountsHandlers, AccountsService } from "./grpc/accounts.js";
import { CallTracker } from "./grpc/calls.js";
import { namespaceHealthHandlers, NamespaceHealthService } from "./grpc/namespace-health.js";
import { LiveViews } from "./core/server-groups/live-views.js";
import { ServiceViews } from "./core/load-balancers/live-view.js";
import { TrafficChanges } from "./core/server-groups/traffic.js";
import type { ReflectorOptions } from "./kube/reflector.js";
import { serverGroupsHandlers, ServerGroupsService } from "./grpc/server-groups.js";
import { autoscalersHandlers, AutoscalersService } from "./grpc/autoscalers.js";
import { instancesHandlers, InstancesService } from "./grpc/instances.js";
import { loadBalancersHandlers, LoadBalancersService } from "./grpc/load-balancers.js";
import { startGrpcServer, type RunningGrpcServer } from "./grpc/server.js";
import type { Logger, SecretRegistry } from "./observability/logger.js";
import { gaugeSource, type ConfigReloadOutcome } from "./observability/metrics.js";
import { startMetricsServer, type MetricsServer } from "./observability/metrics-server.js";
import { logSkippedObjectsTo } from "./observability/skipped-objects.js";

export interface Kubedriver {
  grpc: RunningGrpcServer;
  /** Prometheus /metrics, when `server.metricsListen` is set. */
  metrics?: MetricsServer;
  /** Probes every namespace once per interval; shared by every Health caller. */
  namespaceMonitor: NamespaceMonitor;
  /** One watch-fed view per account namespace; shared by every server-group read, stream and wait. */
  liveViews: LiveViews;
  /** Re-reads the config file now (SIGHUP); "unchanged" without a config file. */
  reload(trigger?: string): Promise<ConfigReloadOutcome>;
  configStatus(): ConfigStatus;
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
  /** The file `config` was read from: watched, and reloaded on `reload()`. None: the configuration is fixed. */
  configFile?: string;
  /** Tests poll watched files more often than once a second. */
  configPollIntervalMs?: number;
  /** Where registry passwords of reloaded configurations are registered, so that no log line shows them. */
  secrets?: SecretRegistry;
}

/** A client a reload replaced is closed after this long: longer than any call's deadline toward a cluster (30 s by default). */
const retiredClientGraceMs = 60_000;

export async function startKubedriver(config: KubedriverConfig, log: Logger, options: KubedriverOptions = {}): Promise<Kubedriver> {
  const resolve = (c: KubedriverConfig, previous?: (name: string) => ReturnType<AccountRegistry["get"]> | undefined) => {
    for (const r of c.dockerRegistry.accounts) options.secrets?.add(r.password);
    return resolveAccounts(c, options.configFile ?? options.source, { execCredentials: options.execCredentials, previous });
  };
  const registry = new AccountRegistry(resolve(config));
  let shutdownGraceSeconds = config.server.shutdownGraceSeconds;
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
  const namespaceMonitor = new NamespaceMonitor(monitoredAccounts(registry.list(), (name) => provisioner.idle(name)), {
    ...monitorTiming(config),
    log: log.child({ component: "namespace-monitor" }),
  });

  const liveViews = new LiveViews(() => registry.list(), options.liveViews);
  const serviceViews = new ServiceViews(() => registry.list(), options.liveViews);
  const trafficChanges = new TrafficChanges(() => registry.list(), {
    intervalMs: config.kubernetes.healthCheckIntervalSeconds * 1000,
    leaseMs: options.trafficLeaseMs,
    log: log.child({ component: "traffic-changes" }),
    views: liveViews,
  });

  const grpc = await startGrpcServer({
    host: config.server.host,
    port: config.server.port,
    log,
    tracker,
    health: config.server.healthListen,
    tls: tlsFiles,
    services: [
      {
        name: "kubedriver.v1.Accounts",
        definition: AccountsService,
        implementation: accountsHandlers(registry, provisioner, () => ({ ...configStatus(), watched: reloader !== undefined }), deps),
      },
      {
        name: "kubedriver.v1.ServerGroups",
        definition: ServerGroupsService,
        implementation: serverGroupsHandlers(registry, liveViews, trafficChanges, deps),
      },
      { name: "kubedriver.v1.LoadBalancers", definition: LoadBalancersService, implementation: loadBalancersHandlers(registry, { services: serviceViews, views: liveViews }, deps) },
      { name: "kubedriver.v1.Instances", definition: InstancesService, implementation: instancesHandlers(registry, deps) },
      { name: "kubedriver.v1.Autoscalers", definition: AutoscalersService, implementation: autoscalersHandlers(registry, liveViews, deps) },
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
  const stopLoggingSkipped = logSkippedObjectsTo(log.child({ component: "views" }));
  const unregisterGauges = [
    gaugeSource("open_streams", () => tracker.activeStreams),
    gaugeSource("admitted_calls", () => tracker.admittedCalls),
    gaugeSource("queued_calls", () => tracker.waitingCalls),
  ];
  // Every component holding per-account state follows a reload here, in one place.
  const retiring = new Set<NodeJS.Timeout>();
  const retire = (changes: AccountChanges) => {
    const inUse = new Set(registry.list().map((a) => a.kube));
    const replaced = [...changes.removed, ...changes.changed.map((c) => c.before)].map((a) => a.kube).filter((k) => !inUse.has(k));
    for (const kube of new Set(replaced)) {
      // Calls that started on the old client finish on it; its connections go once they are over.
      const t = setTimeout(() => {
        retiring.delete(t);
        kube.close();
      }, retiredClientGraceMs);
      t.unref();
      retiring.add(t);
    }
  };
  const following = registry.changes$.subscribe((changes) => {
    provisioner.apply(changes);
    namespaceMonitor.setAccounts(monitoredAccounts(registry.list(), (name) => provisioner.idle(name)));
    liveViews.start();
    serviceViews.start();
    retire(changes);
  });
  const reloader =
    options.configFile === undefined
      ? undefined
      : new ConfigReloader({
          file: options.configFile,
          initial: config,
          registry,
          resolve,
          log: log.child({ component: "config" }),
          pollIntervalMs: options.configPollIntervalMs,
          applySettings: (next, previous) => {
            shutdownGraceSeconds = next.server.shutdownGraceSeconds;
            namespaceMonitor.setTiming(monitorTiming(next));
            keptSettings(next, previous, log);
          },
        });
  const startedAt = new Date();
  const configStatus = (): ConfigStatus => reloader?.status() ?? { generation: 1, loadedAt: startedAt, source: options.source ?? "config" };

  const healthStatus = namespaceMonitor.serving$.subscribe((serving) =>
    grpc.setHealth("kubedriver.v1.Health", serving ? "SERVING" : "NOT_SERVING"),
  );
  // Provisioning first, so that the first probe round waits for the namespaces it creates.
  provisioner.start();
  namespaceMonitor.start();
  trafficChanges.start();
  liveViews.start();
  serviceViews.start();
  reloader?.start();

  return {
    grpc,
    metrics,
    namespaceMonitor,
    liveViews,
    reload: (trigger = "SIGHUP") => reloader?.reload(trigger) ?? Promise.resolve("unchanged"),
    configStatus,
    stop: async () => {
      reloader?.close();
      following.unsubscribe();
      for (const t of retiring) clearTimeout(t);
      for (const unregister of unregisterGauges) unregister();
      stopLoggingSkipped();
      healthStatus.unsubscribe();
      namespaceMonitor.stop();
      provisioner.stop();
      trafficChanges.stop();
      tokens?.close();
      await grpc.shutdown(shutdownGraceSeconds * 1000);
      // After the streams they feed have ended with UNAVAILABLE.
      await Promise.all([liveViews.stop(), serviceViews.stop()]);
      // Last: a scrape during the drain still sees it.
      await metrics?.close();
    },
  };
}

function monitorTiming(config: KubedriverConfig) {
  return {
    intervalMs: config.kubernetes.healthCheckIntervalSeconds * 1000,
    timeoutMs: config.kubernetes.healthCheckTimeoutSeconds * 1000,
    concurrency: config.kubernetes.healthCheckConcurrency,
  };
}

/**
 * Settings read once, when the port opens or the server starts: a change in
 * the file is said once and waits for a restart. Everything else (accounts,
 * registries, health checks, shutdown grace) changes live.
 */
function keptSettings(next: KubedriverConfig, previous: KubedriverConfig, log: Logger): void {
  const fixed: [string, (c: KubedriverConfig) => unknown][] = [
    ["server.listen", (c) => `${c.server.host}:${c.server.port}`],
    ["server.healthListen", (c) => c.server.healthListen && `${c.server.healthListen.host}:${c.server.healthListen.port}`],
    ["server.metricsListen", (c) => c.server.metricsListen && `${c.server.metricsListen.host}:${c.server.metricsListen.port}`],
    ["server.tls", (c) => c.server.tls],
    ["server.auth.tokensFile", (c) => c.server.auth?.tokensFile],
  ];
  for (const [setting, read] of fixed) {
    if (JSON.stringify(read(next)) === JSON.stringify(read(previous))) continue;
    log.warn(`${setting} changed in the config file; it takes effect on restart, the running value is kept`, { setting, running: read(previous) ?? null });
  }
  // The configuration in force says what runs, so the next reload compares with the running values.
  const { host, port, healthListen, metricsListen, tls, auth } = previous.server;
  next.server = { ...next.server, host, port, healthListen, metricsListen, tls, auth };
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
