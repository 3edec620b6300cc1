/** The validated, defaulted account spec (see ARCHITECTURE.md). */
export interface KubedriverConfig {
  server: ServerConfig;
  kubernetes: KubernetesConfig;
  dockerRegistry: DockerRegistryConfig;
}

export interface ServerConfig {
  host: string;
  port: number;
  /** How long in-flight unary calls may run on after SIGTERM/SIGINT. */
  shutdownGraceSeconds: number;
}

export interface KubernetesConfig {
  enabled: boolean;
  healthCheckIntervalSeconds: number;
  healthCheckTimeoutSeconds: number;
  healthCheckConcurrency: number;
  accounts: KubernetesAccountConfig[];
}

export interface KubernetesAccountConfig {
  name: string;
  /** Absolute path; `~` already expanded. */
  kubeconfigFile: string;
  /** Undefined: take the current context's namespace, else `default`. */
  namespaces?: string[];
  user?: string;
  cluster?: string;
  dockerRegistries: DockerRegistryBindingConfig[];
}

export interface DockerRegistryBindingConfig {
  accountName: string;
  /** Undefined: every namespace of the Kubernetes account. */
  namespaces?: string[];
}

export interface DockerRegistryConfig {
  enabled: boolean;
  accounts: DockerRegistryAccountConfig[];
}

export interface DockerRegistryAccountConfig {
  name: string;
  address: string;
  username: string;
  /** Read from `passwordFile` when that is given. */
  password: string;
  email: string;
}

export const defaultListen = { host: "127.0.0.1", port: 7002 } as const;
