import type { Container, Probe } from "../../gen/kubedriver/v1/server_group.js";
import type { CreateServerGroupRequest } from "../../gen/kubedriver/v1/server_groups.js";

/** A container with defaults a test can override. */
export function aContainer(overrides: Partial<Container> = {}): Container {
  return {
    name: "web",
    image: "registry.example.com/team/web:1.0",
    command: [],
    args: [],
    env: [],
    ports: [],
    resources: undefined,
    livenessProbe: undefined,
    readinessProbe: undefined,
    volumeMounts: [],
    ...overrides,
  };
}

export function anHttpProbe(overrides: Partial<Probe> = {}): Probe {
  return {
    httpGet: { path: "/healthz", port: 8080, portName: "", host: "", scheme: 0, headers: [] },
    initialDelay: { seconds: 5, nanos: 0 },
    timeout: { seconds: 2, nanos: 0 },
    period: { seconds: 10, nanos: 0 },
    successThreshold: 1,
    failureThreshold: 3,
    ...overrides,
  };
}

/** A CreateServerGroupRequest with defaults: one container, one pod, no load balancer. */
export function aCreateRequest(overrides: Partial<CreateServerGroupRequest> = {}): CreateServerGroupRequest {
  return {
    account: "main",
    namespace: "",
    application: "web",
    stack: "",
    detail: "",
    targetSize: 1,
    containers: [aContainer()],
    loadBalancers: [],
    volumes: [],
    labels: {},
    annotations: {},
    nodeSelector: {},
    requestId: "",
    ...overrides,
  };
}
