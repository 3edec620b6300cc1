import type { V1Secret } from "@kubernetes/client-node";
import type { DockerRegistryAccountConfig } from "../../config/types.js";
import { markOurs } from "../shared/ownership.js";

/**
 * The image pull secret for a registry, in the format kubelet reads and
 * `kubectl create secret docker-registry` writes.
 */
export function pullSecretFor(registry: DockerRegistryAccountConfig): V1Secret {
  const auth = Buffer.from(`${registry.username}:${registry.password}`).toString("base64");
  const config = {
    auths: {
      [registry.address]: { username: registry.username, password: registry.password, email: registry.email, auth },
    },
  };
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: registry.name, labels: markOurs() },
    type: "kubernetes.io/dockerconfigjson",
    data: { ".dockerconfigjson": Buffer.from(JSON.stringify(config)).toString("base64") },
  };
}

/** Whether the stored secret already holds exactly what we would write. */
export function sameContent(stored: V1Secret, desired: V1Secret): boolean {
  return stored.type === desired.type && JSON.stringify(stored.data ?? {}) === JSON.stringify(desired.data ?? {});
}
