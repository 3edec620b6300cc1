import { FieldErrors, FieldPath } from "../field-path.js";
import { InvalidArgumentError } from "../errors.js";
import { dns1123LabelProblem } from "../kubernetes-names.js";
import { normaliseImage } from "./image.js";
import { isReservedLabel } from "./labels.js";
import { checkNameParts } from "./naming.js";
import type { ProbeSpec, ServerGroupSpec } from "./spec.js";

const quantity = /^([+-]?[0-9.]+)([eE][-+]?[0-9]+|[mkMGTPE]i?|Ki|[numkMGTPE]?)$/;
const maxTargetSize = 10_000;
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const labelName = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const ianaServiceName = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/**
 * Checks a spec against everything the API server would reject and our own
 * conventions, reporting every problem at once with the request's field
 * names, and returns it with images normalised.
 */
export function validateSpec(spec: ServerGroupSpec): ServerGroupSpec {
  const errors = new FieldErrors();
  checkNameParts(spec, errors);
  if (!Number.isInteger(spec.targetSize) || spec.targetSize < 0 || spec.targetSize > maxTargetSize) {
    errors.add("target_size", `must be between 0 and ${maxTargetSize}, got ${spec.targetSize}`);
  }
  if (spec.containers.length === 0) errors.add("containers", "at least one container is required");

  const volumeNames = new Set<string>();
  spec.volumes.forEach((v, i) => {
    const at = FieldPath.root("volumes").index(i);
    nameCheck(v.name, at.child("name"), errors);
    if (volumeNames.has(v.name)) errors.add(at.child("name"), `duplicate volume name "${v.name}"`);
    volumeNames.add(v.name);
    const sources = [v.emptyDir, v.configMap, v.secret, v.persistentVolumeClaim].filter(Boolean).length;
    if (sources !== 1) errors.add(at, "exactly one of empty_dir, config_map, secret, persistent_volume_claim is required");
    if (v.emptyDir?.sizeLimit) quantityCheck(v.emptyDir.sizeLimit, at.child("empty_dir").child("size_limit"), errors);
    if (v.configMap && !v.configMap.name) errors.add(at.child("config_map").child("name"), "is required");
    if (v.secret && !v.secret.secretName) errors.add(at.child("secret").child("secret_name"), "is required");
    if (v.persistentVolumeClaim && !v.persistentVolumeClaim.claimName) errors.add(at.child("persistent_volume_claim").child("claim_name"), "is required");
    for (const mode of [v.configMap?.defaultMode, v.secret?.defaultMode]) {
      if (mode !== undefined && (mode < 0 || mode > 0o777)) errors.add(at, `default_mode must be between 0 and 0777, got ${mode}`);
    }
  });

  const containerNames = new Set<string>();
  const containers = spec.containers.map((c, i) => {
    const at = FieldPath.root("containers").index(i);
    nameCheck(c.name, at.child("name"), errors);
    if (containerNames.has(c.name)) errors.add(at.child("name"), `duplicate container name "${c.name}"`);
    containerNames.add(c.name);
    const image = normaliseImage(c.image);
    if ("problem" in image) errors.add(at.child("image"), image.problem);
    c.ports.forEach((p, j) => {
      const pat = at.child("ports").index(j);
      if (!Number.isInteger(p.containerPort) || p.containerPort < 1 || p.containerPort > 65535) {
        errors.add(pat.child("container_port"), `must be between 1 and 65535, got ${p.containerPort}`);
      }
      if (p.name && (p.name.length > 15 || !ianaServiceName.test(p.name) || !/[a-z]/.test(p.name))) {
        errors.add(pat.child("name"), `"${p.name}" must be at most 15 lower-case letters, digits and '-', with at least one letter`);
      }
    });
    c.env.forEach((e, j) => {
      if (!e.name) errors.add(at.child("env").index(j).child("name"), "is required");
      else if (!/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(e.name)) errors.add(at.child("env").index(j).child("name"), `"${e.name}" is not a valid environment variable name`);
    });
    for (const kind of ["requests", "limits"] as const) {
      for (const r of ["cpu", "memory"] as const) {
        const q = c.resources[kind][r];
        if (q) quantityCheck(q, at.child("resources").child(kind).child(r), errors);
      }
    }
    if (c.livenessProbe) probeCheck(c.livenessProbe, at.child("liveness_probe"), errors, true);
    if (c.readinessProbe) probeCheck(c.readinessProbe, at.child("readiness_probe"), errors, false);
    c.volumeMounts.forEach((m, j) => {
      const mat = at.child("volume_mounts").index(j);
      if (!volumeNames.has(m.name)) errors.add(mat.child("name"), `no volume named "${m.name}"`);
      if (!m.mountPath.startsWith("/")) errors.add(mat.child("mount_path"), `must be an absolute path, got "${m.mountPath}"`);
    });
    return "image" in image ? { ...c, image: image.image } : c;
  });

  spec.loadBalancers.forEach((lb, i) => {
    if (!lb || lb.length > 63 || !/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(lb)) {
      errors.add(FieldPath.root("load_balancers").index(i), `"${lb}" is not a valid Service name`);
    }
  });
  for (const [key, value] of Object.entries(spec.labels)) {
    const at = FieldPath.root("labels").key(key);
    if (isReservedLabel(key)) errors.add(at, `"${key}" is reserved for kubedriver`);
    else if (!labelName.test(key) || key.length > 317) errors.add(at, `"${key}" is not a valid label key`);
    if (value.length > 63 || !labelValue.test(value)) errors.add(at, `"${value}" is not a valid label value`);
  }
  for (const key of Object.keys(spec.annotations)) {
    if (key.startsWith("kubedriver.io/")) errors.add(FieldPath.root("annotations").key(key), `"${key}" is reserved for kubedriver`);
  }
  for (const [key, value] of Object.entries(spec.nodeSelector)) {
    if (!labelName.test(key) || value.length > 63 || !labelValue.test(value)) {
      errors.add(FieldPath.root("node_selector").key(key), `"${key}: ${value}" is not a valid label selector term`);
    }
  }

  InvalidArgumentError.throwIfAny(errors, "invalid server group");
  return { ...spec, containers };
}

