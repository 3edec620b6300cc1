import fs from "node:fs";
import path from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { ListenError } from "../common/listen-error.js";
import { ConfigError, formatProblem, formatProblems, loadConfigFile } from "../config/load.js";
import type { KubedriverConfig } from "../config/types.js";
import { parseListen } from "../config/validate.js";
import { startKubedriver, type Kubedriver } from "../app.js";
import { kubeconfigProblems } from "../core/accounts/resolve.js";
import { routeGrpcLogs } from "../grpc/server.js";
import { Logger, SecretRegistry, type LogLevel } from "../observability/logger.js";
import { startTracing } from "../observability/tracing.js";
import { emulatorUsage, mainUsage, serveUsage } from "./usage.js";
import { version } from "./version.js";

/** Thrown for bad command lines: usage on stderr, exit 2. */
class UsageError extends Error {
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
  }
}

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Resolves when the process is asked to stop (SIGTERM/SIGINT). */
  stopRequested: Promise<string>;
  /** Registers what to do when the process is asked to re-read its config (SIGHUP). */
  onReloadRequested?: (reload: () => void) => void;
}

/** Runs the CLI and resolves to the process exit code. */
export async function runCli(argv: string[], io: Io): Promise<number> {
  const first = argv[0] ?? "";
  const [command, ...rest] = first && !first.startsWith("-") ? argv : ["serve", ...argv];
  try {
    if (["help", "--help", "-h"].includes(first)) {
      io.stdout(mainUsage);
      return 0;
    }
    if (["version", "--version", "-V"].includes(first)) {
      io.stdout(`kubedriver ${version()}\n`);
      return 0;
    }
    if (command === "serve") return await serve(rest, io);
    if (command === "emulator") return await emulator(rest, io);
    throw new UsageError(`unknown command "${command}"`, mainUsage);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`kubedriver: ${err.message}\n\n${err.usage}`);
      return 2;
    }
    if (err instanceof ConfigError) {
      // One problem, one line: what a log collector shows of a crash-looping pod.
      const only = err.problems.length === 1 ? err.problems[0]! : undefined;
      io.stderr(
        only
          ? `kubedriver: invalid config ${err.source}: ${formatProblem(only)}\n`
          : `kubedriver: invalid config ${err.source}:\n${formatProblems(err.problems).map((line) => `  ${line}`).join("\n")}\n`,
      );
      return 1;
    }
    throw err;
  }
}

function parse<T extends NonNullable<ParseArgsConfig["options"]>>(args: string[], options: T, usage: string) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err), usage);
  }
}

