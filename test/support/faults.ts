import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import os from "node:os";
import path from "node:path";
import { Faults, type FaultEffect } from "../../src/emulator/faults.js";
import type { TestCluster } from "./cluster.js";

/**
 * A cluster whose API server misbehaves on demand: the emulator's own fault
 * switches, or on a real cluster a small proxy in front of kube-apiserver
 * that applies the same rules. Either way the faults act on the HTTP traffic
 * kubedriver sends, and `kubeconfigPath` is what kubedriver must use.
 */
export interface FaultyCluster {
  kubeconfigPath: string;
  faults: Faults;
  /** Requests that reached the API server through this cluster's faults, by verb as the API server counts them. */
  requestCount(filter: { verb: string; resource: string }): number;
  /** Closes the port (connections are refused) or opens it again. */
  refuseConnections(refuse: boolean): Promise<void>;
  close(): Promise<void>;
}

export async function startFaultyCluster(cluster: TestCluster): Promise<FaultyCluster> {
  const emulator = cluster.emulator;
  if (emulator) {
    return {
      kubeconfigPath: cluster.kubeconfigPath,
      faults: emulator.faults,
      requestCount: (filter) => emulator.requests.count(filter),
      refuseConnections: (refuse) => emulator.refuseConnections(refuse),
      close: async () => {
        emulator.faults.clear();
        await emulator.refuseConnections(false);
      },
    };
  }
  return startFaultProxy(cluster);
}

/**
 * Plain HTTP on loopback in front of the real API server; it authenticates
 * upstream with the admin kubeconfig's credentials, like `kubectl proxy`.
 */
async function startFaultProxy(cluster: TestCluster): Promise<FaultyCluster> {
  const kc = cluster.kubeConfig();
  const upstream = new URL(kc.getCurrentCluster()!.server);
  const tlsOptions: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(tlsOptions);
  const agent = new https.Agent({ ...tlsOptions, keepAlive: true } as https.AgentOptions);
  const faults = new Faults();
  const sockets = new Set<Socket>();
  const counts = new Map<string, number>();

  const server = http.createServer((req, res) => {
    const target = new URL(req.url ?? "/", upstream);
    const verb = verbOf(req.method ?? "GET", target);
    const effect = faults.effectFor(namespaceOf(target.pathname), verb, resourceOf(target.pathname));
    const counted = `${verb} ${resourceOf(target.pathname)}`;
    counts.set(counted, (counts.get(counted) ?? 0) + 1);
    void apply(effect, req, res, () =>
      new Promise<void>((resolve) => {
        const forwarded = https.request(
          target,
          // The credentials' own headers (a bearer token) join the request's; spread last, they would replace them.
          { ...tlsOptions, method: req.method, headers: { ...tlsOptions.headers, ...req.headers, host: upstream.host }, agent },
          (answer) => {
            if (effect.loseResponse) {
              answer.resume();
              req.socket.destroy();
              return resolve();
            }
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            // A watch's headers must reach the client before its first event, which may be a minute away.
            res.flushHeaders();
            answer.pipe(res).on("finish", resolve);
          },
        );
        forwarded.on("error", () => {
          req.socket.destroy();
          resolve();
        });
        req.pipe(forwarded);
      }),
    );
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kubedriver-fault-proxy-"));
  const kubeconfigPath = path.join(dir, "kubeconfig");
  fs.writeFileSync(
    kubeconfigPath,
    `apiVersion: v1
kind: Config
clusters: [{name: proxied, cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]
users: [{name: through-proxy, user: {}}]
contexts: [{name: proxied, context: {cluster: proxied, user: through-proxy}}]
current-context: proxied
`,
  );

  let listening = true;
  const stop = async () => {
    if (!listening) return;
    listening = false;
    const closed = new Promise<void>((r) => server.close(() => r()));
    for (const s of sockets) s.destroy();
    await closed;
  };
  return {
    kubeconfigPath,
    faults,
    requestCount: (filter) => counts.get(`${filter.verb} ${filter.resource}`) ?? 0,
    async refuseConnections(refuse) {
      if (refuse) return stop();
      if (listening) return;
      await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
      listening = true;
    },
    async close() {
      await stop();
      agent.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function apply(effect: FaultEffect, req: http.IncomingMessage, res: http.ServerResponse, forward: () => Promise<void>): Promise<void> {
  if (effect.reset) return void req.socket.destroy();
  if (effect.hang) return;
  if (effect.latencyMs > 0) await new Promise((r) => setTimeout(r, effect.latencyMs));
  if (effect.errorCode) {
    const reason = effect.errorCode === 503 ? "ServiceUnavailable" : "InternalError";
    res.writeHead(effect.errorCode, { "content-type": "application/json" });
    return void res.end(JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", code: effect.errorCode, reason, message: "injected fault" }));
  }
  await forward();
}

/** The namespace a request is in, or the namespace object it names. */
function namespaceOf(pathname: string): string | undefined {
  return /^\/(?:api\/v1|apis\/[^/]+\/[^/]+)\/namespaces\/([^/]+)/.exec(pathname)?.[1];
}

/** The verb as kube-apiserver counts it: a GET of a collection is a LIST, or a WATCH with `watch=true`. */
function verbOf(method: string, url: URL): string {
  if (method !== "GET") return method;
  if (url.searchParams.get("watch") === "true" || url.searchParams.get("watch") === "1") return "WATCH";
  return resourcePath(url.pathname).length >= 2 ? "GET" : "LIST";
}

/** The resource a request is about: `namespaces` for a namespace object, `pods` for a pod in one. */
function resourceOf(pathname: string): string {
  return resourcePath(pathname)[0] ?? "";
}

/** The path after the API version and the namespace: [resource, name?, subresource?]. */
function resourcePath(pathname: string): string[] {
  const parts = pathname.split("/").filter(Boolean);
  const afterVersion = parts[0] === "api" ? parts.slice(2) : parts.slice(3);
  return afterVersion[0] === "namespaces" && afterVersion.length > 2 ? afterVersion.slice(2) : afterVersion;
}