function nameCheck(name: string, at: FieldPath, errors: FieldErrors): void {
  if (!name) return errors.add(at, "is required");
  const problem = dns1123LabelProblem(name);
  if (problem) errors.add(at, problem);
}

function quantityCheck(q: string, at: FieldPath, errors: FieldErrors): void {
  if (!quantity.test(q) || Number.isNaN(Number.parseFloat(q))) errors.add(at, `"${q}" is not a Kubernetes quantity (e.g. 250m, 1, 128Mi, 1G)`);
  else if (q.startsWith("-")) errors.add(at, `must not be negative, got "${q}"`);
}

function probeCheck(p: ProbeSpec, at: FieldPath, errors: FieldErrors, liveness: boolean): void {
  const handlers = [p.exec, p.httpGet, p.tcpSocket].filter(Boolean).length;
  if (handlers !== 1) errors.add(at, "exactly one of exec, http_get, tcp_socket is required");
  if (p.exec && p.exec.command.length === 0) errors.add(at.child("exec").child("command"), "is required");
  for (const [name, handler] of [["http_get", p.httpGet], ["tcp_socket", p.tcpSocket]] as const) {
    if (!handler) continue;
    const hasNumber = handler.port !== undefined && handler.port !== 0;
    if (hasNumber === Boolean(handler.portName)) errors.add(at.child(name), "exactly one of port and port_name is required");
    if (hasNumber && (handler.port! < 1 || handler.port! > 65535)) errors.add(at.child(name).child("port"), `must be between 1 and 65535, got ${handler.port}`);
  }
  for (const [field, value] of [
    ["initial_delay", p.initialDelaySeconds],
    ["timeout", p.timeoutSeconds],
    ["period", p.periodSeconds],
    ["success_threshold", p.successThreshold],
    ["failure_threshold", p.failureThreshold],
  ] as const) {
    if (!Number.isInteger(value) || value < 0 || value > 86_400) errors.add(at.child(field), `must be between 0 and 86400, got ${value}`);
  }
  if (liveness && p.successThreshold > 1) errors.add(at.child("success_threshold"), "must be 1 for a liveness probe");
}
