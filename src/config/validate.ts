import os from "node:os";
import path from "node:path";
import { FieldPath, type FieldViolation } from "../common/field-path.js";
import { type FileKind, FileReadError } from "../common/files.js";
import { dns1123LabelProblem } from "../common/kubernetes-names.js";
import { ConfigReader } from "./reader.js";
import {
  type AccountPermissions,
  defaultListen,
  type DockerRegistryAccountConfig,
  type DockerRegistryBindingConfig,
  type KubedriverConfig,
  type KubernetesAccountConfig,
  type ServerConfig,
} from "./types.js";

/** Files referenced by the config (passwordFile, TLS, tokens) are read through this, bounded by kind. */
export type ReadFile = (file: string, kind: FileKind) => string;

export interface ValidateOptions {
  /** Relative paths in the config are resolved against this directory. */
  baseDir: string;
  readFile: ReadFile;
  homeDir?: string;
  /**
   * What else is wrong with an account that only reading its kubeconfig
   * tells (a missing file, a user not in it), fields relative to the
   * account. Asked only when the file has problems of its own, so that one
   * report names them all; a file without any is checked by resolving its
   * accounts, once.
   */
  checkAccount?: (account: KubernetesAccountConfig) => readonly FieldViolation[];
}

const accountName = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Validates and defaults a parsed account spec, collecting every problem. */
export function validateConfig(raw: unknown, opts: ValidateOptions, r = new ConfigReader()): KubedriverConfig | undefined {
  const root = FieldPath.root();
  const top = r.object(raw ?? {}, root, ["server", "kubernetes", "dockerRegistry"]) ?? {};

  const server = readServer(r, top.server, root.child("server"), opts);
  const { declared, complete, ...dockerRegistry } = readDockerRegistry(r, top.dockerRegistry, root.child("dockerRegistry"), opts);
  const { read, ...kubernetes } = readKubernetes(r, top.kubernetes, root.child("kubernetes"), opts, { enabled: dockerRegistry.enabled, declared, complete });
  if (!r.errors.empty && opts.checkAccount) {
    for (const [i, account] of read) {
      const at = root.child("kubernetes").child("accounts").index(i);
      for (const p of opts.checkAccount(account)) r.errors.add(at.child(p.field), p.description);
    }
  }

  return r.errors.empty ? { server, kubernetes, dockerRegistry } : undefined;
}

function readServer(r: ConfigReader, value: unknown, at: FieldPath, opts: ValidateOptions): ServerConfig {
  const s = r.object(value, at, ["listen", "healthListen", "metricsListen", "shutdownGraceSeconds", "tls", "auth"]) ?? {};
  const listen = readListen(r, s.listen, at.child("listen")) ?? defaultListen;
  return {
    host: listen.host,
    port: listen.port,
    shutdownGraceSeconds: r.integer(s.shutdownGraceSeconds, at.child("shutdownGraceSeconds"), { min: 0, max: 3600 }) ?? 10,
    healthListen: readListen(r, s.healthListen, at.child("healthListen")),
    metricsListen: readListen(r, s.metricsListen, at.child("metricsListen")),
    tls: readTls(r, s.tls, at.child("tls"), opts),
    auth: readAuth(r, s.auth, at.child("auth"), opts),
  };
}

function readListen(r: ConfigReader, value: unknown, at: FieldPath): { host: string; port: number } | undefined {
  const listen = r.string(value, at);
  if (listen === undefined) return undefined;
  const parsed = parseListen(listen);
  if (!parsed) r.errors.add(at, `must be HOST:PORT with a port from 1 to 65535, got "${listen}"`);
  return parsed;
}

function readTls(r: ConfigReader, value: unknown, at: FieldPath, opts: ValidateOptions): ServerConfig["tls"] {
  const t = r.object(value, at, ["certFile", "keyFile", "clientCaFile"]);
  if (!t) return undefined;
  const file = (key: string, required: boolean) => {
    const given = r.string(t[key], at.child(key), { required });
    return given === undefined ? undefined : readableFile(r, expandPath(given, opts), at.child(key), opts, "tls");
  };
  const certFile = file("certFile", true);
  const keyFile = file("keyFile", true);
  const clientCaFile = file("clientCaFile", false);
  return certFile && keyFile ? { certFile, keyFile, clientCaFile } : undefined;
}

function readAuth(r: ConfigReader, value: unknown, at: FieldPath, opts: ValidateOptions): ServerConfig["auth"] {
  const a = r.object(value, at, ["tokensFile"]);
  if (!a) return undefined;
  const tokensFile = r.string(a.tokensFile, at.child("tokensFile"), { required: true });
  return tokensFile === undefined ? undefined : { tokensFile: readableFile(r, expandPath(tokensFile, opts), at.child("tokensFile"), opts, "tokens") };
}

