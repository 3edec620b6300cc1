import { FieldErrors, FieldPath } from "../../common/field-path.js";
import { InvalidArgumentError } from "../../common/errors.js";
import { dns1123LabelProblem, isConfigKey, isDns1123Subdomain, isDns1035Label, isLabelValue, isPortName, isQualifiedName } from "../../common/kubernetes-names.js";
import { isReservedAnnotation, isReservedPodLabel } from "../shared/ownership.js";
import { normaliseImage } from "./image.js";
import { quoted } from "../../common/quoted.js";
import { checkNameParts } from "./naming.js";
import type { KeyRef, ProbeSpec, ServerGroupSpec } from "./spec.js";

/** Kubernetes' quantity grammar: a decimal number, then a binary or decimal SI suffix or an exponent. */
const quantity = /^([+-]?(?:\d+\.?\d*|\.\d+))([eE][+-]?\d+|[KMGTPE]i|[numkMGTPE])?$/;
const quantityMultipliers: Record<string, number> = {
  "": 1, n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};
const maxTargetSize = 10_000;
const httpHeaderName = /^[-!#$%&'*+.^_`|~0-9A-Za-z]+$/;
/**
 * Kubernetes caps a ReplicationController's annotations at 256 KiB in all,
 * and the spec is kept in one of them (`kubedriver.io/spec`) beside the
 * caller's; the rest is room for the request id annotations.
 */
const maxAnnotationBytes = 256 * 1024 - 1024;

declare const validated: unique symbol;

/** A spec that passed `checkSpec`: what core's create takes, so that it never validates again. */
export type ValidatedSpec = ServerGroupSpec & { readonly [validated]: true };

/** Checks a spec, throwing every problem at once (see `checkSpec`). */
export function validateSpec(spec: ServerGroupSpec): ValidatedSpec {
  const errors = new FieldErrors();
  const checked = checkSpec(spec, errors);
  InvalidArgumentError.throwIfAny(errors, "invalid server group");
  return checked;
}

/** A server group's size, as create, clone and resize take it. */
export function checkTargetSize(size: number, errors: FieldErrors): void {
  if (!Number.isInteger(size) || size < 0 || size > maxTargetSize) errors.add("target_size", `must be between 0 and ${maxTargetSize}, got ${size}`);
}

/**
 * Checks a spec against everything the API server would reject and our own
 * conventions, adding every problem to `errors` with the request's field
 * names (beside the caller's own, so that one answer names them all), and
 * returns it with images normalised. Only valid when `errors` stays empty.
 */
export function checkSpec(spec: ServerGroupSpec, errors: FieldErrors): ValidatedSpec {
  checkNameParts(spec, errors);
  checkSize(spec, errors);
  checkTargetSize(spec.targetSize, errors);
  if (spec.containers.length === 0) errors.add("containers", "at least one container is required");

  const volumeNames = new Set<string>();
  spec.volumes.forEach((v, i) => {
    const at = FieldPath.root("volumes").index(i);
    nameCheck(v.name, at.child("name"), errors);
    if (volumeNames.has(v.name)) errors.add(at.child("name"), `duplicate volume name ${quoted(v.name)}`);
    volumeNames.add(v.name);
    const sources = [v.emptyDir, v.configMap, v.secret, v.persistentVolumeClaim].filter(Boolean).length;
    if (sources !== 1) errors.add(at, "exactly one of empty_dir, config_map, secret, persistent_volume_claim is required");
    if (v.emptyDir?.sizeLimit) quantityCheck(v.emptyDir.sizeLimit, at.child("empty_dir").child("size_limit"), errors);
    if (v.configMap) objectNameCheck(v.configMap.name, at.child("config_map").child("name"), errors);
    if (v.secret) objectNameCheck(v.secret.secretName, at.child("secret").child("secret_name"), errors);
    if (v.persistentVolumeClaim) objectNameCheck(v.persistentVolumeClaim.claimName, at.child("persistent_volume_claim").child("claim_name"), errors);
    for (const [source, projection] of [["config_map", v.configMap], ["secret", v.secret]] as const) {
      if (!projection) continue;
      const mode = projection.defaultMode;
      if (mode !== undefined && (mode < 0 || mode > 0o777)) errors.add(at.child(source).child("default_mode"), `must be between 0 and 0777, got ${mode}`);
      projection.items.forEach((item, j) => {
        const iat = at.child(source).child("items").index(j);
        configKeyCheck(item.key, iat.child("key"), errors);
        relativePathCheck(item.path, iat.child("path"), errors, true);
      });
    }
  });

  const containerNames = new Set<string>();
  const containers = spec.containers.map((c, i) => {
    const at = FieldPath.root("containers").index(i);
    nameCheck(c.name, at.child("name"), errors);
    if (containerNames.has(c.name)) errors.add(at.child("name"), `duplicate container name ${quoted(c.name)}`);
    containerNames.add(c.name);
    const image = normaliseImage(c.image);
    if ("problem" in image) errors.add(at.child("image"), image.problem);
    c.ports.forEach((p, j) => {
      const pat = at.child("ports").index(j);
      if (!Number.isInteger(p.containerPort) || p.containerPort < 1 || p.containerPort > 65535) {
        errors.add(pat.child("container_port"), `must be between 1 and 65535, got ${p.containerPort}`);
      }
      if (p.name && !isPortName(p.name)) {
        errors.add(pat.child("name"), `${quoted(p.name)} must be at most 15 lower-case letters, digits and '-', with at least one letter`);
      }
    });
    c.env.forEach((e, j) => {
      const eat = at.child("env").index(j);
      if (!e.name) errors.add(eat.child("name"), "is required");
      else if (!/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(e.name)) errors.add(eat.child("name"), `${quoted(e.name)} is not a valid environment variable name`);
      if (e.secretKey) keyRefCheck(e.secretKey, eat.child("secret_key"), errors);
      if (e.configMapKey) keyRefCheck(e.configMapKey, eat.child("config_map_key"), errors);
    });
    for (const r of ["cpu", "memory"] as const) {
      const request = c.resources.requests[r];
      const limit = c.resources.limits[r];
      const requested = request ? quantityCheck(request, at.child("resources").child("requests").child(r), errors) : undefined;
      const limited = limit ? quantityCheck(limit, at.child("resources").child("limits").child(r), errors) : undefined;
      if (requested !== undefined && limited !== undefined && requested > limited) {
        errors.add(at.child("resources").child("requests").child(r), `${quoted(request!)} must not exceed the limit ${quoted(limit!)}`);
      }
    }
    const portNames = new Set(c.ports.flatMap((p) => p.name ?? []));
    if (c.livenessProbe) probeCheck(c.livenessProbe, at.child("liveness_probe"), errors, true, portNames);
    if (c.readinessProbe) probeCheck(c.readinessProbe, at.child("readiness_probe"), errors, false, portNames);
    c.volumeMounts.forEach((m, j) => {
      const mat = at.child("volume_mounts").index(j);
      if (!volumeNames.has(m.name)) errors.add(mat.child("name"), `no volume named ${quoted(m.name)}`);
      if (!m.mountPath.startsWith("/")) errors.add(mat.child("mount_path"), `must be an absolute path, got ${quoted(m.mountPath)}`);
      if (m.subPath) relativePathCheck(m.subPath, mat.child("sub_path"), errors, false);
    });
    return "image" in image ? { ...c, image: image.image } : c;
  });

  spec.loadBalancers.forEach((lb, i) => {
    if (!isDns1035Label(lb)) {
      errors.add(FieldPath.root("load_balancers").index(i), `${quoted(lb)} is not a valid Service name`);
    }
  });
  for (const [key, value] of Object.entries(spec.labels)) {
    const at = keyPath("labels", key);
    if (isReservedPodLabel(key)) errors.add(at, `${quoted(key)} is reserved for kubedriver`);
    else if (!isQualifiedName(key)) errors.add(at, `${quoted(key)} is not a valid label key`);
    if (!isLabelValue(value)) errors.add(at, `${quoted(value)} is not a valid label value`);
  }
  for (const key of Object.keys(spec.annotations)) {
    const at = keyPath("annotations", key);
    if (isReservedAnnotation(key)) errors.add(at, `${quoted(key)} is reserved for kubedriver`);
    else if (!isQualifiedName(key)) errors.add(at, `${quoted(key)} is not a valid annotation key`);
  }
  for (const [key, value] of Object.entries(spec.nodeSelector)) {
    if (!isQualifiedName(key) || !isLabelValue(value)) {
      errors.add(keyPath("node_selector", key), `${quoted(`${key}: ${value}`)} is not a valid label selector term`);
    }
  }

  return { ...spec, containers } as ValidatedSpec;
}

/** A map entry's path; a key longer than any valid one (317 characters) is cut short, as messages quote values. */
function keyPath(map: string, key: string): FieldPath {
  return FieldPath.root(map).key(key.length <= 317 ? key : `${key.slice(0, 64)}…`);
}

/**
 * The spec is stored whole in an annotation of the ReplicationController,
 * so it must fit, with the caller's annotations, in Kubernetes' annotation
 * budget; the field that takes the most of it is named.
 */
function checkSize(spec: ServerGroupSpec, errors: FieldErrors): void {
  const bytes = (s: string) => Buffer.byteLength(s, "utf8");
  const annotations = Object.entries(spec.annotations).reduce((n, [k, v]) => n + bytes(k) + bytes(v), 0);
  const total = annotations + bytes(JSON.stringify(spec));
  if (total <= maxAnnotationBytes) return;
  const fields = { containers: spec.containers, volumes: spec.volumes, labels: spec.labels, annotations: spec.annotations, node_selector: spec.nodeSelector };
  const [largest] = Object.entries(fields)
    .map(([name, value]) => [name, bytes(JSON.stringify(value))] as const)
    .sort((a, b) => b[1] - a[1])[0]!;
  errors.add(largest, `the server group is ${total} bytes as stored in its ReplicationController's annotations; at most ${maxAnnotationBytes} fit`);
}

/** Secret, ConfigMap and claim names are DNS subdomains. */
function objectNameCheck(name: string, at: FieldPath, errors: FieldErrors): void {
  if (!name) errors.add(at, "is required");
  else if (!isDns1123Subdomain(name)) errors.add(at, `${quoted(name)} is not a valid object name (lower-case letters, digits, '-' and '.')`);
}

function configKeyCheck(key: string, at: FieldPath, errors: FieldErrors): void {
  if (!key) errors.add(at, "is required");
  else if (!isConfigKey(key)) errors.add(at, `${quoted(key)} is not a valid key (letters, digits, '-', '_' and '.')`);
}

function keyRefCheck(ref: KeyRef, at: FieldPath, errors: FieldErrors): void {
  objectNameCheck(ref.name, at.child("name"), errors);
  configKeyCheck(ref.key, at.child("key"), errors);
}

/** A path inside a volume: relative, never climbing out with `..`. */
function relativePathCheck(path: string, at: FieldPath, errors: FieldErrors, required: boolean): void {
  if (!path) {
    if (required) errors.add(at, "is required");
    return;
  }
  if (path.startsWith("/")) errors.add(at, `must be a relative path, got ${quoted(path)}`);
  else if (path.split("/").includes("..")) errors.add(at, `must not contain '..', got ${quoted(path)}`);
}

function nameCheck(name: string, at: FieldPath, errors: FieldErrors): void {
  if (!name) return errors.add(at, "is required");
  const problem = dns1123LabelProblem(name);
  if (problem) errors.add(at, problem);
}

/** The quantity's value in base units when it is a valid, non-negative one that fits an int64; undefined (and a violation) otherwise. */
function quantityCheck(q: string, at: FieldPath, errors: FieldErrors): number | undefined {
  const m = quantity.exec(q);
  if (!m) {
    errors.add(at, `${quoted(q)} is not a Kubernetes quantity (e.g. 250m, 1, 128Mi, 1G)`);
    return undefined;
  }
  const suffix = m[2] ?? "";
  const exponent = /^[eE][+-]?\d+$/.test(suffix);
  const value = Number(m[1]) * (exponent ? 10 ** Number(suffix.slice(1)) : quantityMultipliers[suffix]!);
  if (value < 0) errors.add(at, `must not be negative, got ${quoted(q)}`);
  else if (!(value < 2 ** 63)) errors.add(at, `${quoted(q)} is too large`);
  else return value;
  return undefined;
}

function probeCheck(p: ProbeSpec, at: FieldPath, errors: FieldErrors, liveness: boolean, portNames: Set<string>): void {
  const handlers = [p.exec, p.httpGet, p.tcpSocket].filter(Boolean).length;
  if (handlers !== 1) errors.add(at, "exactly one of exec, http_get, tcp_socket is required");
  if (p.exec && p.exec.command.length === 0) errors.add(at.child("exec").child("command"), "is required");
  for (const [name, handler] of [["http_get", p.httpGet], ["tcp_socket", p.tcpSocket]] as const) {
    if (!handler) continue;
    const hasNumber = handler.port !== undefined && handler.port !== 0;
    if (hasNumber === Boolean(handler.portName)) errors.add(at.child(name), "exactly one of port and port_name is required");
    if (hasNumber && (handler.port! < 1 || handler.port! > 65535)) errors.add(at.child(name).child("port"), `must be between 1 and 65535, got ${handler.port}`);
    if (handler.portName && !portNames.has(handler.portName)) {
      errors.add(at.child(name).child("port_name"), `${quoted(handler.portName)} is not the name of a port of this container`);
    }
  }
  p.httpGet?.headers.forEach((h, i) => {
    if (!httpHeaderName.test(h.name)) errors.add(at.child("http_get").child("headers").index(i).child("name"), `${quoted(h.name)} is not a valid HTTP header name`);
  });
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
