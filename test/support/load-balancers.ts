import type { ServicePort, UpsertLoadBalancerRequest } from "../../gen/kubedriver/v1/load_balancers.js";

/** An UpsertLoadBalancerRequest for account "main" that sets nothing but what `overrides` give. */
export function anUpsertRequest(overrides: Partial<UpsertLoadBalancerRequest> = {}): UpsertLoadBalancerRequest {
  return {
    account: "main",
    namespace: "",
    name: "web",
    ports: [],
    type: 0,
    sessionAffinity: 0,
    externalIps: undefined,
    clusterIp: undefined,
    loadBalancerIp: undefined,
    labels: undefined,
    annotations: undefined,
    adopt: false,
    requestId: "",
    ...overrides,
  };
}

/** A TCP service port, optionally named. */
export function aPort(port: number, name = ""): ServicePort {
  return { name, protocol: 0, port, targetPort: 0, targetPortName: "", nodePort: 0 };
}
