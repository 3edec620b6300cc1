import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../../src/config/load.js";
import { resolveAccounts } from "../../../src/core/accounts/resolve.js";
import { pullSecretNames } from "../../../src/core/accounts/account.js";
import { tempDir, writeKubeconfig } from "../../support/kubeconfig.js";

const tmp = tempDir();
afterAll(tmp.cleanup);

const kubeconfig = writeKubeconfig(path.join(tmp.dir, "several-contexts"), {
  currentContext: "staging",
  clusters: [
    { name: "staging-cluster", server: "https://staging.example.com:6443" },
    { name: "prod-cluster", server: "https://prod.example.com:6443" },
  ],
  users: [{ name: "staging-user" }, { name: "prod-admin" }],
  contexts: [
    { name: "staging", cluster: "staging-cluster", user: "staging-user", namespace: "team-a" },
    { name: "prod", cluster: "prod-cluster", user: "prod-admin" },
  ],
});
const noNamespace = writeKubeconfig(path.join(tmp.dir, "no-namespace"), {
  currentContext: "prod",
  clusters: [{ name: "prod-cluster", server: "https://prod.example.com:6443" }],
  users: [{ name: "prod-admin" }],
  contexts: [{ name: "prod", cluster: "prod-cluster", user: "prod-admin" }],
});

function accountsFor(account: string) {
  return resolveAccounts(
    parseConfig(`
kubernetes:
  accounts:
${account}
dockerRegistry:
  accounts:
    - {name: hub, address: https://index.docker.io, username: u, password: secret-pw}
    - {name: quay, address: https://quay.io, username: u, password: secret-pw2}
`),
  );
}

describe("resolving accounts against their kubeconfig", () => {
  it("takes user, cluster and namespace from the current context", () => {
    const [a] = accountsFor(`    - {name: s, kubeconfigFile: ${kubeconfig}, dockerRegistries: [{accountName: hub}]}`);
    expect(a).toMatchObject({
      context: "staging",
      cluster: "staging-cluster",
      user: "staging-user",
      server: "https://staging.example.com:6443",
      namespaces: ["team-a"],
    });
  });

  it("uses the named cluster and user instead of the current context's", () => {
    const [a] = accountsFor(
      `    - {name: p, kubeconfigFile: ${kubeconfig}, cluster: prod-cluster, user: prod-admin, dockerRegistries: [{accountName: hub}]}`,
    );
    expect(a).toMatchObject({ cluster: "prod-cluster", user: "prod-admin", server: "https://prod.example.com:6443" });
    expect(a!.kube.kubeConfig.getCurrentUser()?.name).toBe("prod-admin");
    expect(a!.kube.kubeConfig.getCurrentCluster()?.server).toBe("https://prod.example.com:6443");
  });

  it("defaults namespaces to [default] when the context has none", () => {
    const [a] = accountsFor(`    - {name: p, kubeconfigFile: ${noNamespace}, dockerRegistries: [{accountName: hub}]}`);
    expect(a!.namespaces).toEqual(["default"]);
  });

  it("prefers the spec's namespaces over the context's", () => {
    const [a] = accountsFor(
      `    - {name: s, kubeconfigFile: ${kubeconfig}, namespaces: [web, batch], dockerRegistries: [{accountName: hub}]}`,
    );
    expect(a!.namespaces).toEqual(["web", "batch"]);
  });

  it("gives each namespace the pull secrets of the registries bound to it", () => {
    const [a] = accountsFor(`    - name: s
      kubeconfigFile: ${kubeconfig}
      namespaces: [web, batch]
      dockerRegistries:
        - accountName: hub
        - accountName: quay
          namespaces: [web]`);
    expect(pullSecretNames(a!, "web")).toEqual(["hub", "quay"]);
    expect(pullSecretNames(a!, "batch")).toEqual(["hub"]);
  });

  it("reports a user or cluster missing from the kubeconfig, naming the account and the entry", () => {
    let error: ConfigError | undefined;
    try {
      accountsFor(
        `    - {name: p, kubeconfigFile: ${kubeconfig}, cluster: nope-cluster, user: ghost, dockerRegistries: [{accountName: hub}]}`,
      );
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.problems).toEqual([
      { field: "kubernetes.accounts[0].cluster", description: expect.stringMatching(/account "p": cluster "nope-cluster" is not in kubeconfig/) },
      { field: "kubernetes.accounts[0].user", description: expect.stringMatching(/account "p": user "ghost" is not in kubeconfig/) },
    ]);
  });

  it("reports a plain-HTTP cluster that client-node would refuse on every request", () => {
    const plain = writeKubeconfig(path.join(tmp.dir, "plain-http"), {
      currentContext: "c",
      clusters: [{ name: "plain", server: "http://127.0.0.1:8080", skipTLSVerify: false }],
      users: [{ name: "u" }],
      contexts: [{ name: "c", cluster: "plain", user: "u" }],
    });
    expect(() => accountsFor(`    - {name: p, kubeconfigFile: ${plain}, dockerRegistries: [{accountName: hub}]}`)).toThrow(
      /kubernetes\.accounts\[0\]\.cluster: account "p": cluster "plain" .* plain-HTTP server \(http:\/\/127\.0\.0\.1:8080\); .*insecure-skip-tls-verify: true/,
    );
  });

  it("reports a missing kubeconfig file", () => {
    expect(() => accountsFor(`    - {name: p, kubeconfigFile: ${tmp.dir}/absent, dockerRegistries: [{accountName: hub}]}`)).toThrow(
      /kubernetes\.accounts\[0\]\.kubeconfigFile: account "p": cannot load kubeconfig .*absent/,
    );
  });

  it("checks pull secret namespaces against namespaces that came from the kubeconfig", () => {
    expect(() =>
      accountsFor(`    - name: s
      kubeconfigFile: ${kubeconfig}
      dockerRegistries:
        - accountName: hub
          namespaces: [web]`),
    ).toThrow(/dockerRegistries\[0\]\.namespaces\[0\]: namespace "web" is not one of account "s"'s namespaces \(team-a\)/);
  });
});
