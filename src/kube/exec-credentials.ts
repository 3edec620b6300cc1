import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import type https from "node:https";
import type { Cluster, KubeConfig, User } from "@kubernetes/client-node";

/** client-node's extension point; its interface is not exported by name. */
type Authenticator = Parameters<KubeConfig["addAuthenticator"]>[0];

/**
 * Runs kubeconfig exec credential plugins (`users[].user.exec`) in place of
 * client-node's own ExecAuth, which waits for a plugin forever, keeps all of
 * its output, puts its stderr in the error it throws (so a plugin's
 * diagnostics, sometimes a token, reach logs and callers), accepts any JSON,
 * and starts one plugin per concurrent request. Here: one run at a time per
 * user, with a deadline, bounded stdout, stderr discarded, the ExecCredential
 * checked, and the credential kept until its expirationTimestamp.
 */
export interface ExecCredentialOptions {
  /** A plugin still running after this long is killed and the request fails. */
  timeoutMs: number;
  /** A plugin that prints more than this on stdout is killed and the request fails. */
  maxOutputBytes: number;
  /** How long a credential without expirationTimestamp is used before the plugin runs again. */
  unexpiringTtlMs: number;
  /** After a failure, requests fail at once with it for this long instead of running the plugin again. */
  failureHoldMs: number;
}

export const execCredentialDefaults: ExecCredentialOptions = {
  timeoutMs: 10_000,
  maxOutputBytes: 256 * 1024,
  unexpiringTtlMs: 60_000,
  failureHoldMs: 2_000,
};

const supportedApiVersions = new Set([
  "client.authentication.k8s.io/v1",
  "client.authentication.k8s.io/v1beta1",
  "client.authentication.k8s.io/v1alpha1",
]);

/**
 * Why a plugin gave no credential, in words safe for logs and callers: never
 * anything the plugin printed. `toCoreError` turns it into UNAVAILABLE with
 * reason CREDENTIAL_PLUGIN_FAILED, naming the account and the call.
 */
export class CredentialPluginError extends Error {
  constructor(readonly why: string) {
    super(why);
    this.name = "CredentialPluginError";
  }
}

interface ExecConfig {
  command: string;
  args: string[];
  env: Record<string, string>;
  apiVersion: string;
  provideClusterInfo: boolean;
}

interface Credential {
  token?: string;
  cert?: string;
  key?: string;
  /** Epoch ms after which the plugin runs again. */
  expiresAt: number;
}

/**
 * Takes every exec plugin out of `kc`'s users, so that client-node's ExecAuth
 * no longer matches them, and registers one authenticator that runs them.
 * Returns, by user name, the problem of each exec section that can never
 * work (no command, an apiVersion no plugin protocol has, an interactive-only
 * plugin).
 */
export function installExecCredentials(kc: KubeConfig, options: Partial<ExecCredentialOptions> = {}): Map<string, string> {
  const problems = new Map<string, string>();
  const plugins = new Map<string, ExecConfig>();
  const users = kc.getUsers().map((user) => {
    const raw = execSectionOf(user);
    if (raw === undefined) return user;
    const parsed = parseExecConfig(raw);
    if (typeof parsed === "string") problems.set(user.name, `the exec credential plugin of user "${user.name}" ${parsed}`);
    else plugins.set(user.name, parsed);
    const { exec: _exec, authProvider, ...rest } = user;
    // A legacy `auth-provider: {name: exec}` is nothing but the plugin; any other auth-provider stays.
    return isExecAuthProvider(authProvider) ? rest : { ...rest, authProvider };
  });
  if (plugins.size === 0 && problems.size === 0) return problems;
  kc.loadFromOptions({
    clusters: kc.getClusters(),
    users,
    contexts: kc.getContexts(),
    currentContext: kc.getCurrentContext(),
  });
  kc.addAuthenticator(new ExecCredentialAuthenticator(plugins, () => kc.getCurrentCluster(), { ...execCredentialDefaults, ...options }));
  return problems;
}

