import { ConfigError } from "../../config/load.js";
import type { KubedriverConfig, KubernetesAccountConfig } from "../../config/types.js";
import { KubeClient } from "../../kube/client.js";
import type { ExecCredentialOptions } from "../../kube/exec-credentials.js";
import { kubeconfigInputs, resolveKubeconfig, type KubeconfigParseCache, type KubeconfigProblem } from "../../kube/kubeconfig.js";
import { FieldErrors, FieldPath, type FieldViolation } from "../../common/field-path.js";
import type { Account } from "./account.js";
import { sameAccount } from "./changes.js";

export interface ResolveOptions {
  execCredentials?: Partial<ExecCredentialOptions>;
  /**
   * The running accounts, on a reload: an account whose connection is the
   * same keeps its client (connections, read-your-writes versions), and one
   * that is the same in every respect is returned as the very same object.
   */
  previous?: (name: string) => Account | undefined;
}

/**
 * Resolves every configured Kubernetes account against its kubeconfig. All
 * problems (missing kubeconfig, a named user or cluster not in it, a pull
 * secret namespace outside the account's) are reported together as one
 * ConfigError. Nothing here contacts a cluster.
 */
export function resolveAccounts(config: KubedriverConfig, source = "config", options: ResolveOptions = {}): Account[] {
  const errors = new FieldErrors();
  const registries = new Map(config.dockerRegistry.accounts.map((r) => [r.name, r]));
  const accounts: Account[] = [];
  const parsed: KubeconfigParseCache = new Map();

  config.kubernetes.accounts.forEach((spec, i) => {
    const at = FieldPath.root("kubernetes").child("accounts").index(i);
    const select = { user: spec.user, cluster: spec.cluster };
    const inputs = kubeconfigInputs(spec.kubeconfigFile, select, parsed);
    const before = options.previous?.(spec.name);
    let connection: Pick<Account, "context" | "cluster" | "user" | "server" | "kube" | "connection" | "files"> & { namespace?: string };
    if (before && inputs && before.connection === inputs.fingerprint && before.kubeconfigFile === spec.kubeconfigFile) {
      connection = { ...before, namespace: before.defaultNamespace };
    } else {
      const { resolved, problems } = resolveKubeconfig(spec.kubeconfigFile, select, options.execCredentials);
      for (const p of problems) errors.add(at.child(p.field), described(spec, p));
      if (!resolved) return;
      connection = {
        context: resolved.context,
        cluster: resolved.cluster,
        user: resolved.user,
        server: resolved.server,
        namespace: resolved.namespace,
        kube: new KubeClient(spec.name, resolved.kubeConfig),
        connection: inputs?.fingerprint ?? "",
        files: inputs?.files ?? [spec.kubeconfigFile],
      };
    }

    const namespaces = spec.namespaces ?? [connection.namespace ?? "default"];
    const pullSecrets = spec.dockerRegistries.flatMap((binding, j) => {
      const registry = registries.get(binding.accountName);
      if (!registry) return [];
      const bindingNamespaces = binding.namespaces ?? namespaces;
      bindingNamespaces.forEach((ns, k) => {
        if (!namespaces.includes(ns)) {
          errors.add(
            at.child("dockerRegistries").index(j).child("namespaces").index(k),
            `namespace "${ns}" is not one of account "${spec.name}"'s namespaces (${namespaces.join(", ")})`,
          );
        }
      });
      return [{ registry, secretName: registry.name, namespaces: bindingNamespaces.filter((ns) => namespaces.includes(ns)) }];
    });

    const account: Account = {
      name: spec.name,
      kubeconfigFile: spec.kubeconfigFile,
      context: connection.context,
      cluster: connection.cluster,
      user: connection.user,
      server: connection.server,
      defaultNamespace: connection.namespace,
      namespaces,
      pullSecrets,
      kube: connection.kube,
      permissions: spec.permissions,
      connection: connection.connection,
      files: connection.files,
    };
    accounts.push(before && sameAccount(before, account) ? before : account);
  });

  if (!errors.empty) throw new ConfigError(source, errors.violations);
  return accounts;
}

/**
 * The problems resolving an account's kubeconfig finds, worded as
 * `resolveAccounts` reports them, fields relative to the account: for
 * `ValidateOptions.checkAccount`, so that a config with problems of its own
 * names these in the same report.
 */
export function kubeconfigProblems(spec: KubernetesAccountConfig): FieldViolation[] {
  return resolveKubeconfig(spec.kubeconfigFile, { user: spec.user, cluster: spec.cluster }).problems.map((p) => ({
    field: p.field,
    description: described(spec, p),
  }));
}

function described(spec: KubernetesAccountConfig, p: KubeconfigProblem): string {
  return `account "${spec.name}": ${p.description}`;
}
