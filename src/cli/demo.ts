import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { parseConfig } from "../config/load.js";
import type { KubedriverConfig } from "../config/types.js";
import { startEmulator, type Emulator } from "../emulator/index.js";
import { loadBalancerSelector } from "../core/shared/traffic-labels.js";

export const demoNamespace = "demo";
export const demoLoadBalancer = "demo-frontend";

/**
 * The zero-set-up demo: an embedded Kubernetes API emulator (a test double,
 * not a cluster) with one account, one namespace, one docker registry and
 * one Service, so that a newcomer's first grpcurl calls do something real.
 */
export async function startDemo(listen: { host: string; port: number }): Promise<{
  config: KubedriverConfig;
  emulator: Emulator;
  kubeconfigFile: string;
}> {
  const emulator = await startEmulator({ host: "127.0.0.1", port: 0 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kubedriver-demo-"));
  const kubeconfigFile = path.join(dir, "kubeconfig");
  fs.writeFileSync(kubeconfigFile, emulator.kubeconfig({ namespace: demoNamespace }), { mode: 0o600 });

  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigFile);
  await seedDemo(kc, demoNamespace, demoLoadBalancer);

  const config = parseConfig(
    `
server:
  listen: "${listen.host.includes(":") ? `[${listen.host}]` : listen.host}:${listen.port}"
kubernetes:
  accounts:
    - name: demo
      kubeconfigFile: ${JSON.stringify(kubeconfigFile)}
      namespaces: [${demoNamespace}]
      dockerRegistries:
        - accountName: demo-registry
dockerRegistry:
  accounts:
    - name: demo-registry
      address: https://registry.example.com
      username: demo
      password: demo-password-not-secret
      email: demo@example.com
`,
    { source: "built-in demo config" },
  );
  return { config, emulator, kubeconfigFile };
}

/**
 * Puts what the demo talks about into the fresh emulator, as a person would
 * with kubectl (not through kubedriver): the demo namespace and a Service for
 * server groups to load-balance behind.
 */
async function seedDemo(kubeConfig: KubeConfig, namespace: string, service: string): Promise<void> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await core.createNamespacedService({
    namespace,
    body: {
      metadata: { name: service },
      spec: { selector: loadBalancerSelector(service), ports: [{ port: 80, targetPort: 8080 }] },
    },
  });
}