async function serve(args: string[], io: Io): Promise<number> {
  const flags = parse(
    args,
    {
      config: { type: "string" },
      listen: { type: "string" },
      "metrics-listen": { type: "string" },
      "log-level": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    serveUsage,
  );
  if (flags.help) {
    io.stdout(serveUsage);
    return 0;
  }
  const [levelFrom, levelGiven] = flags["log-level"] !== undefined ? ["--log-level", flags["log-level"]] : ["KUBEDRIVER_LOG_LEVEL", io.env.KUBEDRIVER_LOG_LEVEL];
  const level = (levelGiven || "info") as LogLevel;
  if (!["debug", "info", "warn", "error"].includes(level)) throw new UsageError(`${levelFrom}: unknown log level "${level}"`, serveUsage);
  const [listenFrom, listenGiven] = flags.listen !== undefined ? ["--listen", flags.listen] : ["KUBEDRIVER_LISTEN", io.env.KUBEDRIVER_LISTEN || undefined];
  const listen = listenGiven === undefined ? undefined : parseListen(listenGiven);
  if (listenGiven !== undefined && !listen) throw new UsageError(`${listenFrom} must be HOST:PORT, got "${listenGiven}"`, serveUsage);
  const [metricsFrom, metricsGiven] = flags["metrics-listen"] !== undefined ? ["--metrics-listen", flags["metrics-listen"]] : ["KUBEDRIVER_METRICS_LISTEN", io.env.KUBEDRIVER_METRICS_LISTEN || undefined];
  const metricsListen = metricsGiven === undefined ? undefined : parseListen(metricsGiven);
  if (metricsGiven !== undefined && !metricsListen) throw new UsageError(`${metricsFrom} must be HOST:PORT, got "${metricsGiven}"`, serveUsage);

  const secrets = new SecretRegistry();
  const log = new Logger({ level, secrets, write: (line) => io.stdout(line + "\n") });
  const configFile = flags.config ?? io.env.KUBEDRIVER_CONFIG;

  let config: KubedriverConfig;
  let closeDemo = async () => {};
  if (configFile) {
    config = loadConfigFile(configFile, { checkAccount: kubeconfigProblems });
    log.info("starting kubedriver", { config: configFile });
  } else {
    // Loaded only here: a served config never pays for the emulator's modules at start-up.
    const { startDemo } = await import("./demo.js");
    const demo = await startDemo(listen ?? { host: "127.0.0.1", port: 7002 });
    config = demo.config;
    closeDemo = () => demo.emulator.close();
    log.info("no config given: serving a demo account on an embedded Kubernetes API emulator (a test double, not a cluster)", {
      emulator: demo.emulator.url,
      kubeconfig: demo.kubeconfigFile,
    });
  }
  if (listen) config.server = { ...config.server, ...listen };
  if (metricsListen) config.server = { ...config.server, metricsListen };
  for (const r of config.dockerRegistry.accounts) secrets.add(r.password);
  if (!config.server.tls && !isLoopback(config.server.host)) {
    log.warn("serving without TLS on a non-loopback address: anyone who can reach it can call kubedriver", {
      host: config.server.host,
    });
  }

  routeGrpcLogs(log);
  const tracing = await startTracing(io.env, log);
  let app: Kubedriver;
  try {
    app = await startKubedriver(config, log, { source: configFile ?? "built-in demo config", configFile, secrets });
  } catch (err) {
    await tracing?.shutdown();
    await closeDemo();
    if (!(err instanceof ListenError)) throw err;
    log.error(`${err.message}; ${listenAdvice(err)}`, { address: err.address, setting: err.setting });
    return 1;
  }
  io.onReloadRequested?.(() => void app.reload("SIGHUP"));
  log.info("serving", {
    address: app.grpc.address,
    ...(app.grpc.healthAddress ? { healthAddress: app.grpc.healthAddress } : {}),
    ...(app.metrics ? { metricsAddress: app.metrics.address } : {}),
    accounts: config.kubernetes.accounts.map((a) => a.name),
  });

  const signal = await io.stopRequested;
  log.info("shutting down", { signal, graceSeconds: config.server.shutdownGraceSeconds });
  await app.stop();
  await tracing?.shutdown();
  await closeDemo();
  log.info("stopped");
  return 0;
}

/** What to do about a port that would not open. */
function listenAdvice(err: ListenError): string {
  const busy = err.problem === "address already in use";
  if (err.setting === "server.listen") {
    return `${busy ? "is another kubedriver (or `npm start`) still running? " : ""}serve on another address with --listen HOST:PORT (or KUBEDRIVER_LISTEN)`;
  }
  return `${busy ? "another process holds it; " : ""}change ${err.setting} in the config`;
}

async function emulator(args: string[], io: Io): Promise<number> {
  const flags = parse(
    args,
    { listen: { type: "string" }, "kubeconfig-out": { type: "string" }, help: { type: "boolean", short: "h" } },
    emulatorUsage,
  );
  if (flags.help) {
    io.stdout(emulatorUsage);
    return 0;
  }
  const listen = parseListen(flags.listen ?? "127.0.0.1:0");
  if (!listen) throw new UsageError(`--listen must be HOST:PORT, got "${flags.listen}"`, emulatorUsage);
  const { startEmulator } = await import("../emulator/index.js");
  const emu = await startEmulator({ host: listen.host, port: listen.port });
  const kubeconfigOut = flags["kubeconfig-out"];
  if (kubeconfigOut) {
    fs.mkdirSync(path.dirname(kubeconfigOut), { recursive: true, mode: 0o700 });
    fs.writeFileSync(kubeconfigOut, emu.kubeconfig(), { mode: 0o600 });
  }
  io.stdout(
    JSON.stringify({
      time: new Date().toISOString(),
      level: "info",
      msg: "Kubernetes API emulator listening (a test double, not a cluster)",
      url: emu.url,
      kubeconfig: flags["kubeconfig-out"] ?? null,
    }) + "\n",
  );
  await io.stopRequested;
  await emu.close();
  return 0;
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}
