import { execFileSync } from "node:child_process";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfigFile, parseConfig } from "../../src/config/load.js";
import { kubeconfigProblems } from "../../src/core/accounts/resolve.js";
import { tempDir, writeKubeconfig } from "../support/kubeconfig.js";
import fs from "node:fs";

const registries = `
dockerRegistry:
  accounts:
    - name: dockerhub
      address: https://index.docker.io
      username: deploy
      password: s3cret-pass
      email: deploy@example.com
`;

function aConfig(kubernetesAccounts: string, extra = registries): string {
  return `kubernetes:\n  accounts:\n${kubernetesAccounts}\n${extra}`;
}

const prod = `    - name: prod
      kubeconfigFile: /etc/kube/prod
      dockerRegistries:
        - accountName: dockerhub`;

function problemsOf(yaml: string, opts: Parameters<typeof parseConfig>[1] = {}): string[] {
  try {
    parseConfig(yaml, { homeDir: "/home/deployer", baseDir: "/etc/kubedriver", ...opts });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.field}: ${p.description}`);
    throw err;
  }
  throw new Error("expected the config to be rejected");
}

describe("account spec defaults", () => {
  it("serves on loopback port 7002 with a 30 s health interval when nothing is said", () => {
    const config = parseConfig(aConfig(prod));
    expect(config.server).toEqual({ host: "127.0.0.1", port: 7002, shutdownGraceSeconds: 10 });
    expect(config.kubernetes).toMatchObject({
      enabled: true,
      healthCheckIntervalSeconds: 30,
      healthCheckTimeoutSeconds: 5,
      healthCheckConcurrency: 16,
    });
  });

  it("defaults the kubeconfig to ~/.kube/config, expanding ~", () => {
    const config = parseConfig(aConfig(`    - name: prod\n      dockerRegistries: [{accountName: dockerhub}]`), {
      homeDir: "/home/deployer",
    });
    expect(config.kubernetes.accounts[0]!.kubeconfigFile).toBe("/home/deployer/.kube/config");
  });

  it("resolves a relative kubeconfig path against the config file's directory", () => {
    const config = parseConfig(
      aConfig(`    - name: prod\n      kubeconfigFile: kube/prod.yaml\n      dockerRegistries: [{accountName: dockerhub}]`),
      { baseDir: "/etc/kubedriver" },
    );
    expect(config.kubernetes.accounts[0]!.kubeconfigFile).toBe(path.resolve("/etc/kubedriver/kube/prod.yaml"));
  });

  it("leaves namespaces unset so they come from the kubeconfig", () => {
    const config = parseConfig(aConfig(prod));
    expect(config.kubernetes.accounts[0]!.namespaces).toBeUndefined();
    expect(config.kubernetes.accounts[0]!.dockerRegistries[0]!.namespaces).toBeUndefined();
  });

  it("serves no Kubernetes accounts when kubernetes.enabled is false", () => {
    const config = parseConfig(`kubernetes:\n  enabled: false\n  accounts:\n${prod}\n${registries}`);
    expect(config.kubernetes.accounts).toEqual([]);
  });

  it("accepts an empty account list and an empty file", () => {
    expect(parseConfig("kubernetes:\n  accounts: []\n").kubernetes.accounts).toEqual([]);
    expect(parseConfig("").kubernetes.accounts).toEqual([]);
  });

  it("reads the listen address, IPv6 included", () => {
    expect(parseConfig(`server:\n  listen: "0.0.0.0:9000"`).server).toMatchObject({ host: "0.0.0.0", port: 9000 });
    expect(parseConfig(`server:\n  listen: "[::1]:9000"`).server).toMatchObject({ host: "::1", port: 9000 });
  });
});

describe("account spec validation", () => {
  it("names a duplicate account by its field path", () => {
    expect(problemsOf(aConfig(`${prod}\n${prod}`))).toContain('kubernetes.accounts[1].name: duplicate account name "prod"');
  });

  it("requires an account name", () => {
    expect(problemsOf(aConfig(`    - dockerRegistries: [{accountName: dockerhub}]`))).toContain(
      "kubernetes.accounts[0].name: is required",
    );
  });

  it("requires at least one docker registry per account", () => {
    expect(problemsOf(aConfig(`    - name: prod`))).toContain(
      "kubernetes.accounts[0].dockerRegistries: at least one docker registry account is required",
    );
    expect(problemsOf(aConfig(`    - name: prod\n      dockerRegistries: []`))).toHaveLength(1);
  });

  it("rejects a docker registry binding that names no configured registry account", () => {
    const problems = problemsOf(aConfig(`    - name: prod\n      dockerRegistries: [{accountName: quay}]`));
    expect(problems).toEqual([
      'kubernetes.accounts[0].dockerRegistries[0].accountName: no docker registry account named "quay" (dockerRegistry.accounts)',
    ]);
  });

  it("reports a registry account's own problem only, not again at each account that uses it", () => {
    const twoAccounts = `    - {name: prod, kubeconfigFile: /k, dockerRegistries: [{accountName: hub}]}\n    - {name: dev, kubeconfigFile: /k, dockerRegistries: [{accountName: hub}]}`;
    const registry = (entry: string) => `dockerRegistry:\n  accounts:\n    - {${entry}}\n`;
    const fields = (yaml: string) => problemsOf(aConfig(twoAccounts, yaml)).map((p) => p.split(":")[0]);
    expect(fields(registry("name: hub, address: https://index.docker.io, username: u, pasword: pw"))).toEqual([
      "dockerRegistry.accounts[0].pasword",
      "dockerRegistry.accounts[0].password",
    ]);
    expect(fields(registry("nme: hub, address: https://index.docker.io, username: u, password: pw"))).toEqual([
      "dockerRegistry.accounts[0].nme",
      "dockerRegistry.accounts[0].name",
    ]);
    expect(fields("dockerRegistry:\n  acounts:\n    - {name: hub, address: https://index.docker.io, username: u, password: pw}\n")).toEqual([
      "dockerRegistry.acounts",
    ]);
  });

  it("rejects a pull secret namespace outside the account's namespaces", () => {
    const problems = problemsOf(
      aConfig(`    - name: prod
      namespaces: [web, batch]
      dockerRegistries:
        - accountName: dockerhub
          namespaces: [web, ops]`),
    );
    expect(problems).toEqual([
      'kubernetes.accounts[0].dockerRegistries[0].namespaces[1]: namespace "ops" is not one of the account\'s namespaces',
    ]);
  });

  it("rejects namespaces that are not DNS-1123 labels, and duplicates", () => {
    const problems = problemsOf(
      aConfig(`    - name: prod\n      namespaces: [Web, ok, ok]\n      dockerRegistries: [{accountName: dockerhub}]`),
    );
    expect(problems.map((p) => p.split(":")[0])).toEqual([
      "kubernetes.accounts[0].namespaces[0]",
      "kubernetes.accounts[0].namespaces[2]",
    ]);
  });

  it("rejects an empty namespace list rather than silently using the default", () => {
    expect(problemsOf(aConfig(`    - name: prod\n      namespaces: []\n      dockerRegistries: [{accountName: dockerhub}]`))).toEqual([
      "kubernetes.accounts[0].namespaces: must not be empty when given",
    ]);
  });

  it("reports unknown keys at every level instead of ignoring them", () => {
    const problems = problemsOf(`
kubernets: {}
server:
  lisen: "1.2.3.4:5"
kubernetes:
  accounts:
    - name: prod
      namespace: [web]
      dockerRegistries: [{accountName: dockerhub, namspaces: [web]}]
dockerRegistry:
  accounts:
    - name: dockerhub
      address: https://index.docker.io
      username: deploy
      pasword: x
      password: y
`);
    expect(problems.map((p) => p.split(":")[0])).toEqual(
      expect.arrayContaining([
        "kubernets",
        "server.lisen",
        "kubernetes.accounts[0].namespace",
        "kubernetes.accounts[0].dockerRegistries[0].namspaces",
        "dockerRegistry.accounts[0].pasword",
      ]),
    );
    expect(problems.every((p) => p.includes("unknown key"))).toBe(true);
  });

  it("checks types and ranges", () => {
    const problems = problemsOf(`
server:
  listen: "localhost:70000"
  shutdownGraceSeconds: -1
kubernetes:
  enabled: "yes"
  healthCheckIntervalSeconds: 0
  healthCheckConcurrency: 2.5
  accounts: {}
`);
    expect(problems.map((p) => p.split(":")[0])).toEqual([
      "server.listen",
      "server.shutdownGraceSeconds",
      "kubernetes.enabled",
      "kubernetes.healthCheckIntervalSeconds",
      "kubernetes.healthCheckConcurrency",
      "kubernetes.accounts",
    ]);
  });

  it("requires a registry password, or a password file, but not both", () => {
    const registry = (fields: string) => `dockerRegistry:\n  accounts:\n    - name: hub\n      address: a\n      username: u\n${fields}`;
    expect(problemsOf(registry(""))).toEqual(["dockerRegistry.accounts[0].password: is required (or passwordFile)"]);
    expect(problemsOf(registry("      password: p\n      passwordFile: /f"))).toEqual([
      "dockerRegistry.accounts[0].passwordFile: give either password or passwordFile, not both",
    ]);
  });

  it("rejects registry bindings when docker registries are disabled", () => {
    const problems = problemsOf(aConfig(prod, `dockerRegistry:\n  enabled: false\n`));
    expect(problems[0]).toMatch(/^kubernetes\.accounts\[0\]\.dockerRegistries\[0\]\.accountName: .*dockerRegistry\.enabled is false/);
  });

  it("reports every problem at once", () => {
    const problems = problemsOf(aConfig(`    - name: prod\n    - name: prod\n      dockerRegistries: [{accountName: nope}]`));
    expect(problems.length).toBe(3);
  });

  it("reports YAML syntax errors with their line", () => {
    const problems = problemsOf("kubernetes:\n  accounts: [\n");
    expect(problems[0]).toMatch(/YAML line \d+/);
  });
});

describe("loading a config file", () => {
  const tmp = tempDir();
  afterAll(tmp.cleanup);

  it("reads the registry password from passwordFile, without its trailing newline", () => {
    fs.writeFileSync(path.join(tmp.dir, "pw"), "from-file-pass\n");
    const file = path.join(tmp.dir, "config.yaml");
    fs.writeFileSync(file, aConfig(prod, registries.replace("password: s3cret-pass", "passwordFile: pw")));
    expect(loadConfigFile(file).dockerRegistry.accounts[0]!.password).toBe("from-file-pass");
  });

  it("names an unreadable password file without printing anything from it", () => {
    const file = path.join(tmp.dir, "config2.yaml");
    fs.writeFileSync(file, aConfig(prod, registries.replace("password: s3cret-pass", "passwordFile: missing")));
    expect(() => loadConfigFile(file)).toThrow(/dockerRegistry\.accounts\[0\]\.passwordFile: cannot read ".*missing" \(ENOENT\)/);
  });

  it("names kubeconfig problems in the same report as the file's own", () => {
    const kubeconfig = writeKubeconfig(path.join(tmp.dir, "kubeconfig"));
    const file = path.join(tmp.dir, "kubeconfig-problems.yaml");
    fs.writeFileSync(
      file,
      aConfig(
        [
          `    - {name: ok, kubeconfigFile: ${kubeconfig}, dockerRegistries: [{accountName: dockerhub}]}`,
          `    - {name: bob, kubeconfigFile: ${kubeconfig}, user: bob, dockerRegistries: [{accountName: dockerhub}]}`,
          `    - {name: gone, kubeconfigFile: ${path.join(tmp.dir, "missing")}, dockerRegistries: [{accountName: dockerhub}]}`,
          `    - {name: typo, kubeconfigFile: ${kubeconfig}, namspaces: [a], dockerRegistries: [{accountName: dockerhub}]}`,
        ].join("\n"),
      ),
    );
    let problems: string[] = [];
    try {
      loadConfigFile(file, { checkAccount: kubeconfigProblems });
    } catch (err) {
      problems = (err as ConfigError).problems.map((p) => `${p.field}: ${p.description}`);
    }
    expect(problems.map((p) => p.split(":")[0])).toEqual([
      "kubernetes.accounts[3].namspaces",
      "kubernetes.accounts[1].user",
      "kubernetes.accounts[2].kubeconfigFile",
    ]);
    expect(problems[1]).toContain(`account "bob": user "bob" is not in kubeconfig`);
    expect(problems[2]).toMatch(/account "gone": cannot load kubeconfig ".*missing" \(ENOENT\)/);
  });

  it("names a missing config file", () => {
    expect(() => loadConfigFile(path.join(tmp.dir, "nope.yaml"))).toThrow(/cannot read config file .*nope\.yaml.*ENOENT/);
  });

  /** The problems of loading `file`, and how long it took to say so. */
  function refusal(file: string): { problems: string[]; ms: number } {
    const started = performance.now();
    try {
      loadConfigFile(file);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      return { problems: err.problems.map((p) => `${p.field}: ${p.description}`), ms: performance.now() - started };
    }
    throw new Error("expected the config to be rejected");
  }

  it("refuses a config that is a FIFO, a device or past 512 KiB at once, naming it", () => {
    const fifo = path.join(tmp.dir, "config.fifo");
    execFileSync("mkfifo", [fifo]);
    const sparse = path.join(tmp.dir, "sparse.yaml");
    execFileSync("truncate", ["-s", "1G", sparse]);
    const keys = path.join(tmp.dir, "keys.yaml");
    fs.writeFileSync(keys, Array.from({ length: 400_000 }, (_, i) => `k${i}: v`).join("\n"));
    for (const [file, problem] of [
      [fifo, "not a regular file: a FIFO"],
      ["/dev/zero", "not a regular file: a character device"],
      [sparse, "larger than 512 KiB"],
      [keys, "larger than 512 KiB"],
    ]) {
      const { problems, ms } = refusal(file!);
      expect(problems).toEqual([`: cannot read config file "${file}" (${problem})`]);
      expect(ms).toBeLessThan(2000);
    }
  });

  it("refuses a config of nothing but keys at its bound within 2 s, naming where it stopped", () => {
    const file = path.join(tmp.dir, "bound.yaml");
    let text = "";
    for (let i = 0; text.length < 512 * 1024 - 20; i++) text += `k${i}: v\n`;
    fs.writeFileSync(file, text);
    const { problems, ms } = refusal(file);
    expect(problems).toEqual([expect.stringMatching(/^: YAML line \d+, column \d+: more than 100000 tokens \(keys, values, punctuation\)$/)]);
    expect(ms).toBeLessThan(2000);
  });

  it("validates a config just short of the token bound within 2 s and shows its first 50 problems", () => {
    const file = path.join(tmp.dir, "many-keys.yaml");
    fs.writeFileSync(file, Array.from({ length: 13_000 }, (_, i) => `k${i}: v`).join("\n"));
    const started = performance.now();
    const message = (() => {
      try {
        loadConfigFile(file);
      } catch (err) {
        return (err as Error).message;
      }
    })()!;
    expect(performance.now() - started).toBeLessThan(2000);
    expect(message.split("\n")).toHaveLength(1 + 50 + 1);
    expect(message).toMatch(/\n\(12950 more problems\)$/);
  });

  it("reports invalid YAML by line and column, never quoting the file", () => {
    const file = path.join(tmp.dir, "broken.yaml");
    fs.writeFileSync(file, `dockerRegistry:\n  accounts:\n    - {name: hub, password: "sk-live-0123456789abcdef\n      username: u}\n`);
    const { problems } = refusal(file);
    expect(problems.length).toBeGreaterThan(0);
    for (const p of problems) expect(p).toMatch(/^: YAML line \d+, column \d+: [a-z ,()]+$/);
    expect(problems.join("\n")).not.toContain("sk-live");
  });

  it("refuses a 66 MB password file instead of sending it to the cluster as a pull secret", () => {
    const big = path.join(tmp.dir, "big-password");
    execFileSync("truncate", ["-s", "66M", big]);
    const file = path.join(tmp.dir, "config-big-password.yaml");
    fs.writeFileSync(file, aConfig(prod, registries.replace("password: s3cret-pass", `passwordFile: ${big}`)));
    const { problems, ms } = refusal(file);
    expect(problems).toEqual([`dockerRegistry.accounts[0].passwordFile: cannot read "${big}" (larger than 64 KiB)`]);
    expect(ms).toBeLessThan(2000);
  });
});