/** The path, after checking it can be read now (its content is read where it is used). */
function readableFile(r: ConfigReader, file: string, at: FieldPath, opts: ValidateOptions, kind: FileKind): string {
  try {
    opts.readFile(file, kind);
  } catch (err) {
    r.errors.add(at, `cannot read "${file}" (${readProblem(err)})`);
  }
  return file;
}

function readProblem(err: unknown): string {
  return err instanceof FileReadError ? err.problem : ((err as NodeJS.ErrnoException).code ?? "unreadable");
}

/** Parses `HOST:PORT` or `[IPv6]:PORT`; port 0 asks the OS for a free one. */
export function parseListen(listen: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(listen);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { host: m[1] ?? (m[2] || "0.0.0.0"), port };
}

function readDockerRegistry(r: ConfigReader, value: unknown, at: FieldPath, opts: ValidateOptions) {
  const problemsBefore = r.errors.violations.length;
  const d = r.object(value, at, ["enabled", "accounts"]) ?? {};
  const enabled = r.boolean(d.enabled, at.child("enabled")) ?? true;
  const accounts: DockerRegistryAccountConfig[] = [];
  const names = new Set<string>();
  // Whether every registry account's name could be read: otherwise (`acounts:`, `nme:`) a
  // binding to a name not declared most likely means that one, and saying so at each binding
  // would bury the one problem to fix under as many as there are accounts.
  const listed = r.list(d.accounts, at.child("accounts"));
  let complete = r.errors.violations.length === problemsBefore;
  (listed ?? []).forEach((item, i) => {
    const p = at.child("accounts").index(i);
    const a = r.object(item, p, ["name", "address", "username", "password", "passwordFile", "email"]);
    if (!a) {
      complete = false;
      return r.errors.add(p, "must be a mapping");
    }
    const name = readAccountName(r, a.name, p.child("name"), names);
    if (name === undefined) complete = false;
    const address = r.string(a.address, p.child("address"), { required: true });
    const username = r.string(a.username, p.child("username"), { required: true });
    const password = readPassword(r, a, p, opts);
    const email = r.string(a.email, p.child("email")) ?? "";
    if (name && address && username && password !== undefined) {
      const passwordFile = typeof a.passwordFile === "string" ? expandPath(a.passwordFile, opts) : undefined;
      accounts.push({ name, address, username, password, email, ...(passwordFile ? { passwordFile } : {}) });
    }
  });
  // Bindings are checked against every name declared, so that a registry account with a bad
  // field (a password file too large) is reported once, not again at each binding.
  return { enabled, accounts: enabled ? accounts : [], declared: names, complete };
}

function readPassword(r: ConfigReader, a: Record<string, unknown>, p: FieldPath, opts: ValidateOptions): string | undefined {
  const inline = r.string(a.password, p.child("password"));
  const file = r.string(a.passwordFile, p.child("passwordFile"));
  if (inline !== undefined && file !== undefined) {
    r.errors.add(p.child("passwordFile"), "give either password or passwordFile, not both");
    return undefined;
  }
  if (file === undefined) {
    if (inline === undefined) r.errors.add(p.child("password"), "is required (or passwordFile)");
    return inline;
  }
  const resolved = expandPath(file, opts);
  try {
    // A trailing newline is an artefact of how such files are written, not part of the password.
    return opts.readFile(resolved, "password").replace(/\r?\n$/, "");
  } catch (err) {
    r.errors.add(p.child("passwordFile"), `cannot read "${resolved}" (${readProblem(err)})`);
    return undefined;
  }
}

