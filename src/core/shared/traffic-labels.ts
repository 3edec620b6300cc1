import { pointer, type JsonPatch } from "../../kube/json-patch.js";
import { annotationKeys, loadBalancerPrefix, selectors } from "./ownership.js";

/**
 * The traffic labels: a load balancer (a Service) selects the pods labelled
 * `load-balancer-<service>: "true"`; enable and disable flip a group's labels
 * between "true" and "false", and DeregisterInstances one pod's. The one owner
 * of their keys, their values and the patches that flip them.
 */

/** The label a Service named `service` selects pods by. */
export function loadBalancerLabel(service: string): string {
  return `${loadBalancerPrefix}${service}`;
}

/** The load balancers named by a label set's `load-balancer-*` keys. */
export function loadBalancersIn(labels: Record<string, string> | undefined): string[] {
  return Object.keys(labels ?? {})
    .filter((k) => k.startsWith(loadBalancerPrefix))
    .map((k) => k.slice(loadBalancerPrefix.length));
}

/** The traffic labels of `loadBalancers`, all routing (`enabled`) or all not. */
export function trafficLabels(loadBalancers: readonly string[], enabled = true): Record<string, string> {
  return Object.fromEntries(loadBalancers.map((lb) => [loadBalancerLabel(lb), String(enabled)]));
}

/** The selector of the Service that is load balancer `name`. */
export function loadBalancerSelector(name: string): Record<string, string> {
  return trafficLabels([name]);
}

/** kubedriver's pods that the load balancer `name` routes to. */
export function podsBehind(name: string): string {
  return `${loadBalancerLabel(name)}=true,${selectors.managed()}`;
}

/** Whether a label set routes to the load balancer `name`. */
export function routesTo(labels: Record<string, string> | undefined, name: string): boolean {
  return labels?.[loadBalancerLabel(name)] === "true";
}

/** Whether every `load-balancer-*` label is "true" (vacuously true without load balancers). */
export function isEnabled(labels: Record<string, string> | undefined): boolean {
  return Object.entries(labels ?? {}).every(([k, v]) => !k.startsWith(loadBalancerPrefix) || v === "true");
}

/** Whether every `load-balancer-*` label is "false" (vacuously true without load balancers). */
export function isDisabled(labels: Record<string, string> | undefined): boolean {
  return Object.entries(labels ?? {}).every(([k, v]) => !k.startsWith(loadBalancerPrefix) || v === "false");
}

/**
 * The JSON patch that sets the traffic labels of `loadBalancers` in `labels`
 * (found at `at`, e.g. `["metadata", "labels"]`) to `enabled`: one replace
 * per label that differs, nothing for those already right.
 */
export function trafficPatch(labels: Record<string, string>, loadBalancers: readonly string[], enabled: boolean, at: readonly string[]): JsonPatch {
  const value = String(enabled);
  return loadBalancers
    .filter((lb) => labels[loadBalancerLabel(lb)] !== value)
    .map((lb) => ({ op: "replace", path: pointer(...at, loadBalancerLabel(lb)), value }));
}

/** The load balancers a pod was deliberately taken out of (see `annotationKeys.deregistered`), sorted. */
export function deregisteredFrom(annotations: Record<string, string> | undefined): string[] {
  try {
    const parsed: unknown = JSON.parse(annotations?.[annotationKeys.deregistered] ?? "[]");
    return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === "string").sort() : [];
  } catch {
    return [];
  }
}