function isExecAuthProvider(authProvider: unknown): boolean {
  const p = authProvider as { name?: unknown; config?: { exec?: unknown } } | null | undefined;
  return Boolean(p && (p.name === "exec" || p.config?.exec));
}

function execSectionOf(user: User): unknown {
  if (user.exec) return user.exec;
  const p = user.authProvider as { config?: { exec?: unknown } } | null | undefined;
  return isExecAuthProvider(p) ? (p?.config?.exec ?? {}) : undefined;
}

function parseExecConfig(raw: unknown): ExecConfig | string {
  const e = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
  if (typeof e.command !== "string" || e.command === "") return "has no command";
  if (typeof e.apiVersion !== "string" || !supportedApiVersions.has(e.apiVersion)) {
    return `has apiVersion ${JSON.stringify(e.apiVersion ?? null)}; expected one of ${[...supportedApiVersions].join(", ")}`;
  }
  if (e.interactiveMode === "Always") return "needs an interactive terminal (interactiveMode: Always), which kubedriver never has";
  const args = Array.isArray(e.args) ? e.args.filter((a): a is string => typeof a === "string") : [];
  const env: Record<string, string> = {};
  if (Array.isArray(e.env)) {
    for (const entry of e.env as { name?: unknown; value?: unknown }[]) {
      if (typeof entry?.name === "string" && typeof entry.value === "string") env[entry.name] = entry.value;
    }
  }
  return { command: e.command, args, env, apiVersion: e.apiVersion, provideClusterInfo: e.provideClusterInfo === true };
}

class ExecCredentialAuthenticator implements Authenticator {
  private readonly credentials = new Map<string, Credential>();
  private readonly inFlight = new Map<string, Promise<Credential>>();
  private readonly failures = new Map<string, { error: CredentialPluginError; until: number }>();

  constructor(
    private readonly plugins: ReadonlyMap<string, ExecConfig>,
    private readonly cluster: () => Cluster | null,
    private readonly options: ExecCredentialOptions,
  ) {}

  isAuthProvider(user: User): boolean {
    return this.plugins.has(user.name);
  }

  async applyAuthentication(user: User, opts: https.RequestOptions): Promise<void> {
    const credential = await this.credentialFor(user.name);
    if (credential.cert && credential.key) {
      opts.cert = credential.cert;
      opts.key = credential.key;
    }
    if (credential.token) opts.headers = { ...opts.headers, Authorization: `Bearer ${credential.token}` };
  }

  private credentialFor(userName: string): Promise<Credential> {
    const now = Date.now();
    const cached = this.credentials.get(userName);
    if (cached && cached.expiresAt > now) return Promise.resolve(cached);
    const failed = this.failures.get(userName);
    if (failed && failed.until > now) return Promise.reject(failed.error);
    const running = this.inFlight.get(userName);
    if (running) return running;

    const run = this.runPlugin(this.plugins.get(userName)!).then(
      (credential) => {
        this.credentials.set(userName, credential);
        this.failures.delete(userName);
        return credential;
      },
      (err: unknown) => {
        this.credentials.delete(userName);
        const error = err instanceof CredentialPluginError ? err : new CredentialPluginError("could not be run");
        this.failures.set(userName, { error, until: Date.now() + this.options.failureHoldMs });
        throw error;
      },
    );
    this.inFlight.set(userName, run);
    const forget = () => this.inFlight.delete(userName);
    run.then(forget, forget);
    return run;
  }

  private async runPlugin(exec: ExecConfig): Promise<Credential> {
    const info = { apiVersion: exec.apiVersion, kind: "ExecCredential", spec: { interactive: false, ...(exec.provideClusterInfo ? { cluster: await this.clusterInfo() } : {}) } };
    const stdout = await run(exec, { ...process.env, ...exec.env, KUBERNETES_EXEC_INFO: JSON.stringify(info) }, this.options);
    return parseExecCredential(stdout, exec.apiVersion, this.options.unexpiringTtlMs);
  }

