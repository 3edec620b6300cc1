/**
 * WARNING: this is a test and demo double of the Kubernetes API, not a
 * cluster. It serves core/v1 namespaces, secrets, replicationcontrollers
 * (with `scale`), pods and services over plain HTTP with bearer tokens, from
 * memory, with a ReplicationController loop, a fake kubelet that makes every
 * pod Running and Ready, garbage collection and namespace termination, and
 * watch. It has no other API groups, no admission webhooks, no quotas, no
 * persistence. The real kube-apiserver (test/cluster/) is the reference:
 * where they differ, this is wrong. See README.md beside this file.
 */
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { stringify } from "yaml";
import { Authenticator } from "./auth.js";
import { eventRecorder } from "./controllers/events.js";
import { startFakeKubelet } from "./controllers/kubelet.js";
import { startGarbageCollector } from "./controllers/garbage-collector.js";
import { startNamespaceLifecycle } from "./controllers/namespace-lifecycle.js";
import { startReplicationController } from "./controllers/replication.js";
import { startServiceAccounts } from "./controllers/service-accounts.js";
import { initialStatus } from "./defaults.js";
import { Faults } from "./faults.js";
import { HttpFront } from "./http.js";
import { RequestLog } from "./metrics.js";
import { PodLogs } from "./pod-logs.js";
import { resourceTypes } from "./resources.js";
import { RestApi } from "./rest.js";
import { Store, type KubeObject } from "./store.js";

export type { FaultRule } from "./faults.js";
export type { RequestRecord } from "./metrics.js";
export type { KubeObject } from "./store.js";

export interface EmulatorOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
}

export interface KubeconfigOptions {
  /** `admin` (default) may do anything; `restricted` may only read namespaces and pods. */
  user?: "admin" | "restricted";
  /** The context's namespace. */
  namespace?: string;
  contextName?: string;
}

export interface Emulator {
  /** Base URL, e.g. http://127.0.0.1:41234. */
  readonly url: string;
  /** A kubeconfig (YAML) for this emulator. */
  kubeconfig(opts?: KubeconfigOptions): string;
  /** Fault injection: latency, 500/503, hanging requests, reset connections, per namespace or global. */
  readonly faults: Faults;
  /** Every request served, with apiserver_request_total's labels (also at GET /metrics). */
  readonly requests: RequestLog;
  /** What a running container writes to its log: served by GET pods/log, and sent at once to every follower. */
  writeLog(namespace: string, pod: string, container: string, text: string): void;
  /** Read-only view of stored objects, for audits in tests. */
  objects(resource: string, namespace?: string): KubeObject[];
  /** Forgets the history of writes, as etcd compaction does: a watch from an older resourceVersion gets 410 Expired. */
  compact(): void;
  /** Closes the port (clients get ECONNREFUSED) until called with false. */
  refuseConnections(refuse: boolean): Promise<void>;
  close(): Promise<void>;
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const store = new Store();
  const auth = new Authenticator();
  const faults = new Faults();
  const requests = new RequestLog();
  const podLogs = new PodLogs(store);
  const api = new HttpFront(new RestApi(store, auth, podLogs), auth, faults, requests);

  const namespaced = resourceTypes.filter((r) => r.namespaced).map((r) => r.name);
  const events = eventRecorder(store);
  const stops = [
    startReplicationController(
      store,
      (pod) => {
        try {
          store.create("pods", prepareControllerPod(pod), { manager: "kube-controller-manager" });
          return true;
        } catch {
          // The namespace is going away; the controller stops with it.
          return false;
        }
      },
      events,
    ),
    startFakeKubelet(store, events),
    startGarbageCollector(store, ["pods"]),
    startNamespaceLifecycle(store, namespaced),
    startServiceAccounts(store),
    () => podLogs.stop(),
  ];
  seedCluster(store);

  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => void api.handle(req, res));
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  const host = opts.host ?? "127.0.0.1";
  await listen(server, host, opts.port ?? 0);
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  let listening = true;

  const dropConnections = () => {
    for (const s of sockets) s.destroy();
  };

  return {
    url,
    faults,
    requests,
    kubeconfig: (k = {}) => kubeconfigFor(url, k.user === "restricted" ? auth.restrictedToken : auth.adminToken, k),
    writeLog: (namespace, pod, container, text) => podLogs.write(namespace, pod, container, text),
    objects: (resource, namespace) => store.list(resource, namespace),
    compact: () => store.compact(),
    async refuseConnections(refuse) {
      if (refuse && listening) {
        listening = false;
        const closed = new Promise<void>((r) => server.close(() => r()));
        dropConnections();
        await closed;
      } else if (!refuse && !listening) {
        await listen(server, host, port);
        listening = true;
      }
    },
    async close() {
      for (const stop of stops) stop();
      if (!listening) return;
      listening = false;
      const closed = new Promise<void>((r) => server.close(() => r()));
      dropConnections();
      await closed;
    },
  };
}

/** What every cluster has at start: its four namespaces and the API server's own `kubernetes` service. */
function seedCluster(store: Store): void {
  const namespaces = resourceTypes.find((r) => r.name === "namespaces")!;
  for (const name of ["default", "kube-node-lease", "kube-public", "kube-system"]) {
    const ns: KubeObject = { apiVersion: "v1", kind: "Namespace", metadata: { name } };
    namespaces.defaults(ns);
    const wrote = structuredClone(ns);
    namespaces.prepare(ns, { allocateIP: () => "" });
    ns.status = initialStatus("Namespace");
    store.create("namespaces", ns, { manager: "kube-apiserver", wrote });
  }
  const kubernetes: KubeObject = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "kubernetes", namespace: "default", labels: { component: "apiserver", provider: "kubernetes" } },
    spec: {
      ports: [{ name: "https", protocol: "TCP", port: 443, targetPort: 6443 }],
      clusterIP: "10.96.0.1",
      type: "ClusterIP",
      sessionAffinity: "None",
      ipFamilyPolicy: "SingleStack",
      internalTrafficPolicy: "Cluster",
    },
  };
  // The API server's bootstrap controller sets the address and family policy itself; the rest is allocated.
  const wrote = structuredClone(kubernetes);
  Object.assign(kubernetes.spec as object, { clusterIPs: ["10.96.0.1"], ipFamilies: ["IPv4"] });
  kubernetes.status = { loadBalancer: {} };
  store.create("services", kubernetes, { manager: "kube-apiserver", wrote });
}

/** Pods made by the RC loop go through the same defaulting as created ones. */
function prepareControllerPod(pod: KubeObject): KubeObject {
  const type = resourceTypes.find((r) => r.name === "pods")!;
  type.defaults(pod);
  pod.status = { phase: "Pending", qosClass: "BestEffort" };
  return pod;
}

function listen(server: http.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function kubeconfigFor(server: string, token: string, k: KubeconfigOptions): string {
  const context = k.contextName ?? "kubedriver-emulator";
  const user = k.user === "restricted" ? "restricted" : "admin";
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    "current-context": context,
    // Plain HTTP: client-node only accepts it with TLS verification off.
    clusters: [{ name: "kubedriver-emulator", cluster: { server, "insecure-skip-tls-verify": true } }],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: context, context: { cluster: "kubedriver-emulator", user, ...(k.namespace ? { namespace: k.namespace } : {}) } }],
  });
}
