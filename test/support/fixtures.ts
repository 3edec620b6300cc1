import type { V1ReplicationController, V1Secret } from "@kubernetes/client-node";

/** A ReplicationController of `replicas` pods labelled `app: <name>`. */
export function aReplicationController(overrides: { name?: string; replicas?: number; labels?: Record<string, string> } = {}): V1ReplicationController {
  const name = overrides.name ?? "web-v000";
  const labels = overrides.labels ?? { app: name };
  return {
    metadata: { name },
    spec: {
      replicas: overrides.replicas ?? 1,
      selector: labels,
      template: {
        metadata: { labels },
        spec: { containers: [{ name: "main", image: "registry.example.com/web:1.0", ports: [{ containerPort: 8080 }] }] },
      },
    },
  };
}

export function aSecret(overrides: { name?: string; labels?: Record<string, string>; data?: Record<string, string> } = {}): V1Secret {
  return {
    metadata: { name: overrides.name ?? "config", labels: overrides.labels },
    type: "Opaque",
    data: Object.fromEntries(Object.entries(overrides.data ?? { key: "value" }).map(([k, v]) => [k, Buffer.from(v).toString("base64")])),
  };
}
