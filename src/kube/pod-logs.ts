import { Writable } from "node:stream";
import { Log } from "@kubernetes/client-node";
import type { KubeCallOptions, KubeClient } from "./client.js";
import { toCoreError } from "./errors.js";

export interface LogSelection {
  container: string;
  tailLines?: number;
  sinceSeconds?: number;
  limitBytes?: number;
}

/** A container's log, as far as the selection and `limitBytes` go. */
export function readPodLog(client: KubeClient, namespace: string, name: string, sel: LogSelection, opts?: KubeCallOptions): Promise<string> {
  return client.call(
    { verb: "get", kind: "pod log", namespace, name },
    (o) =>
      client.core.readNamespacedPodLog(
        { namespace, name, container: sel.container, tailLines: sel.tailLines, sinceSeconds: sel.sinceSeconds, limitBytes: sel.limitBytes },
        o,
      ),
    opts,
  );
}

/**
 * Follows a container's log: `onChunk` gets each piece as it arrives, and the
 * promise settles when the log ends (the container stopped, the pod went) or
 * `signal` aborts. A long-lived stream, so it does not take one of the
 * account's request slots (see KubeClient.call).
 */
export async function followPodLog(
  client: KubeClient,
  namespace: string,
  name: string,
  sel: LogSelection,
  onChunk: (text: string) => void,
  signal: AbortSignal,
): Promise<void> {
  const target = { verb: "watch", kind: "pod log", namespace, name, account: client.account };
  let settle!: (err?: unknown) => void;
  const ended = new Promise<void>((resolve, reject) => (settle = (err) => (err ? reject(err) : resolve())));
  const sink = new Writable({
    decodeStrings: false,
    write(chunk: Buffer | string, _enc, done) {
      onChunk(typeof chunk === "string" ? chunk : chunk.toString("utf8"));
      done();
    },
    final(done) {
      settle();
      done();
    },
  });
  sink.on("error", (err) => settle(toCoreError(err, target)));
  let controller: AbortController;
  try {
    controller = await new Log(client.kubeConfig).log(namespace, name, sel.container, sink, {
      follow: true,
      tailLines: sel.tailLines,
      sinceSeconds: sel.sinceSeconds,
    });
  } catch (err) {
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
