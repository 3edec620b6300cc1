import { StringDecoder } from "node:string_decoder";
import { Writable } from "node:stream";
import { type KubeConfig, Log } from "@kubernetes/client-node";
import type { KubeCallOptions, KubeClient } from "./client.js";
import { toCoreError } from "./errors.js";
import { podKind } from "./pods.js";
import { identify } from "./user-agent.js";

/** A pod's log, in messages. */
const podLogKind = `${podKind.name} log`;

export interface LogSelection {
  container: string;
  tailLines?: number;
  sinceSeconds?: number;
  limitBytes?: number;
}

/** A container's log, as far as the selection and `limitBytes` go. */
export function readPodLog(client: KubeClient, namespace: string, name: string, sel: LogSelection, opts?: KubeCallOptions): Promise<string> {
  return client.call(
    { verb: "get", kind: podLogKind, namespace, name },
    (o) =>
      client.core.readNamespacedPodLog(
        { namespace, name, container: sel.container, tailLines: sel.tailLines, sinceSeconds: sel.sinceSeconds, limitBytes: sel.limitBytes },
        o,
      ),
    opts,
  );
}

/**
 * Follows a container's log: `onChunk` gets each piece as it arrives (whole
 * characters only), and the promise settles when the log ends (the container
 * stopped, the pod went) or `signal` aborts, which also ends the request, even
 * one the API server has not answered yet. A long-lived stream, so it does not
 * take one of the account's request slots (see KubeClient.call).
 */
export async function followPodLog(
  client: KubeClient,
  namespace: string,
  name: string,
  sel: LogSelection,
  onChunk: (text: string) => void,
  signal: AbortSignal,
): Promise<void> {
  const target = { verb: "watch", kind: podLogKind, namespace, name, account: client.account };
  let settle!: (err?: unknown) => void;
  const ended = new Promise<void>((resolve, reject) => (settle = (err) => (err ? reject(err) : resolve())));
  // Chunks end wherever the connection cut them, also inside a character.
  const decoder = new StringDecoder("utf8");
  const deliver = (text: string) => {
    if (text !== "") onChunk(text);
  };
  const sink = new Writable({
    decodeStrings: false,
    write(chunk: Buffer | string, _enc, done) {
      deliver(typeof chunk === "string" ? chunk : decoder.write(chunk));
      done();
    },
    final(done) {
      deliver(decoder.end());
      settle();
      done();
    },
  });
  sink.on("error", (err) => settle(toCoreError(err, target)));
  let controller: AbortController;
  try {
    controller = await new Log(abortableBy(client.kubeConfig, signal)).log(namespace, name, sel.container, sink, {
      follow: true,
      tailLines: sel.tailLines,
      sinceSeconds: sel.sinceSeconds,
    });
  } catch (err) {
    if (signal.aborted) return;
    throw toCoreError(err, target, signal.reason);
  }
  const abort = () => {
    controller.abort();
    settle();
  };
  if (signal.aborted) abort();
  signal.addEventListener("abort", abort, { once: true });
  try {
    await ended;
  } finally {
    signal.removeEventListener("abort", abort);
  }
}

/**
 * The kubeconfig as client-node's Log uses it, with `signal` joined to the
 * request's own: Log hands out its AbortController only once the API server
 * has answered, so without this a caller's cancel could not reach a request
 * the API server holds before answering (a slow or unreachable kubelet).
 */
function abortableBy(kc: KubeConfig, signal: AbortSignal): KubeConfig {
  const config = {
    getCurrentCluster: () => kc.getCurrentCluster(),
    applyToFetchOptions: async (init: object) => {
      const options: { headers?: unknown } = await kc.applyToFetchOptions(init as never);
      identify(options.headers);
      let joined: AbortSignal | undefined;
      return Object.defineProperty(options, "signal", {
        enumerable: true,
        get: () => joined,
        set: (own: AbortSignal) => (joined = AbortSignal.any([own, signal])),
      });
    },
  };
  return config as unknown as KubeConfig;
}
