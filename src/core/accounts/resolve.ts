import { ConfigError } from "../../config/load.js";
import type { KubedriverConfig } from "../../config/types.js";
import { KubeClient } from "../../kube/client.js";
import type { ExecCredentialOptions } from "../../kube/exec-credentials.js";
import { resolveKubeconfig } from "../../kube/kubeconfig.js";
import { FieldErrors, FieldPath } from "../../common/field-path.js";
import type { Account } from "./account.js";

/**
 * Resolves every configured Kubernetes account against its kubeconfig. All
 * problems (missing kubeconfig, a named user or cluster not in it, a pull
 * secret namespace outside the account's) are reported together as one
 * ConfigError. Nothing here contacts a cluster.
 */
export function resolveAccounts(
  config: KubedriverConfig,
  source = "config",
  options: { execCredentials?: Partial<ExecCredentialOptions> } = {},
): Account[] {
  const errors = new FieldErrors();
  const registries = new Map(config.dockerRegistry.accounts.map((r) => [r.name, r]));
  const accounts: Account[] = [];

  config.kubernetes.accounts.forEach((spec, i) => {
    const at = FieldPath.root("kubernetes").child("accounts").index(i);
    const { resolved, problems } = resolveKubeconfig(spec.kubeconfigFile, { user: spec.user, cluster: spec.cluster }, options.execCredentials);
    for (const p of problems) errors.add(at.child(p.field), `account "${spec.name}": ${p.description}`);
    if (!resolved) return;

    const namespaces = spec.namespaces ?? [resolved.namespace ?? "default"];
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

    accounts.push({
      name: spec.name,
      kubeconfigFile: spec.kubeconfigFile,
      context: resolved.context,
      cluster: resolved.cluster,
      user: resolved.user,
      server: resolved.server,
      namespaces,
      pullSecrets,
      kube: new KubeClient(spec.name, resolved.kubeConfig),
      permissions: spec.permissions,
    });
  });

  if (!errors.empty) throw new ConfigError(source, errors.violations);
  return accounts;
}
