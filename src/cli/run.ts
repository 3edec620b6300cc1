import fs from "node:fs";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { ConfigError, formatProblem, formatProblems, loadConfigFile } from "../config/load.js";
import type { KubedriverConfig } from "../config/types.js";
import { parseListen } from "../config/validate.js";
import { startKubedriver } from "../app.js";
import { startEmulator } from "../emulator/index.js";
import { Logger, SecretRegistry, type LogLevel } from "../observability/logger.js";
import { startDemo } from "./demo.js";
import { emulatorUsage, mainUsage, serveUsage } from "./usage.js";

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
  const [command, ...rest] = argv[0] && !argv[0].startsWith("-") ? argv : ["serve", ...argv];
  try {
    if (command === "serve") return await serve(rest, io);
    if (command === "emulator") return await emulator(rest, io);
    if (command === "help") {
      io.stdout(mainUsage);
      return 0;
    }
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
      "log-level": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    serveUsage,
  );
  if (flags.help) {
    io.stdout(serveUsage);
    return 0;
  }
  const level = (flags["log-level"] ?? "info") as LogLevel;
  if (!["debug", "info", "warn", "error"].includes(level)) throw new UsageError(`unknown log level "${level}"`, serveUsage);
  const listen = flags.listen === undefined ? undefined : parseListen(flags.listen);
  if (flags.listen !== undefined && !listen) throw new UsageError(`--listen must be HOST:PORT, got "${flags.listen}"`, serveUsage);

  const secrets = new SecretRegistry();
  const log = new Logger({ level, secrets, write: (line) => io.stdout(line + "\n") });
  const configFile = flags.config ?? io.env.KUBEDRIVER_CONFIG;

  let config: KubedriverConfig;
  let closeDemo = async () => {};
  if (configFile) {
    config = loadConfigFile(configFile);
    log.info("starting kubedriver", { config: configFile });
  } else {
    const demo = await startDemo(listen ?? { host: "127.0.0.1", port: 7002 });
    config = demo.config;
    closeDemo = () => demo.emulator.close();
    log.info("no config given: serving a demo account on an embedded Kubernetes API emulator (a test double, not a cluster)", {
      emulator: demo.emulator.url,
      kubeconfig: demo.kubeconfigFile,
    });
  }
  if (listen) config.server = { ...config.server, ...listen };
  for (const r of config.dockerRegistry.accounts) secrets.add(r.password);
  if (!config.server.tls && !isLoopback(config.server.host)) {
    log.warn("serving without TLS on a non-loopback address: anyone who can reach it can call kubedriver", {
      host: config.server.host,
    });
  }

  const app = await startKubedriver(config, log, { source: configFile ?? "built-in demo config", configFile, secrets });
  io.onReloadRequested?.(() => void app.reload("SIGHUP"));
  log.info("serving", { address: app.grpc.address, accounts: config.kubernetes.accounts.map((a) => a.name) });

  const signal = await io.stopRequested;
  log.info("shutting down", { signal, graceSeconds: config.server.shutdownGraceSeconds });
  await app.stop();
  await closeDemo();
  log.info("stopped");
  return 0;
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
  const emu = await startEmulator({ host: listen.host, port: listen.port });
  if (flags["kubeconfig-out"]) fs.writeFileSync(flags["kubeconfig-out"], emu.kubeconfig(), { mode: 0o600 });
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
