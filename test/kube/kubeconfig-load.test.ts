import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { resolveKubeconfig } from "../../src/kube/kubeconfig.js";
import { tempDir } from "../support/kubeconfig.js";

const tmp = tempDir();
afterAll(tmp.cleanup);

function kubeconfig(name: string, body: string): string {
  const file = path.join(tmp.dir, name);
  fs.writeFileSync(file, body);
  return file;
}

describe("loading a kubeconfig file", () => {
  it("resolves relative certificate paths against the kubeconfig's directory, as client-node's loadFromFile does", () => {
    const file = kubeconfig(
      "relative",
      `apiVersion: v1
kind: Config
current-context: main
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:6443", certificate-authority: certs/ca.crt}
users:
- name: u
  user: {client-certificate: certs/client.crt, client-key: /abs/client.key}
contexts:
- name: main
  context: {cluster: c, user: u}
`,
    );
    const { resolved, problems } = resolveKubeconfig(file, {});
    expect(problems).toEqual([]);
    expect(resolved!.kubeConfig.getCluster("c")?.caFile).toBe(path.join(tmp.dir, "certs/ca.crt"));
    expect(resolved!.kubeConfig.getUser("u")?.certFile).toBe(path.join(tmp.dir, "certs/client.crt"));
    expect(resolved!.kubeConfig.getUser("u")?.keyFile).toBe("/abs/client.key");
  });

  it("honours YAML merge keys, as client-node's own YAML reader does", () => {
    const file = kubeconfig(
      "merge",
      `current-context: main
clusters:
- name: c
  cluster: &base {server: "https://10.0.0.1:6443", insecure-skip-tls-verify: true}
- name: d
  cluster: {<<: *base, server: "https://10.0.0.2:6443"}
users: [{name: u, user: {token: t0ken-for-tests}}]
contexts: [{name: main, context: {cluster: d, user: u}}]
`,
    );
    const { resolved } = resolveKubeconfig(file, {});
    expect(resolved?.server).toBe("https://10.0.0.2:6443");
    expect(resolved!.kubeConfig.getCluster("d")?.skipTLSVerify).toBe(true);
  });

  it("names a broken kubeconfig by line and column, never quoting the credentials in it", () => {
    const token = "eyJhbGciOiJSUzI1NiJ9.secret-part";
    const file = kubeconfig("broken", `users:\n- name: u\n  user: {token: ${token}\n- name: v\n`);
    const { problems } = resolveKubeconfig(file, {});
    expect(problems).toEqual([
      { field: "kubeconfigFile", description: expect.stringMatching(new RegExp(`^cannot load kubeconfig "${file}" \\(YAML line \\d+, column \\d+: [a-z ,()]+(; YAML line \\d+, column \\d+: [a-z ,()]+)*\\)$`)) },
    ]);
    expect(JSON.stringify(problems)).not.toContain("secret-part");
  });

  it("treats an empty kubeconfig as one without a current context", () => {
    const { problems } = resolveKubeconfig(kubeconfig("empty", ""), {});
    expect(problems.map((p) => p.field)).toEqual(["cluster", "user"]);
  });
});
