import { createHash } from "node:crypto";
import path from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { FileReadError, readBoundedText } from "../common/files.js";
import { parseYaml } from "../common/yaml.js";
import { installExecCredentials, type ExecCredentialOptions } from "./exec-credentials.js";

/** Which cluster, user and namespace an account uses, as read from its kubeconfig. */
export interface ResolvedKubeconfig {
  kubeConfig: KubeConfig;
  context: string;
  cluster: string;
  user: string;
  server: string;
  /** The context's namespace, when it sets one. */
  namespace?: string;
}

/**
 * What an account's connection is made of, read from disk: the kubeconfig's
 * text and the token files it names (client-node reads a `token-file` once,
 * when the kubeconfig is loaded; client certificates and CA files it reads
 * again on every request). Equal fingerprints mean an equal connection, so a
 * reload keeps the account's client; `files` are what to watch for a change.
 */
export interface KubeconfigInputs {
  fingerprint: string;
  files: string[];
}

/** Parsed kubeconfig documents by text digest, shared by the accounts of one reload that use the same file. */
export type KubeconfigParseCache = Map<string, unknown>;

/** The inputs of `file` for the selected user and cluster; undefined when it cannot be read (resolving says why). */
export function kubeconfigInputs(file: string, select: { user?: string; cluster?: string }, cache: KubeconfigParseCache = new Map()): KubeconfigInputs | undefined {
  let text: string;
  try {
    text = readBoundedText(file, "kubeconfig");
  } catch {
    return undefined;
  }
  const hash = createHash("sha256").update(JSON.stringify([file, select.user ?? null, select.cluster ?? null])).update(text);
  const digest = createHash("sha256").update(text).digest("hex");
  let doc = cache.get(digest);
  if (doc === undefined) {
    const parsed = parseYaml(text, { merge: true });
    doc = parsed.ok ? (parsed.value ?? {}) : {};
    cache.set(digest, doc);
  }
  const files = [file];
  for (const tokenFile of tokenFilesOf(doc, path.dirname(file))) {
    files.push(tokenFile);
    try {
      hash.update(`\u0000${tokenFile}\u0000`).update(readBoundedText(tokenFile, "kubeconfig"));
    } catch {
      hash.update(`\u0000${tokenFile}\u0000unreadable`);
    }
  }
  return { fingerprint: hash.digest("hex"), files };
}

/** Every user's `token-file`, absolute (relative ones are relative to the kubeconfig, as for kubectl). */
function tokenFilesOf(doc: unknown, dir: string): string[] {
  const users = (doc as { users?: unknown } | null)?.users;
  if (!Array.isArray(users)) return [];
  return users
    .map((u) => (u as { user?: { "token-file"?: unknown } } | null)?.user?.["token-file"])
    .filter((f): f is string => typeof f === "string" && f !== "")
    .map((f) => path.resolve(dir, f));
}

/** client-node reads `token-file` relative to the process's directory; kubectl reads it relative to the kubeconfig. */
function absoluteTokenFiles(doc: unknown, dir: string): unknown {
  const users = (doc as { users?: unknown } | null)?.users;
  if (!Array.isArray(users)) return doc;
  for (const u of users) {
    const user = (u as { user?: Record<string, unknown> } | null)?.user;
    if (user && typeof user["token-file"] === "string" && user["token-file"] !== "") user["token-file"] = path.resolve(dir, user["token-file"]);
  }
  return doc;
}

export type KubeconfigProblem = { field: "kubeconfigFile" | "user" | "cluster"; description: string };

/**
 * Loads a kubeconfig with client-node (certificates, tokens, token files,
 * basic auth and insecure-skip-tls-verify all come from it; exec plugins are
 * run by exec-credentials.ts instead) and narrows it to one context: the
 * current context, with its user and cluster replaced by the ones the
 * account names.
 */
export function resolveKubeconfig(
  file: string,
  select: { user?: string; cluster?: string },
  execOptions: Partial<ExecCredentialOptions> = {},
): { resolved?: ResolvedKubeconfig; problems: KubeconfigProblem[] } {
  // What `kc.loadFromFile` does, with the file read through the bounded reader and parsed
  // by our YAML parser: client-node's reader follows FIFOs and devices, and its YAML errors
  // quote the file, which holds credentials. client-node gets the document as JSON, and
  // relative certificate and token paths resolve against the file's directory, as there.
  const kc = new KubeConfig();
  const cannotLoad = (why: string) => ({ problems: [{ field: "kubeconfigFile" as const, description: `cannot load kubeconfig "${file}" (${why})` }] });
  let text: string;
  try {
    text = readBoundedText(file, "kubeconfig");
  } catch (err) {
    return cannotLoad(err instanceof FileReadError ? err.problem : "unreadable");
  }
  const parsed = parseYaml(text, { merge: true });
  if (!parsed.ok) return cannotLoad(parsed.problems.join("; "));
  try {
    kc.loadFromString(JSON.stringify(absoluteTokenFiles(parsed.value ?? {}, path.dirname(file))));
    kc.makePathsAbsolute(path.dirname(file));
  } catch (err) {
    // client-node's own checks name the missing field (`clusters[0].cluster.server is missing`), never a value.
    return cannotLoad(err instanceof Error ? err.message.split("\n")[0]! : "unreadable");
  }

  const execProblems = installExecCredentials(kc, execOptions);
  const problems: KubeconfigProblem[] = [];
  const currentName = kc.getCurrentContext();
  const current = currentName ? kc.getContextObject(currentName) : null;
  const clusterName = select.cluster ?? current?.cluster;
  const userName = select.user ?? current?.user;

  if (!clusterName) problems.push({ field: "cluster", description: `kubeconfig "${file}" has no current-context; name a cluster` });
  else if (!kc.getCluster(clusterName)) {
    problems.push({ field: "cluster", description: `cluster "${clusterName}" is not in kubeconfig "${file}"` });
  }
  if (!userName) problems.push({ field: "user", description: `kubeconfig "${file}" has no current-context; name a user` });
  else if (!kc.getUser(userName)) {
    problems.push({ field: "user", description: `user "${userName}" is not in kubeconfig "${file}"` });
  } else if (execProblems.has(userName)) {
    problems.push({ field: "user", description: `kubeconfig "${file}": ${execProblems.get(userName)}` });
  }
  const server = clusterName ? kc.getCluster(clusterName)?.server : undefined;
  if (server?.startsWith("http://") && !kc.getCluster(clusterName!)?.skipTLSVerify) {
    // client-node refuses such a cluster on every request; say so at start-up instead.
    problems.push({
      field: "cluster",
      description: `cluster "${clusterName}" in kubeconfig "${file}" has a plain-HTTP server (${server}); @kubernetes/client-node uses one only with insecure-skip-tls-verify: true`,
    });
  }
  if (problems.length > 0 || !clusterName || !userName) return { problems };

  const namespace = current?.namespace || undefined;
  let context = currentName;
  if (!current || current.cluster !== clusterName || current.user !== userName) {
    // The account mixes entries of the file: give client-node a context of exactly that pair.
    context = `kubedriver/${clusterName}/${userName}`;
    kc.addContext({ name: context, cluster: clusterName, user: userName, namespace });
    kc.setCurrentContext(context);
  }
  return {
    resolved: {
      kubeConfig: kc,
      context,
      cluster: clusterName,
      user: userName,
      server: kc.getCluster(clusterName)!.server,
      namespace,
    },
    problems: [],
  };
}
