import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import net from "node:net";
import { afterAll, describe, expect, it, vi } from "vitest";
import { runCli, type Io } from "../../src/cli/run.js";
import { call, clientsFor } from "../support/grpc.js";
import { tempDir, writeKubeconfig } from "../support/kubeconfig.js";

const tmp = tempDir();
afterAll(tmp.cleanup);

/** Runs the CLI in-process with captured output; `stop()` plays SIGTERM. */
function startCli(argv: string[], env: NodeJS.ProcessEnv = {}) {
  let stop!: (signal: string) => void;
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    env,
    stopRequested: new Promise<string>((resolve) => (stop = resolve)),
  };
  const exit = runCli(argv, io);
  return { exit, out, err, stop: () => stop("SIGTERM") };
}

function logLines(out: string[]): Record<string, unknown>[] {
  return out.join("").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function waitForLog(out: string[], msg: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 200; i++) {
    const line = logLines(out).find((l) => l.msg === msg);
    if (line) return line;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no "${msg}" log line in: ${out.join("")}`);
}

function writeConfig(name: string, body: string): string {
  const file = path.join(tmp.dir, name);
  fs.writeFileSync(file, body);
  return file;
}

describe("the kubedriver CLI", () => {
  it("prints usage and exits 2 on an unknown flag", async () => {
    const cli = startCli(["serve", "--bogus"]);
    expect(await cli.exit).toBe(2);
    expect(cli.err.join("")).toMatch(/Unknown option '--bogus'[\s\S]*Usage: kubedriver serve/);
  });

  it("prints usage and exits 2 on an unknown command and on a bad --listen", async () => {
    expect(await startCli(["deploy"]).exit).toBe(2);
    expect(await startCli(["serve", "--listen", "nowhere"]).exit).toBe(2);
    expect(await startCli(["emulator", "--listen", "x:99999"]).exit).toBe(2);
  });

  it("prints help for each command and exits 0", async () => {
    for (const argv of [["--help"], ["serve", "--help"], ["emulator", "-h"], ["help"]]) {
      const cli = startCli(argv);
      expect(await cli.exit).toBe(0);
      expect(cli.out.join("")).toMatch(/^Usage: kubedriver/);
    }
  });

  it("lists the commands on --help and prints its version on --version", async () => {
    for (const argv of [["--help"], ["-h"], ["help"]]) {
      const cli = startCli(argv);
      expect(await cli.exit).toBe(0);
      expect(cli.out.join("")).toMatch(/Commands:\n\s+serve\s[\s\S]*\n\s+emulator\s[\s\S]*\n\s+version\s/);
    }
    const pkg = JSON.parse(fs.readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    for (const argv of [["--version"], ["-V"], ["version"]]) {
      const cli = startCli(argv);
      expect(await cli.exit).toBe(0);
      expect(cli.out.join("")).toBe(`kubedriver ${pkg.version}\n`);
    }
  });

  it("takes the address from KUBEDRIVER_LISTEN and the level from KUBEDRIVER_LOG_LEVEL; flags win", async () => {
    const file = writeConfig("env-listen.yaml", "kubernetes:\n  accounts: []\n");
    const cli = startCli(["serve", "--config", file], { KUBEDRIVER_LISTEN: "0.0.0.0:0", KUBEDRIVER_LOG_LEVEL: "warn" });
    await waitForLog(cli.out, "serving without TLS on a non-loopback address: anyone who can reach it can call kubedriver");
    expect(logLines(cli.out).every((l) => l.level === "warn")).toBe(true);
    cli.stop();
    expect(await cli.exit).toBe(0);

    const flagsWin = startCli(["serve", "--config", file, "--listen", "127.0.0.1:0", "--log-level", "info"], { KUBEDRIVER_LISTEN: "nowhere", KUBEDRIVER_LOG_LEVEL: "loud" });
    expect(String((await waitForLog(flagsWin.out, "serving")).address)).toMatch(/^127\.0\.0\.1:\d+$/);
    flagsWin.stop();
    expect(await flagsWin.exit).toBe(0);

    for (const env of [{ KUBEDRIVER_LISTEN: "nowhere" }, { KUBEDRIVER_LOG_LEVEL: "loud" }]) {
      const bad = startCli(["serve", "--config", file], env);
      expect(await bad.exit).toBe(2);
      expect(bad.err.join("")).toContain(Object.keys(env)[0]);
    }
  });

  it("says in one JSON line that a port is in use, and what to do, with nothing from grpc-js outside the log", async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    const busy = `127.0.0.1:${(holder.address() as net.AddressInfo).port}`;
    const stray = vi.spyOn(console, "error");
    try {
      const demo = startCli(["serve", "--listen", busy]);
      expect(await demo.exit).toBe(1);
      expect(demo.err).toEqual([]);
      const failures = logLines(demo.out).filter((l) => l.level === "error");
      expect(failures).toHaveLength(1);
      expect(failures[0]).toMatchObject({ setting: "server.listen", address: busy });
      expect(String(failures[0]!.msg)).toMatch(/address already in use.*--listen HOST:PORT/);

      const file = writeConfig("busy-metrics.yaml", `server: {listen: "127.0.0.1:0", metricsListen: "${busy}"}\nkubernetes:\n  accounts: []\n`);
      const metrics = startCli(["serve", "--config", file]);
      expect(await metrics.exit).toBe(1);
      const line = logLines(metrics.out).find((l) => l.level === "error");
      expect(line).toMatchObject({ setting: "server.metricsListen" });
      expect(String(line!.msg)).toMatch(/address already in use.*change server\.metricsListen/);
      expect(stray).not.toHaveBeenCalled();
    } finally {
      stray.mockRestore();
      holder.close();
    }
  });

  it("refuses a bad config with one line per problem and no stack trace, exit 1", async () => {
    const file = writeConfig(
      "bad.yaml",
      `kubernetes:\n  accounts:\n    - {name: prod, dockerRegistries: [{accountName: hub}]}\n    - {name: prod, dockerRegistries: [{accountName: hub}]}\n`,
    );
    const cli = startCli(["serve", "--config", file]);
    expect(await cli.exit).toBe(1);
    const lines = cli.err.join("").trim().split("\n");
    expect(lines[0]).toBe(`kubedriver: invalid config ${file}:`);
    expect(lines).toContain('  kubernetes.accounts[1].name: duplicate account name "prod"');
    expect(cli.err.join("")).not.toMatch(/\bat .*\.(ts|js):\d+/);
  });

  it("names a missing kubeconfig in the same report as the config's own problems", async () => {
    const missing = path.join(tmp.dir, "no-such-kubeconfig");
    const file = writeConfig(
      "bad-and-missing.yaml",
      `kubernetes:\n  acounts: []\n  accounts:\n    - {name: prod, kubeconfigFile: ${missing}, dockerRegistries: [{accountName: hub}]}\ndockerRegistry:\n  accounts: [{name: hub, address: https://index.docker.io, username: u, password: pw}]\n`,
    );
    const cli = startCli(["serve", "--config", file]);
    expect(await cli.exit).toBe(1);
    const lines = cli.err.join("").trim().split("\n").slice(1).map((l) => l.trim().split(":")[0]);
    expect(lines).toEqual(["kubernetes.acounts", "kubernetes.accounts[0].kubeconfigFile"]);
  });

  it("reads the config from KUBEDRIVER_CONFIG, serves, and exits 0 on SIGTERM", async () => {
    const kubeconfig = writeKubeconfig(path.join(tmp.dir, "kubeconfig"));
    const file = writeConfig(
      "good.yaml",
      `kubernetes:\n  accounts: [{name: env-account, kubeconfigFile: ${kubeconfig}, namespaces: [web], dockerRegistries: [{accountName: hub}]}]\n` +
        `dockerRegistry:\n  accounts: [{name: hub, address: https://r.example.com, username: u, password: cli-secret-pw}]\n`,
    );
    const cli = startCli(["serve", "--listen", "127.0.0.1:0"], { KUBEDRIVER_CONFIG: file });
    const serving = await waitForLog(cli.out, "serving");
    const clients = clientsFor(serving.address as string);
    const res = await call(clients.accounts.listAccounts, clients.accounts, { pageSize: 0, pageToken: "" });
    expect(res.accounts.map((a) => a.name)).toEqual(["env-account"]);
    clients.close();
    cli.stop();
    expect(await cli.exit).toBe(0);
    expect(logLines(cli.out).map((l) => l.msg)).toEqual(expect.arrayContaining(["shutting down", "stopped"]));
    expect(cli.out.join("")).not.toContain("cli-secret-pw");
  });

  it("warns when serving without TLS on a non-loopback address", async () => {
    const file = writeConfig("empty.yaml", "kubernetes:\n  accounts: []\n");
    const cli = startCli(["serve", "--config", file, "--listen", "0.0.0.0:0"]);
    await waitForLog(cli.out, "serving");
    expect(logLines(cli.out).some((l) => l.level === "warn" && String(l.msg).includes("without TLS"))).toBe(true);
    cli.stop();
    expect(await cli.exit).toBe(0);
  });

  it("with no config at all, serves a demo account on an embedded emulator and says so first", async () => {
    const cli = startCli(["serve", "--listen", "127.0.0.1:0"]);
    const serving = await waitForLog(cli.out, "serving");
    expect(String(logLines(cli.out)[0]!.msg)).toMatch(/demo account on an embedded Kubernetes API emulator/);
    const clients = clientsFor(serving.address as string);
    const res = await call(clients.accounts.getAccount, clients.accounts, { account: "demo" });
    expect(res.account).toMatchObject({ name: "demo", namespaces: ["demo"] });
    clients.close();
    cli.stop();
    expect(await cli.exit).toBe(0);
    expect(cli.out.join("")).not.toContain("demo-password-not-secret");
  });

  it("serves /metrics on --metrics-listen (or KUBEDRIVER_METRICS_LISTEN), the demo too", async () => {
    const cli = startCli(["serve", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0"], { KUBEDRIVER_METRICS_LISTEN: "nowhere" });
    const serving = await waitForLog(cli.out, "serving");
    const res = await fetch(`http://${serving.metricsAddress as string}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("grpc_server_handled_total");
    cli.stop();
    expect(await cli.exit).toBe(0);
    expect(await startCli(["serve", "--listen", "127.0.0.1:0"], { KUBEDRIVER_METRICS_LISTEN: "nowhere" }).exit).toBe(2);
  });

  it("runs the emulator alone and writes a kubeconfig that reaches it, creating its folder", async () => {
    const out = path.join(tmp.dir, "not-yet", "there", "emulator-kubeconfig");
    const cli = startCli(["emulator", "--listen", "127.0.0.1:0", "--kubeconfig-out", out]);
    const line = await waitForLog(cli.out, "Kubernetes API emulator listening (a test double, not a cluster)");
    const kc = new KubeConfig();
    kc.loadFromFile(out);
    expect(kc.getCurrentCluster()?.server).toBe(line.url);
    const namespaces = await kc.makeApiClient(CoreV1Api).listNamespace();
    expect(Array.isArray(namespaces.items)).toBe(true);
    cli.stop();
    expect(await cli.exit).toBe(0);
  });
});

describe("start-up on a bad file", () => {
  const secret = "sk-live-0123456789abcdef-do-not-print";
  const file = (name: string, body: string, mode = 0o600) => {
    const at = path.join(tmp.dir, name);
    fs.writeFileSync(at, body, { mode });
    fs.chmodSync(at, mode);
    return at;
  };
  const fifo = (name: string) => {
    const at = path.join(tmp.dir, name);
    execFileSync("mkfifo", [at]);
    return at;
  };
  const sparse = (name: string, size: string) => {
    const at = path.join(tmp.dir, name);
    execFileSync("truncate", ["-s", size, at]);
    return at;
  };
  const configWith = (name: string, o: { tokensFile?: string; passwordFile?: string; kubeconfigFile?: string; certFile?: string }) =>
    file(
      name,
      `server:\n  listen: "127.0.0.1:0"\n` +
        (o.tokensFile ? `  auth: {tokensFile: ${o.tokensFile}}\n` : "") +
        (o.certFile ? `  tls: {certFile: ${o.certFile}, keyFile: ${file("tls.key", "key")}}\n` : "") +
        `kubernetes:\n  accounts: [{name: prod, kubeconfigFile: ${o.kubeconfigFile ?? writeKubeconfig(path.join(tmp.dir, "ok-kubeconfig"))}, namespaces: [web], dockerRegistries: [{accountName: hub}]}]\n` +
        `dockerRegistry:\n  accounts: [{name: hub, address: https://r.example.com, username: u, ${o.passwordFile ? `passwordFile: ${o.passwordFile}` : "password: pw"}}]\n`,
    );
  const manyKeys = () => {
    const lines: string[] = [];
    for (let i = 0; i < 400_000; i++) lines.push(`k${i}: v`);
    return lines.join("\n");
  };

  const cases: [string, () => { config: string; names: string; problem: RegExp }][] = [
    ["the config is a FIFO", () => ({ config: fifo("config.fifo"), names: "config.fifo", problem: /not a regular file: a FIFO/ })],
    ["the config is /dev/zero", () => ({ config: "/dev/zero", names: "/dev/zero", problem: /not a regular file: a character device/ })],
    ["the config is a 1 GB sparse file", () => ({ config: sparse("huge.yaml", "1G"), names: "huge.yaml", problem: /larger than 512 KiB/ })],
    ["the config has 400,000 keys", () => ({ config: file("keys.yaml", manyKeys()), names: "keys.yaml", problem: /larger than 512 KiB/ })],
    [
      "the config is invalid YAML around a password",
      () => ({ config: file("broken.yaml", `dockerRegistry:\n  accounts:\n    - {name: hub, password: ${secret}\n`), names: "broken.yaml", problem: /YAML line \d+, column \d+: [a-z]/ }),
    ],
    ["the tokens file is a FIFO", () => ({ config: configWith("t1.yaml", { tokensFile: fifo("tokens.fifo") }), names: "tokens.fifo", problem: /server\.auth\.tokensFile: .*not a regular file: a FIFO/ })],
    ["the tokens file is /dev/zero", () => ({ config: configWith("t2.yaml", { tokensFile: "/dev/zero" }), names: "/dev/zero", problem: /server\.auth\.tokensFile: .*not a regular file/ })],
    ["the tokens file is a 1 GB sparse file", () => ({ config: configWith("t3.yaml", { tokensFile: sparse("tokens.big", "1G") }), names: "tokens.big", problem: /larger than 16 KiB/ })],
    [
      "the tokens file is readable by others",
      () => ({ config: configWith("t4.yaml", { tokensFile: file("open-tokens.yaml", `- {token: ${secret}, name: a}\n`, 0o644) }), names: "open-tokens.yaml", problem: /server\.auth\.tokensFile: .*readable or writable by others \(mode 0644\)/ }),
    ],
    [
      "the tokens file is invalid YAML around a token",
      () => ({ config: configWith("t5.yaml", { tokensFile: file("broken-tokens.yaml", `- {token: ${secret}, name: [a\n`) }), names: "broken-tokens.yaml", problem: /server\.auth\.tokensFile: .*YAML line \d+, column \d+/ }),
    ],
    ["the password file is 66 MB", () => ({ config: configWith("p1.yaml", { passwordFile: sparse("password.big", "66M") }), names: "password.big", problem: /passwordFile: .*larger than 64 KiB/ })],
    ["the password file is /dev/zero", () => ({ config: configWith("p2.yaml", { passwordFile: "/dev/zero" }), names: "/dev/zero", problem: /passwordFile: .*not a regular file/ })],
    ["the kubeconfig is a FIFO", () => ({ config: configWith("k1.yaml", { kubeconfigFile: fifo("kubeconfig.fifo") }), names: "kubeconfig.fifo", problem: /kubeconfigFile: .*not a regular file: a FIFO/ })],
    ["the kubeconfig is a 1 GB sparse file", () => ({ config: configWith("k2.yaml", { kubeconfigFile: sparse("kubeconfig.big", "1G") }), names: "kubeconfig.big", problem: /kubeconfigFile: .*larger than 1 MiB/ })],
    [
      "the kubeconfig is invalid YAML around a token",
      () => ({
        config: configWith("k3.yaml", { kubeconfigFile: file("broken-kubeconfig", `users:\n- name: u\n  user: {token: ${secret}\n`) }),
        names: "broken-kubeconfig",
        problem: /kubeconfigFile: .*YAML line \d+, column \d+/,
      }),
    ],
    ["the TLS certificate is /dev/zero", () => ({ config: configWith("c1.yaml", { certFile: "/dev/zero" }), names: "/dev/zero", problem: /server\.tls\.certFile: .*not a regular file/ })],
  ];

  it.each(cases)("ends within 2 s with one line naming the path and the problem when %s, printing no secret", async (_, setUp) => {
    const { config, names, problem } = setUp();
    const started = Date.now();
    const cli = startCli(["serve", "--config", config]);
    expect(await cli.exit).toBe(1);
    expect(Date.now() - started).toBeLessThan(2000);
    const lines = cli.err.join("").trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(names);
    expect(lines[0]).toMatch(problem);
    expect(cli.err.join("") + cli.out.join("")).not.toContain(secret);
  });
});
