import type { V1ReplicationController } from "@kubernetes/client-node";
import { annotationKeys } from "../shared/ownership.js";
import type { ServerGroupSpec } from "./spec.js";

const read = new WeakMap<V1ReplicationController, ServerGroupSpec | null>();

/**
 * The spec a server group was created with, as its RC keeps it (the
 * `kubedriver.io/spec` annotation); undefined when there is none, or when
 * it cannot be what kubedriver wrote (edited by hand, cut short): such an RC
 * is not used as a server group, so that one broken object never fails a
 * read of the others. Read once per RC object.
 */
export function storedSpec(rc: V1ReplicationController): ServerGroupSpec | undefined {
  let spec = read.get(rc);
  if (spec === undefined) {
    spec = parse(rc.metadata?.annotations?.[annotationKeys.spec]);
    read.set(rc, spec);
  }
  return spec ?? undefined;
}

/** Whether the RC carries a spec annotation that cannot be read (as opposed to none at all). */
export function hasUnreadableSpec(rc: V1ReplicationController): boolean {
  return rc.metadata?.annotations?.[annotationKeys.spec] !== undefined && storedSpec(rc) === undefined;
}

function parse(text: string | undefined): ServerGroupSpec | null {
  if (text === undefined) return null;
  let spec: unknown;
  try {
    spec = JSON.parse(text);
  } catch {
    return null;
  }
  return isSpec(spec) ? spec : null;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isStringMap = (v: unknown) => isObject(v) && Object.values(v).every((x) => typeof x === "string");
const isStringArray = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === "string");

/** What every reader of a spec relies on; a spec kubedriver wrote always has it. */
function isSpec(v: unknown): v is ServerGroupSpec {
  if (!isObject(v)) return false;
  const c = v.containers;
  return (
    typeof v.application === "string" &&
    typeof v.stack === "string" &&
    typeof v.detail === "string" &&
    Array.isArray(c) &&
    c.every(
      (x) =>
        isObject(x) &&
        typeof x.name === "string" &&
        typeof x.image === "string" &&
        isStringArray(x.command) &&
        isStringArray(x.args) &&
        Array.isArray(x.env) &&
        Array.isArray(x.ports) &&
        Array.isArray(x.volumeMounts) &&
        isObject(x.resources) &&
        isObject(x.resources.requests) &&
        isObject(x.resources.limits),
    ) &&
    Array.isArray(v.volumes) &&
    isStringArray(v.loadBalancers) &&
    isStringMap(v.labels) &&
    isStringMap(v.annotations) &&
    isStringMap(v.nodeSelector)
  );
}
