import type { KubeConfig } from "@kubernetes/client-node";
import fetch from "node-fetch";

export interface RawResponse {
  status: number;
  contentType: string;
  text: string;
  json(): any;
}

/**
 * One HTTP request with a kubeconfig's credentials, as kubectl's `--raw`
 * sends it: for what typed clients hide (exact bodies, content types, paths
 * outside the API).
 */
export async function raw(kc: KubeConfig, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
  const init = (await kc.applyToFetchOptions({})) as Record<string, any>;
  const response = await fetch(`${kc.getCurrentCluster()!.server}${path}`, {
    ...init,
    method,
    headers: { ...(init.headers ?? {}), ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  } as never);
  const text = await response.text();
  return { status: response.status, contentType: response.headers.get("content-type") ?? "", text, json: () => JSON.parse(text) };
}
