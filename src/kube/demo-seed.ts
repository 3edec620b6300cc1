import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";

/**
 * Puts what the zero-set-up demo talks about into a fresh emulator: the demo
 * namespace and a Service for server groups to load-balance behind.
 */
export async function seedDemo(kubeConfig: KubeConfig, namespace: string, service: string): Promise<void> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await core.createNamespacedService({
    namespace,
    body: {
      metadata: { name: service },
      spec: { selector: { [`load-balancer-${service}`]: "true" }, ports: [{ port: 80, targetPort: 8080 }] },
    },
  });
}
