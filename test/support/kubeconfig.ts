import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/** A temporary directory removed by the returned cleanup. */
export function tempDir(prefix = "kubedriver-test-"): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export interface KubeconfigFixture {
  currentContext?: string;
  contexts?: { name: string; cluster: string; user: string; namespace?: string }[];
  /** TLS verification is skipped unless `skipTLSVerify: false`. */
  clusters?: { name: string; server: string; skipTLSVerify?: boolean }[];
  users?: { name: string; token?: string }[];
}

/** Writes a kubeconfig with several contexts; defaults to one context `main`. */
export function writeKubeconfig(file: string, fixture: KubeconfigFixture = {}): string {
  const clusters = fixture.clusters ?? [{ name: "main-cluster", server: "https://127.0.0.1:6443" }];
  const users = fixture.users ?? [{ name: "main-user", token: "t0ken-for-tests" }];
  const contexts = fixture.contexts ?? [{ name: "main", cluster: clusters[0]!.name, user: users[0]!.name }];
  const doc = {
    apiVersion: "v1",
    kind: "Config",
    "current-context": fixture.currentContext ?? contexts[0]?.name ?? "",
    clusters: clusters.map((c) => ({ name: c.name, cluster: { server: c.server, "insecure-skip-tls-verify": c.skipTLSVerify ?? true } })),
    users: users.map((u) => ({ name: u.name, user: { token: u.token ?? "t0ken-for-tests" } })),
    contexts: contexts.map((c) => ({
      name: c.name,
      context: { cluster: c.cluster, user: c.user, ...(c.namespace ? { namespace: c.namespace } : {}) },
    })),
  };
  fs.writeFileSync(file, JSON.stringify(doc, null, 2));
  return file;
}
