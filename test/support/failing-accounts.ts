import fs from "node:fs";
import http from "node:http";
import type net from "node:net";
import path from "node:path";
import type { TestCluster } from "./cluster.js";

/** Output every failing plugin below prints, on stdout and stderr: it must never reach a log line or a response. */
export const pluginOutput = "plugin-output-never-shown";

export const execApiVersion = "client.authentication.k8s.io/v1beta1";

/**
 * Shell scripts standing in for exec credential plugins, written into `dir`:
 * one that works (it needs the env and args the kubeconfig gives it), and one
 * per way a plugin fails. `hang` writes its process id to `hang.pid` before
 * sleeping, so a test can see it run and see it killed.
 */
export function writePlugins(dir: string, credential: { token?: string; cert?: string; key?: string }) {
  const script = (name: string, body: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o700 });
    return file;
  };
  const answer = JSON.stringify({
    apiVersion: execApiVersion,
    kind: "ExecCredential",
    status: {
      ...(credential.token ? { token: credential.token } : { clientCertificateData: credential.cert, clientKeyData: credential.key }),
      expirationTimestamp: new Date(Date.now() + 3_600_000).toISOString(),
    },
  });
  fs.writeFileSync(path.join(dir, "credential.json"), answer, { mode: 0o600 });
  return {
    works: script(
      "works.sh",
      // The kubeconfig's env and args, and the protocol version it asks for, must all reach the plugin.
      `[ "$KD_PLUGIN_ENV" = from-kubeconfig ] && [ "$1" = --from-kubeconfig ] || exit 3
echo "$KUBERNETES_EXEC_INFO" | grep -q '"apiVersion":"${execApiVersion}"' || exit 4
echo run >> "${path.join(dir, "works.runs")}"
cat "${path.join(dir, "credential.json")}"`,
    ),
    exitsNonZero: script("exit1.sh", `echo "${pluginOutput}"; echo "error: ${pluginOutput}: login expired" >&2; exit 1`),
    hangs: script("hang.sh", `echo $$ > "${path.join(dir, "hang.pid")}"; echo "${pluginOutput}" >&2; sleep 30`),
    printsGarbage: script("garbage.sh", `echo "<html>${pluginOutput}</html>"`),
    printsWrongKind: script("wrong-kind.sh", `echo '{"apiVersion":"${execApiVersion}","kind":"Secret","status":{"token":"${pluginOutput}"}}'`),
    missing: path.join(dir, "no-such-plugin"),
  };
}

/**
 * A kubeconfig for the test cluster's server whose user gets its credential
 * from `command`, as `aws eks get-token` or `gke-gcloud-auth-plugin` do.
 */
export function writeExecKubeconfig(file: string, cluster: TestCluster, command: string): string {
  const doc = JSON.parse(cluster.kubeConfig().exportConfig()) as { users: { name: string; user: unknown }[] };
  doc.users = doc.users.map((u) => ({
    name: u.name,
    user: {
      exec: { apiVersion: execApiVersion, command, args: ["--from-kubeconfig"], env: [{ name: "KD_PLUGIN_ENV", value: "from-kubeconfig" }], interactiveMode: "Never" },
    },
  }));
  fs.writeFileSync(file, JSON.stringify(doc));
  return file;
}

/** The credential of the test cluster's own user, as a plugin would print it. */
export function credentialOf(cluster: TestCluster): { token?: string; cert?: string; key?: string } {
  const user = cluster.kubeConfig().getCurrentUser()!;
  if (user.token) return { token: user.token };
  const pem = (file?: string, data?: string) => (file ? fs.readFileSync(file, "utf8") : Buffer.from(data ?? "", "base64").toString("utf8"));
  return { cert: pem(user.certFile, user.certData), key: pem(user.keyFile, user.keyData) };
}

/**
 * An HTTP server that answers every request 200 with something no Kubernetes
 * API server sends: an HTML page, or JSON cut off in the middle.
 */
export async function startGarbageServer(kind: "html" | "truncated-json"): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((_req, res) => {
    if (kind === "html") res.writeHead(200, { "content-type": "text/html" }).end("<html><body>Sign in to continue</body></html>");
    else res.writeHead(200, { "content-type": "application/json" }).end('{"kind":"Namespace","apiVersion":"v1","metadata":{"name":');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
