import type { ErrorKind } from "../../common/errors.js";

/** What provisioning did to one object. */
export type ProvisioningAction = "created" | "updated" | "unchanged" | "failed" | "skipped";

/** Why a step failed: the core error kind (mapped to a gRPC code at the edge) and a message. */
export interface ProvisioningFailure {
  kind: ErrorKind;
  message: string;
}

export interface PullSecretOutcome {
  name: string;
  action: ProvisioningAction;
  error?: ProvisioningFailure;
}

export interface NamespaceOutcome {
  namespace: string;
  action: ProvisioningAction;
  error?: ProvisioningFailure;
  pullSecrets: PullSecretOutcome[];
}

export interface ProvisioningResult {
  startTime: Date;
  endTime: Date;
  namespaces: NamespaceOutcome[];
  succeeded: boolean;
  /** True when no namespace could reach the API server at all. */
  unreachable: boolean;
}