function readKubernetes(
  r: ConfigReader,
  value: unknown,
  at: FieldPath,
  opts: ValidateOptions,
  registries: { enabled: boolean; declared: Set<string>; complete: boolean },
) {
  const k =
    r.object(value, at, [
      "enabled",
      "accounts",
      "healthCheckIntervalSeconds",
      "healthCheckTimeoutSeconds",
      "healthCheckConcurrency",
    ]) ?? {};
  const enabled = r.boolean(k.enabled, at.child("enabled")) ?? true;
  const healthCheckIntervalSeconds =
    r.integer(k.healthCheckIntervalSeconds, at.child("healthCheckIntervalSeconds"), { min: 1, max: 86_400 }) ?? 30;
  const healthCheckTimeoutSeconds =
    r.integer(k.healthCheckTimeoutSeconds, at.child("healthCheckTimeoutSeconds"), { min: 1, max: 3600 }) ?? 5;
  const healthCheckConcurrency =
    r.integer(k.healthCheckConcurrency, at.child("healthCheckConcurrency"), { min: 1, max: 1024 }) ?? 16;

  const registryNames = registries.declared;
  const accounts: KubernetesAccountConfig[] = [];
  /** Each account read, by its index in the list, for checks that need its kubeconfig. */
  const read: [number, KubernetesAccountConfig][] = [];
  const names = new Set<string>();
  (r.list(k.accounts, at.child("accounts")) ?? []).forEach((item, i) => {
    const p = at.child("accounts").index(i);
    const a = r.object(item, p, ["name", "kubeconfigFile", "namespaces", "user", "cluster", "dockerRegistries", "permissions"]);
    if (!a) return r.errors.add(p, "must be a mapping");
    const name = readAccountName(r, a.name, p.child("name"), names);
    const kubeconfigFile = expandPath(r.string(a.kubeconfigFile, p.child("kubeconfigFile")) ?? "~/.kube/config", opts);
    const namespaces = r.stringList(a.namespaces, p.child("namespaces"), dns1123LabelProblem);
    const user = r.string(a.user, p.child("user"));
    const cluster = r.string(a.cluster, p.child("cluster"));
    const dockerRegistries = readBindings(r, a.dockerRegistries, p.child("dockerRegistries"), {
      registryNames,
      registriesEnabled: registries.enabled,
      registriesComplete: registries.complete,
      accountNamespaces: namespaces,
    });
    const permissions = readPermissions(r, a.permissions, p.child("permissions"));
    if (!name) return;
    const account = { name, kubeconfigFile, namespaces, user, cluster, dockerRegistries, permissions };
    accounts.push(account);
    read.push([i, account]);
  });
  return {
    enabled,
    healthCheckIntervalSeconds,
    healthCheckTimeoutSeconds,
    healthCheckConcurrency,
    accounts: enabled ? accounts : [],
    read: enabled ? read : [],
  };
}

function readBindings(
  r: ConfigReader,
  value: unknown,
  at: FieldPath,
  ctx: { registryNames: Set<string>; registriesEnabled: boolean; registriesComplete: boolean; accountNamespaces?: string[] },
): DockerRegistryBindingConfig[] {
  const items = r.list(value, at);
  if (!items || items.length === 0) {
    r.errors.add(at, "at least one docker registry account is required");
    return [];
  }
  const out: DockerRegistryBindingConfig[] = [];
  const seen = new Set<string>();
  items.forEach((item, i) => {
    const p = at.index(i);
    const b = r.object(item, p, ["accountName", "namespaces"]);
    if (!b) return r.errors.add(p, "must be a mapping");
    const accountName = r.string(b.accountName, p.child("accountName"), { required: true });
    if (accountName !== undefined) {
      if (!ctx.registriesEnabled) {
        r.errors.add(p.child("accountName"), `docker registry account "${accountName}" cannot be used: dockerRegistry.enabled is false`);
      } else if (!ctx.registryNames.has(accountName)) {
        if (ctx.registriesComplete) r.errors.add(p.child("accountName"), `no docker registry account named "${accountName}" (dockerRegistry.accounts)`);
      } else if (seen.has(accountName)) {
        r.errors.add(p.child("accountName"), `duplicate docker registry account "${accountName}"`);
      }
      seen.add(accountName);
    }
    const namespaces = r.stringList(b.namespaces, p.child("namespaces"), dns1123LabelProblem);
    for (const [j, ns] of (namespaces ?? []).entries()) {
      if (ctx.accountNamespaces && !ctx.accountNamespaces.includes(ns)) {
        r.errors.add(p.child("namespaces").index(j), `namespace "${ns}" is not one of the account's namespaces`);
      }
    }
    if (accountName) out.push({ accountName, namespaces });
  });
  return out;
}

/** `{READ: [groups], WRITE: [groups]}`, as the platform's account permissions are written. */
function readPermissions(r: ConfigReader, value: unknown, at: FieldPath): AccountPermissions | undefined {
  const p = r.object(value, at, ["READ", "WRITE"]);
  if (!p) return undefined;
  const groups = (key: string) => (p[key] === undefined ? [] : (r.stringList(p[key], at.child(key)) ?? []));
  return { read: groups("READ"), write: groups("WRITE") };
}

/** A required, well-formed account name not seen before in the same list. */
function readAccountName(r: ConfigReader, value: unknown, at: FieldPath, seen: Set<string>): string | undefined {
  const name = r.string(value, at, { required: true });
  if (name === undefined) return undefined;
  if (!accountName.test(name)) r.errors.add(at, `"${name}" must be letters, digits, '-', '_' or '.'`);
  else if (seen.has(name)) r.errors.add(at, `duplicate account name "${name}"`);
  seen.add(name);
  return name;
}

function expandPath(file: string, opts: ValidateOptions): string {
  const home = opts.homeDir ?? os.homedir();
  if (file === "~") return home;
  if (file.startsWith("~/")) return path.join(home, file.slice(2));
  return path.resolve(opts.baseDir, file);
}
