import type { KubeConfig } from "@kubernetes/client-node";
import fetch from "node-fetch";

export interface RawResponse {
  status: number;
  contentType: string;
  text: string;
  bytes: Buffer;
  header(name: string): string | null;
  json(): any;
}

/**
 * One HTTP request with a kubeconfig's credentials, as kubectl's `--raw`
 * sends it: for what typed clients hide (exact bodies, content types, paths
 * outside the API). Redirects are answered, not followed.
 */
export async function raw(kc: KubeConfig, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
  const init = (await kc.applyToFetchOptions({})) as Record<string, any>;
  const response = await fetch(`${kc.getCurrentCluster()!.server}${path}`, {
    ...init,
    method,
    headers: { ...(init.headers ?? {}), ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    redirect: "manual",
  } as never);
  const bytes = Buffer.from(await response.arrayBuffer());
  const text = bytes.toString("utf8");
  return {
    status: response.status,
    contentType: response.headers.get("content-type") ?? "",
    text,
    bytes,
    header: (name) => response.headers.get(name),
    json: () => JSON.parse(text),
  };
}

export interface RawBytesResponse {
  status: number;
  contentType: string;
  bytes: Buffer;
  /** The open response body, for streams (watch). */
  body: NodeJS.ReadableStream;
}

/** Like `raw`, with a binary body as sent (protobuf) and the answer's bytes; `stream` leaves the body unread. */
export async function rawBytes(
  kc: KubeConfig,
  method: string,
  path: string,
  body: Uint8Array | undefined,
  headers: Record<string, string>,
  opts: { stream?: boolean; signal?: AbortSignal } = {},
): Promise<RawBytesResponse> {
  const init = (await kc.applyToFetchOptions({})) as Record<string, any>;
  const response = await fetch(`${kc.getCurrentCluster()!.server}${path}`, {
    ...init,
    method,
    headers: { ...(init.headers ?? {}), ...headers },
    body: body === undefined ? undefined : Buffer.from(body),
    signal: opts.signal,
  } as never);
  const bytes = opts.stream ? Buffer.alloc(0) : Buffer.from(await response.arrayBuffer());
  return { status: response.status, contentType: response.headers.get("content-type") ?? "", bytes, body: response.body! };
}
