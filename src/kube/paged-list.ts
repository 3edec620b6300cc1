import type { KubeCallOptions, KubeClient } from "./client.js";

/** One page of a Kubernetes list, in the shape every generated list method returns. */
interface Page<T> {
  items: T[];
  metadata?: { _continue?: string; resourceVersion?: string };
}

/**
 * Every item of a list, following `continue` tokens (500 per page), and the
 * resourceVersion the list is consistent at: the first page's, which later
 * pages keep, so a watch started there misses nothing.
 */
export async function listAll<T>(
  client: KubeClient,
  target: { kind: string; namespace: string },
  page: (params: { limit: number; _continue?: string }, o: Parameters<Parameters<KubeClient["call"]>[1]>[0]) => Promise<Page<T>>,
  opts?: KubeCallOptions,
): Promise<{ items: T[]; resourceVersion: string }> {
  const items: T[] = [];
  let token: string | undefined;
  let resourceVersion = "";
  do {
    const got = await client.call({ verb: "list", ...target }, (o) => page({ limit: 500, _continue: token }, o), opts);
    items.push(...got.items);
    resourceVersion ||= got.metadata?.resourceVersion ?? "";
    token = got.metadata?._continue || undefined;
  } while (token);
  return { items, resourceVersion };
}
