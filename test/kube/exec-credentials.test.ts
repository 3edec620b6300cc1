import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findKubedriverError } from "../../src/common/errors.js";
import { KubeClient } from "../../src/kube/client.js";
import { parseExecCredential, type ExecCredentialOptions } from "../../src/kube/exec-credentials.js";
import { resolveKubeconfig } from "../../src/kube/kubeconfig.js";
import { tempDir } from "../support/kubeconfig.js";

// The exec credential authenticator and the response check, against a bare
// HTTP server that records the Authorization header of every request and
// answers what the test asks: a Namespace, or garbage.
const tmp = tempDir();
const seenAuthorization: string[] = [];
let answer: { type?: string; body: string } = { type: "application/json", body: '{"kind":"Namespace","metadata":{"name":"ok"}}' };
let server: http.Server;
let url: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seenAuthorization.push(req.headers.authorization ?? "");
    res.writeHead(200, answer.type ? { "content-type": answer.type } : {}).end(answer.body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
  tmp.cleanup();
});

const apiVersion = "client.authentication.k8s.io/v1";
let files = 0;

/** A kubeconfig whose user is `user`, against the test server; returns the file. */
function kubeconfigWith(user: Record<string, unknown>): string {
  const file = path.join(tmp.dir, `kubeconfig-${files++}`);
  fs.writeFileSync(
    file,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      "current-context": "x",
      clusters: [{ name: "c", cluster: { server: url, "insecure-skip-tls-verify": true } }],
      users: [{ name: "u", user }],
      contexts: [{ name: "x", context: { cluster: "c", user: "u" } }],
    }),
  );
  return file;
}

/** A plugin script that counts its runs in `<name>.runs`, then runs `body`. */
function plugin(name: string, body: string): { command: string; runs: () => number } {
  const command = path.join(tmp.dir, `${name}.sh`);
  const runs = path.join(tmp.dir, `${name}.runs`);
  fs.writeFileSync(command, `#!/bin/sh\necho run >> "${runs}"\n${body}\n`, { mode: 0o700 });
  return { command, runs: () => (fs.existsSync(runs) ? fs.readFileSync(runs, "utf8").trim().split("\n").length : 0) };
}

const credential = (status: Record<string, unknown>) => `echo '${JSON.stringify({ apiVersion, kind: "ExecCredential", status })}'`;

function clientFor(file: string, options: Partial<ExecCredentialOptions> = {}): KubeClient {
  const { resolved, problems } = resolveKubeconfig(file, {}, options);
  expect(problems).toEqual([]);
  return new KubeClient("prod", resolved!.kubeConfig, { requestTimeoutMs: 5_000, backoffMs: 1, maxBackoffMs: 2 });
}

const readNamespace = (client: KubeClient) =>
  client.call({ verb: "get", kind: "namespace", name: "ok" }, (o) => client.core.readNamespace({ name: "ok" }, o));

async function failureOf(p: Promise<unknown>) {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  const core = findKubedriverError(err);
  expect(core, String(err)).toBeDefined();
  return core!;
}

describe("an exec credential plugin", () => {
  it("runs once for concurrent requests, and its token is used until its expirationTimestamp", async () => {
    const p = plugin("shared", `sleep 0.2\n${credential({ token: "exec-token-1", expirationTimestamp: new Date(Date.now() + 3_600_000).toISOString() })}`);
    const client = clientFor(kubeconfigWith({ exec: { apiVersion, command: p.command } }));
    await Promise.all(Array.from({ length: 10 }, () => readNamespace(client)));
    await readNamespace(client);
    expect(p.runs()).toBe(1);
    expect(seenAuthorization.slice(-11)).toEqual(Array(11).fill("Bearer exec-token-1"));
  });

  it("runs again once the credential has expired", async () => {
    const p = plugin("expired", credential({ token: "exec-token-2", expirationTimestamp: new Date(Date.now() - 1_000).toISOString() }));
    const client = clientFor(kubeconfigWith({ exec: { apiVersion, command: p.command } }));
    await readNamespace(client);
    await readNamespace(client);
    expect(p.runs()).toBe(2);
  });

  it("printing past the output bound is killed and fails the call", async () => {
    const p = plugin("chatty", "head -c 1000000 /dev/zero");
    const core = await failureOf(readNamespace(clientFor(kubeconfigWith({ exec: { apiVersion, command: p.command } }), { maxOutputBytes: 4096 })));
    expect(core).toMatchObject({ kind: "Unavailable", reason: "CREDENTIAL_PLUGIN_FAILED" });
    expect(core.message).toBe(`account "prod": get namespace "ok": the kubeconfig's exec credential plugin printed more than 4096 bytes`);
  });

  it("failing is answered from memory for a moment, not by running it for every retry", async () => {
    const p = plugin("fails", "exit 1");
    const client = clientFor(kubeconfigWith({ exec: { apiVersion, command: p.command } }), { failureHoldMs: 60_000 });
    await failureOf(readNamespace(client));
    await failureOf(readNamespace(client));
    expect(p.runs()).toBe(1);
  });

  it.each([
    ["without a command", { apiVersion }, "has no command"],
    ["without an apiVersion", { command: "/bin/true" }, "has apiVersion null"],
    ["that needs a terminal", { apiVersion, command: "/bin/true", interactiveMode: "Always" }, "needs an interactive terminal"],
  ])("%s is a kubeconfig problem of the account's user", (_name, exec, says) => {
    const { problems } = resolveKubeconfig(kubeconfigWith({ exec }), {});
    expect(problems).toEqual([{ field: "user", description: expect.stringContaining(says) }]);
  });
});

