// A caller on a thread of its own, as a pipeline's backend is a process of
// its own: it lists 1,000 server groups either through kubedriver (in pages
// of \`pageSize\`) or, for
// the side-by-side, as RCs and pods through client-node straight from the API
// server. One side per thread, so that none is timed in another's garbage.
// Plain JavaScript on the compiled stubs (dist/), as a TypeScript caller runs
// them; worker threads do not go through the test transform.
import { parentPort, workerData } from "node:worker_threads";
import grpc from "@grpc/grpc-js";
import * as k8s from "@kubernetes/client-node";
import { ServerGroupsClient } from "../../dist/gen/kubedriver/v1/server_groups.js";

const { side, pageSize, address, kubeconfigPath, account, namespace, rounds, warmup } = workerData;

function kubedriverList() {
  // As the TypeScript example client opens it: a window that holds a whole page (see examples/typescript).
  const client = new ServerGroupsClient(address, grpc.credentials.createInsecure(), { "grpc-node.flow_control_window": 4 << 20 });
  const page = (pageToken) =>
    new Promise((resolve, reject) =>
      client.listServerGroups({ account, namespaces: [namespace], application: "", cluster: "", pageSize, pageToken, consistency: 0 }, (err, res) =>
        err ? reject(err) : resolve(res),
      ),
    );
  return {
    async list() {
      let token = "";
      let items = 0;
      do {
        const res = await page(token);
        items += res.serverGroups.length;
        token = res.nextPageToken;
      } while (token);
      return items;
    },
    close: () => client.close(),
  };
}

function clientNodeList() {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const labelSelector = "app.kubernetes.io/managed-by=kubedriver";
  return {
    async list() {
      const [rcs] = await Promise.all([
        core.listNamespacedReplicationController({ namespace, labelSelector }),
        core.listNamespacedPod({ namespace, labelSelector }),
      ]);
      return rcs.items.length;
    },
    close: () => {},
  };
}

// Long-lived, as a caller's process is: warmed up once (its JIT, and a young
// generation grown to its allocation rate), then timed a round at a time, on
// each "round" message, until "close".
const lister = side === "kubedriver" ? kubedriverList() : clientNodeList();
for (let i = 0; i < warmup; i++) await lister.list();
parentPort.on("message", async (message) => {
  if (message === "close") {
    lister.close();
    parentPort.close();
    return;
  }
  const samples = [];
  let items = 0;
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    items = await lister.list();
    samples.push(performance.now() - t);
  }
  parentPort.postMessage({ items, samples });
});
parentPort.postMessage("warm");
