import fs from "node:fs";
import path from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { afterAll, describe, expect, it } from "vitest";
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

  it("runs the emulator alone and writes a kubeconfig that reaches it", async () => {
    const out = path.join(tmp.dir, "emulator-kubeconfig");
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
