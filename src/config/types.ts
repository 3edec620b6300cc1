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
  /** A plaintext port serving only grpc.health.v1, for kubelet probes; none when absent. */
  healthListen?: { host: string; port: number };
  /** Plain HTTP serving Prometheus metrics at /metrics; none when absent. */
  metricsListen?: { host: string; port: number };
  /** Serve TLS; with a client CA, only clients with a certificate it signed get through the handshake. */
  tls?: { certFile: string; keyFile: string; clientCaFile?: string };
  /** Bearer tokens of callers (a YAML list of {token, name, groups}), reloaded when the file changes. */
  auth?: { tokensFile?: string };
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
  /** Caller groups allowed to read and to change the account; undefined: every authenticated caller. */
  permissions?: AccountPermissions;
}

export interface AccountPermissions {
  read: string[];
  write: string[];
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
  /** Where the password was read from (absolute), watched for a rotation. */
  passwordFile?: string;
  email: string;
}

export const defaultListen = { host: "127.0.0.1", port: 7002 } as const;