  /** The cluster as client-go describes it to a plugin that asks (`provideClusterInfo: true`). */
  private async clusterInfo(): Promise<Record<string, unknown>> {
    const c = this.cluster();
    if (!c) return {};
    const ca = c.caData ?? (c.caFile ? (await readFile(c.caFile).catch(() => undefined))?.toString("base64") : undefined);
    return {
      server: c.server,
      ...(c.tlsServerName ? { "tls-server-name": c.tlsServerName } : {}),
      ...(c.skipTLSVerify ? { "insecure-skip-tls-verify": true } : {}),
      ...(ca ? { "certificate-authority-data": ca } : {}),
      ...(c.proxyUrl ? { "proxy-url": c.proxyUrl } : {}),
    };
  }
}

/**
 * Runs the plugin and resolves with its stdout. The plugin gets its own
 * process group, so that a deadline kills whatever it started too (a shell
 * script's `sleep` would otherwise keep stdout open), and no stdin: it can
 * never prompt. Its stderr is discarded unread.
 */
function run(exec: ExecConfig, env: NodeJS.ProcessEnv, options: ExecCredentialOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(exec.command, exec.args, { env, stdio: ["ignore", "pipe", "ignore"], detached: true });
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (error: CredentialPluginError | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      if (error) {
        killGroup(child.pid);
        child.stdout.destroy();
        reject(error);
      } else resolve(Buffer.concat(chunks).toString("utf8"));
    };
    const deadline = setTimeout(() => finish(new CredentialPluginError(`did not finish within ${options.timeoutMs} ms`)), options.timeoutMs);
    child.stdout.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > options.maxOutputBytes) finish(new CredentialPluginError(`printed more than ${options.maxOutputBytes} bytes`));
      else chunks.push(chunk);
    });
    // An 'error' event nobody listens to would end the process.
    child.stdout.on("error", () => finish(new CredentialPluginError("could not be read from")));
    child.on("error", (err: NodeJS.ErrnoException) =>
      finish(new CredentialPluginError(err.code === "ENOENT" ? `command ${JSON.stringify(exec.command)} was not found (ENOENT)` : `could not be started (${err.code ?? "error"})`)),
    );
    child.on("close", (code, signal) => {
      if (code === 0) finish(undefined);
      else finish(new CredentialPluginError(signal ? `was killed by ${signal}` : `exited with code ${code}`));
    });
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // Already gone: nothing left to stop.
  }
}

/**
 * Checks the plugin's answer is an ExecCredential of the protocol version
 * asked for, with a token or a client certificate and key. The message of a
 * failure says what was wrong, never what was printed.
 */
export function parseExecCredential(stdout: string, apiVersion: string, unexpiringTtlMs: number, now = Date.now()): Credential {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    throw new CredentialPluginError("printed something that is not JSON; an ExecCredential was expected");
  }
  const obj = (typeof doc === "object" && doc !== null && !Array.isArray(doc) ? doc : {}) as Record<string, unknown>;
  if (obj.kind !== "ExecCredential") throw new CredentialPluginError("printed JSON that is not an ExecCredential (kind)");
  if (obj.apiVersion !== apiVersion) {
    throw new CredentialPluginError(`answered apiVersion ${JSON.stringify(typeof obj.apiVersion === "string" ? obj.apiVersion : null)}; the kubeconfig asks for ${apiVersion}`);
  }
  const status = (typeof obj.status === "object" && obj.status !== null ? obj.status : {}) as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
  const token = text(status.token);
  const cert = text(status.clientCertificateData);
  const key = text(status.clientKeyData);
  if (!token && !(cert && key)) {
    throw new CredentialPluginError("answered an ExecCredential with neither status.token nor both status.clientCertificateData and status.clientKeyData");
  }
  if ((cert === undefined) !== (key === undefined)) {
    throw new CredentialPluginError("answered a client certificate without its key, or a key without its certificate");
  }
  let expiresAt = now + unexpiringTtlMs;
  if (status.expirationTimestamp !== undefined) {
    const at = typeof status.expirationTimestamp === "string" ? Date.parse(status.expirationTimestamp) : NaN;
    if (Number.isNaN(at)) throw new CredentialPluginError("answered an expirationTimestamp that is not an RFC 3339 time");
    expiresAt = at;
  }
  return { token, cert, key, expiresAt };
}
