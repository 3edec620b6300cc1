import type { ConfigurationOptions } from "@kubernetes/client-node";
import type { KubeCallOptions, KubeClient } from "./client.js";

/**
 * One Kubernetes kind kubedriver touches, described once: where it lives in
 * the API, what messages call it, and (for the kinds kubedriver lists) how to
 * list it. Calls name their target by `name`, read-your-writes is keyed by
 * the kind itself, lists and watches are built from it: core names a kind
 * and never spells a path or a message string. Adding a kind is one
 * description (in the kind's module) plus its calls.
 */
export interface Kind {
  /** One object, in messages: lower-case words, e.g. "replication controller". */
  readonly name: string;
  /** Several, in messages: "replication controllers". */
  readonly plural: string;
  /** The API group, "" for the core group. */
  readonly group: string;
  readonly version: string;
  /** The resource in URLs: "replicationcontrollers". */
  readonly resource: string;
}

/** One page of a Kubernetes list, in the shape every generated list method returns. */
export interface Page<T> {
  items: T[];
  metadata?: { _continue?: string; resourceVersion?: string };
}

export interface PageParams {
  namespace: string;
  labelSelector?: string;
  limit: number;
  _continue?: string;
}

/** A kind kubedriver lists (and so may watch): its generated client's list call. */
export interface ListedKind<T> extends Kind {
  listPage(client: KubeClient, params: PageParams, options: ConfigurationOptions): Promise<Page<T>>;
}

/** The URL path of a kind's collection in a namespace, e.g. `/apis/autoscaling/v2/namespaces/web/horizontalpodautoscalers`. */
export function collectionPath(kind: Kind, namespace: string): string {
  const groupVersion = kind.group ? `/apis/${kind.group}/${kind.version}` : `/api/${kind.version}`;
  return `${groupVersion}/namespaces/${encodeURIComponent(namespace)}/${kind.resource}`;
}

/** The apiVersion objects of the kind carry: `v1`, `autoscaling/v2`. */
export function apiVersionOf(kind: Kind): string {
  return kind.group ? `${kind.group}/${kind.version}` : kind.version;
}

/** How many objects one list request asks for; `continue` tokens fetch the rest. */
const pageSize = 500;

/**
 * Every object of the kind in a namespace matching `labelSelector`,
 * following `continue` tokens, and the resourceVersion the list is consistent
 * at: the first page's, which later pages keep, so a watch started there
 * misses nothing.
 */
export async function listAt<T>(
  client: KubeClient,
  kind: ListedKind<T>,
  namespace: string,
  labelSelector: string | undefined,
  opts?: KubeCallOptions,
): Promise<{ items: T[]; resourceVersion: string }> {
  const items: T[] = [];
  let token: string | undefined;
  let resourceVersion = "";
  do {
    const got = await client.call(
      { verb: "list", kind: kind.plural, namespace },
      (o) => kind.listPage(client, { namespace, labelSelector: labelSelector || undefined, limit: pageSize, _continue: token }, o),
      opts,
    );
    items.push(...got.items);
    resourceVersion ||= got.metadata?.resourceVersion ?? "";
    token = got.metadata?._continue || undefined;
  } while (token);
  return { items, resourceVersion };
}

/** The same, the objects only. */
export async function list<T>(client: KubeClient, kind: ListedKind<T>, namespace: string, labelSelector?: string, opts?: KubeCallOptions): Promise<T[]> {
  return (await listAt(client, kind, namespace, labelSelector, opts)).items;
}
