/** What a mutation did to one instance (pod). */
export type InstanceOutcome = "changed" | "unchanged" | "not-found" | "not-managed" | "not-behind-load-balancer";

export interface InstanceResult {
  name: string;
  outcome: InstanceOutcome;
  serverGroup: string;
  message: string;
}

/** Pods of one account namespace, by name. */
export interface InstancesRef {
  namespace: string;
  names: string[];
}