describe("transport security and permissions", () => {
  const tmp = tempDir();
  afterAll(tmp.cleanup);
  const file = (name: string) => {
    fs.writeFileSync(path.join(tmp.dir, name), "x");
    return path.join(tmp.dir, name);
  };

  it("reads the health-only probe port", () => {
    expect(parseConfig(`server: {healthListen: "0.0.0.0:7003"}\n${aConfig(prod)}`).server.healthListen).toEqual({ host: "0.0.0.0", port: 7003 });
    expect(problemsOf(`server: {healthListen: "7003"}\n${aConfig(prod)}`)).toEqual(['server.healthListen: must be HOST:PORT with a port from 1 to 65535, got "7003"']);
  });

  it("reads TLS files, the tokens file and account permissions, resolving paths against the config's directory", () => {
    const [cert, key, ca, tokens] = [file("tls.crt"), file("tls.key"), file("ca.crt"), file("tokens.yaml")];
    const config = parseConfig(
      `server:
  tls: {certFile: tls.crt, keyFile: tls.key, clientCaFile: ca.crt}
  auth: {tokensFile: tokens.yaml}
${aConfig(`${prod}\n      permissions: {READ: [viewers], WRITE: [deployers]}`)}`,
      { baseDir: tmp.dir },
    );
    expect(config.server.tls).toEqual({ certFile: cert, keyFile: key, clientCaFile: ca });
    expect(config.server.auth).toEqual({ tokensFile: tokens });
    expect(config.kubernetes.accounts[0]!.permissions).toEqual({ read: ["viewers"], write: ["deployers"] });
  });

  it("leaves an account without permissions open and a WRITE-only list empty for READ", () => {
    const config = parseConfig(aConfig(`${prod}\n      permissions: {WRITE: [deployers]}`));
    expect(config.kubernetes.accounts[0]!.permissions).toEqual({ read: [], write: ["deployers"] });
    expect(parseConfig(aConfig(prod)).kubernetes.accounts[0]!.permissions).toBeUndefined();
  });

  it("names missing and unreadable TLS and token files, and malformed permissions", () => {
    expect(
      problemsOf(`server:
  tls: {certFile: nope.crt, clientCaFile: 7}
  auth: {}
${aConfig(`${prod}\n      permissions: {READ: viewers, ADMIN: [x]}`)}`),
    ).toEqual([
      'server.tls.certFile: cannot read "/etc/kubedriver/nope.crt" (ENOENT)',
      "server.tls.keyFile: is required",
      "server.tls.clientCaFile: must be a string, got 7",
      "server.auth.tokensFile: is required",
      "kubernetes.accounts[0].permissions.ADMIN: unknown key (allowed: READ, WRITE)",
      'kubernetes.accounts[0].permissions.READ: must be a list, got "viewers"',
    ]);
  });

  it("stops start-up on a tokens file that is not a list of {token, name, groups}", async () => {
    const { startKubedriver } = await import("../../src/app.js");
    const { silentLogger } = await import("../../src/observability/logger.js");
    fs.writeFileSync(path.join(tmp.dir, "bad-tokens.yaml"), "- {token: short, name: x}\n", { mode: 0o600 });
    const config = parseConfig(`server: {listen: "127.0.0.1:0", auth: {tokensFile: bad-tokens.yaml}}\n${aConfig("")}`, { baseDir: tmp.dir });
    await expect(startKubedriver(config, silentLogger)).rejects.toThrow(/server\.auth\.tokensFile: tokens file ".*bad-tokens\.yaml": \[0\]\.token: must be a string of at least 16 characters/);
  });
});