describe("an ExecCredential", () => {
  const parse = (doc: unknown) => () => parseExecCredential(typeof doc === "string" ? doc : JSON.stringify(doc), apiVersion, 60_000, 0);
  it.each([
    ["not JSON", "token: abc", "is not JSON"],
    ["of another kind", { apiVersion, kind: "Secret", status: { token: "t" } }, "not an ExecCredential"],
    ["of another apiVersion", { apiVersion: "client.authentication.k8s.io/v1beta1", kind: "ExecCredential", status: { token: "t" } }, "the kubeconfig asks for"],
    ["without a credential", { apiVersion, kind: "ExecCredential", status: {} }, "neither status.token"],
    ["with a certificate and no key", { apiVersion, kind: "ExecCredential", status: { token: "t", clientCertificateData: "c" } }, "without its key"],
    ["with a bad expiry", { apiVersion, kind: "ExecCredential", status: { token: "t", expirationTimestamp: "soon" } }, "not an RFC 3339 time"],
  ])("%s is refused, saying why and never what it held", (_name, doc, says) => {
    expect(parse(doc)).toThrow(says);
    try {
      parse(doc)();
    } catch (err) {
      expect((err as Error).message).not.toMatch(/abc|"t"/);
    }
  });

  it("without expirationTimestamp is kept for the fixed time", () => {
    expect(parse({ apiVersion, kind: "ExecCredential", status: { token: "t" } })()).toEqual({ token: "t", expiresAt: 60_000 });
  });
});

describe("an API server answering 200", () => {
  const client = () => clientFor(kubeconfigWith({ token: "static-token" }));
  it.each([
    ["an HTML page", { type: "text/html", body: "<html>login</html>" }, 'content type "text/html" instead of JSON'],
    ["no content type", { body: "{}" }, 'content type "none"'],
    ["truncated JSON", { type: "application/json", body: '{"kind":"Namespace","meta' }, "not valid JSON"],
    ["a JSON array", { type: "application/json", body: "[1,2]" }, "not a Kubernetes object"],
    ["an object without kind", { type: "application/json", body: '{"items":5}' }, "not a Kubernetes object"],
  ])("with %s is UNAVAILABLE (INVALID_RESPONSE), never a success or INTERNAL", async (_name, body, says) => {
    answer = body;
    try {
      const core = await failureOf(readNamespace(client()));
      expect(core).toMatchObject({ kind: "Unavailable", reason: "INVALID_RESPONSE" });
      expect(core.message).toContain(says);
    } finally {
      answer = { type: "application/json", body: '{"kind":"Namespace","metadata":{"name":"ok"}}' };
    }
  });
});

describe("a credential file the kubeconfig names", () => {
  it("removed after start-up fails the account's calls as UNAVAILABLE (CREDENTIALS_UNREADABLE)", async () => {
    const cert = path.join(tmp.dir, "client.crt");
    const key = path.join(tmp.dir, "client.key");
    fs.writeFileSync(cert, "not used");
    fs.writeFileSync(key, "not used");
    const client = clientFor(kubeconfigWith({ "client-certificate": cert, "client-key": key }));
    fs.rmSync(cert);
    const core = await failureOf(readNamespace(client));
    expect(core).toMatchObject({ kind: "Unavailable", reason: "CREDENTIALS_UNREADABLE" });
    expect(core.message).toContain("(ENOENT)");
  });
});
