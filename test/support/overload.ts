import { Worker } from "node:worker_threads";
import type { ServiceError } from "@grpc/grpc-js";
import type { Kubedriver } from "../../src/app.js";
import type { NamespaceProbe } from "../../src/core/health/round.js";
import { ListServerGroupsRequest } from "../../gen/kubedriver/v1/server_groups.js";
import { RetryInfo } from "../../gen/google/rpc/error_details.js";
import { call, clientsFor, detailsOf } from "./grpc.js";
import { aCreateRequest } from "./server-groups.js";

// What the overload scenarios share (test/load/overload.test.ts
// scaled down, test/load/load.test.ts at the figures): a namespace of
// server groups to list, grpc.health.v1 sampled on its own connection, the
// namespace monitor's verdicts, and the two attacks.

/** `groups` server groups in `namespace` with `pods` pods in all, created through kubedriver. */
export async function seedServerGroups(app: Kubedriver, namespace: string, groups: number, pods: number): Promise<void> {
  const clients = clientsFor(app.grpc.address);
  const sg = clients.serverGroups;
  const sizes = Array.from({ length: groups }, (_, i) => Math.floor(pods / groups) + (i < pods % groups ? 1 : 0));
  try {
    for (let i = 0; i < groups; i += 10) {
      await Promise.all(
        sizes.slice(i, i + 10).map((targetSize, j) =>
          call(sg.createServerGroup, sg, aCreateRequest({ namespace, application: "busy", stack: `s${i + j}`, targetSize })),
        ),
      );
    }
  } finally {
    clients.close();
  }
}

export interface HealthSamples {
  latenciesMs: number[];
  /** Each check's outcome in order: "SERVING", "status 2" (NOT_SERVING), or a gRPC code such as "DEADLINE_EXCEEDED". */
  outcomes: string[];
  failures: string[];
  p50: number;
  p99: number;
  max: number;
}

/**
 * Checks grpc.health.v1 on a connection and a thread of its own (see
 * health-prober.mjs), one check every `everyMs`, until stopped: as kubelet
 * would, whatever the server's event loop is doing.
 */
export function sampleGrpcHealth(address: string, everyMs = 10, deadlineMs = 2_000) {
  const worker = new Worker(new URL("./health-prober.mjs", import.meta.url), { workerData: { address, everyMs, deadlineMs } });
  const seen = new Promise<{ ms: number; outcome: string }[]>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  return {
    async stop(): Promise<HealthSamples> {
      worker.postMessage("stop");
      const samples = await seen;
      await worker.terminate();
      const latenciesMs = samples.map((s) => s.ms);
      const outcomes = samples.map((s) => s.outcome);
      const failures = outcomes.filter((o) => o !== "SERVING");
      const sorted = [...latenciesMs].sort((a, b) => a - b);
      return { latenciesMs, outcomes, failures, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? NaN };
    },
  };
}

/** Every probe the namespace monitor reports unreachable from now until stopped. */
export function recordUnreachable(app: Kubedriver) {
  const unreachable: NamespaceProbe[] = [];
  const subscription = app.namespaceMonitor.watch().subscribe((round) => unreachable.push(...round.probes.filter((p) => !p.reachable)));
  return {
    unreachable,
    /** Waits for `rounds` more rounds, so that probes sent during the attack have answered. */
    async stop(rounds = 1): Promise<NamespaceProbe[]> {
      const seen: number[] = [];
      await new Promise<void>((resolve) => {
        const s = app.namespaceMonitor.watch().subscribe((round) => {
          seen.push(round.number);
          if (seen.length > rounds) {
            resolve();
            queueMicrotask(() => s.unsubscribe());
          }
        });
      });
      subscription.unsubscribe();
      return unreachable;
    },
  };
}

export interface ListOutcome {
  codes: Record<string, number>;
  p50: number;
  p99: number;
  /** RESOURCE_EXHAUSTED answers without a google.rpc.RetryInfo. */
  refusedWithoutRetryInfo: number;
}

const listPath = "/kubedriver.v1.ServerGroups/ListServerGroups";
const listRequest = (namespace: string) =>
  ListServerGroupsRequest.encode({ account: "main", namespaces: [namespace], application: "", cluster: "", pageSize: 0, pageToken: "" , consistency: 0}).finish();

/** Runs attacking clients on a thread of their own (see attacker.mjs). */
function attack<T>(data: Record<string, unknown>): Promise<T> {
  const worker = new Worker(new URL("./attacker.mjs", import.meta.url), { workerData: data });
  return new Promise<T>((resolve, reject) => {
    worker.once("message", (result: T) => {
      resolve(result);
      void worker.terminate();
    });
    worker.once("error", reject);
  });
}

/** `n` ListServerGroups at once over `channels` connections, each with a deadline of `deadlineMs`. */
export function concurrentLists(address: string, namespace: string, n: number, opts: { channels?: number; deadlineMs?: number } = {}): Promise<ListOutcome> {
  return attack({ kind: "lists", address, path: listPath, request: listRequest(namespace), n, channels: opts.channels ?? 10, deadlineMs: opts.deadlineMs ?? 30_000 });
}

/** The google.rpc.RetryInfo delay of a status, in milliseconds. */
export function retryDelayMs(err: ServiceError): number | undefined {
  const any = detailsOf(err)?.status.details.find((d) => d.typeUrl === "type.googleapis.com/google.rpc.RetryInfo");
  if (!any) return undefined;
  const delay = RetryInfo.decode(any.value).retryDelay;
  return delay ? delay.seconds * 1000 + delay.nanos / 1e6 : 0;
}

/**
 * The rapid-reset attack: over `connections` raw HTTP/2 connections, `perConnection`
 * ListServerGroups streams each, every one sent with its request (HEADERS and
 * DATA with END_STREAM) and reset (RST_STREAM CANCEL) at once, without
 * waiting for the server's settings.
 */
export async function resetBurst(address: string, namespace: string, connections: number, perConnection: number): Promise<void> {
  await attack({ kind: "reset", address, path: listPath, request: listRequest(namespace), connections, perConnection });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}
