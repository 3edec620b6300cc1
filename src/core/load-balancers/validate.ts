import { isIP } from "node:net";
import { FieldPath, type FieldErrors } from "../../common/field-path.js";
import { isDns1035Label, isDns1123Label, isLabelValue, isPortName, isQualifiedName } from "../../common/kubernetes-names.js";
import { isReservedLabel } from "../shared/ownership.js";
import type { LoadBalancerChange } from "./spec.js";


/**
 * Every problem of a load balancer's name and change, added to `errors`
 * with the request's field paths, so that one answer names them all.
 */
export function loadBalancerProblems(name: string, change: LoadBalancerChange, errors: FieldErrors): void {
  serviceNameCheck(name, FieldPath.root("name"), errors);
  const ports = change.ports ?? [];
  const names = new Set<string>();
  const numbers = new Set<string>();
  ports.forEach((p, i) => {
    const at = FieldPath.root("ports").index(i);
    if (p.name === "") {
      if (ports.length > 1) errors.add(at.child("name"), "is required when there is more than one port");
    } else if (!isDns1123Label(p.name)) {
      errors.add(at.child("name"), `must be a DNS label (lower-case letters, digits and '-', at most 63 characters), got ${JSON.stringify(p.name)}`);
    } else if (names.has(p.name)) {
      errors.add(at.child("name"), `duplicates another port's name ${JSON.stringify(p.name)}`);
    }
    names.add(p.name);
    portNumberCheck(p.port, at.child("port"), errors, true);
    const key = `${p.protocol}/${p.port}`;
    if (numbers.has(key)) errors.add(at.child("port"), `duplicates another ${p.protocol} port ${p.port}`);
    numbers.add(key);
    if (p.targetPort !== undefined) portNumberCheck(p.targetPort, at.child("target_port"), errors, false);
    if (p.targetPortName !== undefined) {
      if (p.targetPort !== undefined) errors.add(at.child("target_port_name"), "must not be set together with target_port");
      if (!isPortName(p.targetPortName)) {
        errors.add(at.child("target_port_name"), `must be an IANA service name (at most 15 lower-case letters, digits and '-', with a letter), got ${JSON.stringify(p.targetPortName)}`);
      }
    }
    if (p.nodePort !== undefined) {
      portNumberCheck(p.nodePort, at.child("node_port"), errors, false);
      if (change.type === "ClusterIP") errors.add(at.child("node_port"), "may only be set for types NodePort and LoadBalancer");
    }
  });
  (change.externalIps ?? []).forEach((ip, i) => {
    if (isIP(ip) === 0) errors.add(FieldPath.root("external_ips").child("items").index(i), `must be an IPv4 or IPv6 address, got ${JSON.stringify(ip)}`);
  });
  if (change.clusterIp !== undefined && change.clusterIp !== "None" && isIP(change.clusterIp) === 0) {
    errors.add(FieldPath.root("cluster_ip"), `must be an IP address or "None", got ${JSON.stringify(change.clusterIp)}`);
  }
  if (change.loadBalancerIp) {
    if (isIP(change.loadBalancerIp) === 0) errors.add(FieldPath.root("load_balancer_ip"), `must be an IP address, got ${JSON.stringify(change.loadBalancerIp)}`);
    if (change.type !== undefined && change.type !== "LoadBalancer") errors.add(FieldPath.root("load_balancer_ip"), "may only be set for type LoadBalancer");
  }
  for (const [k, v] of Object.entries(change.labels ?? {})) {
    const at = FieldPath.root("labels").child("entries").key(k);
    if (isReservedLabel(k)) errors.add(at, "is reserved for kubedriver");
    else if (!isQualifiedName(k)) errors.add(at, "must be a qualified name ([prefix/]name, name at most 63 characters of letters, digits, '-', '_' and '.')");
    if (!isLabelValue(v)) errors.add(at, `value must be a label value (at most 63 characters), got ${JSON.stringify(v)}`);
  }
  for (const k of Object.keys(change.annotations ?? {})) {
    if (!isQualifiedName(k)) errors.add(FieldPath.root("annotations").child("entries").key(k), "must be a qualified name");
  }
}

/** Service names are DNS-1035 labels: they become DNS names and environment variable prefixes. */
export function serviceNameCheck(name: string, at: FieldPath, errors: FieldErrors): void {
  if (name === "") errors.add(at, "is required");
  else if (!isDns1035Label(name)) {
    errors.add(at, `must be a DNS-1035 label (starts with a lower-case letter; lower-case letters, digits and '-'; at most 63 characters), got ${JSON.stringify(name.slice(0, 80))}`);
  }
}

function portNumberCheck(n: number, at: FieldPath, errors: FieldErrors, required: boolean): void {
  if (n === 0 && required) errors.add(at, "is required");
  else if (!Number.isInteger(n) || n < 1 || n > 65535) errors.add(at, `must be between 1 and 65535, got ${n}`);
}
