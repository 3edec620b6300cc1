import type { AccountPermissions, DockerRegistryAccountConfig } from "../../config/types.js";
import type { KubeClient } from "../../kube/client.js";

/** A Kubernetes account, resolved against its kubeconfig and ready to use. */
export interface Account {
  name: string;
  kubeconfigFile: string;
  context: string;
  cluster: string;
  user: string;
  /** API server URL. */
  server: string;
  /** The kubeconfig context's namespace, the default when the spec names none. */
  defaultNamespace?: string;
  /** Namespaces the account manages, in spec order. */
  namespaces: string[];
  pullSecrets: PullSecretBinding[];
  kube: KubeClient;
  /** Who may read and change it; undefined: every caller. */
  permissions?: AccountPermissions;
  /** Digest of what the connection is made of (kubeconfig text, selection, token files): equal means `kube` can be kept. */
  connection: string;
  /** The kubeconfig and the token files it names: a change to any of them re-resolves the account. */
  files: string[];
}

/** One docker registry whose image pull secret is kept in some namespaces. */
export interface PullSecretBinding {
  registry: DockerRegistryAccountConfig;
  /** The secret's name: the registry account's name. */
  secretName: string;
  namespaces: string[];
}

/** Names of every image pull secret available in `namespace`, for pod templates. */
export function pullSecretNames(account: Account, namespace: string): string[] {
  return account.pullSecrets.filter((b) => b.namespaces.includes(namespace)).map((b) => b.secretName);
}
