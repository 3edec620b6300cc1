import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import type { ServingStatus } from "grpc-health-check";
import { ListenError, listenProblem } from "../common/listen-error.js";

/**
 * The health-only port, served from a thread of its own: kubelet's probes
 * must be answered within their timeout even while the main event loop is
 * busy taking in a burst of calls or resets, or a liveness probe would
 * restart a pod that is working. What the main thread cannot fake is its
 * heartbeat: a main loop that has not run for `stallLimitMs` is reported
 * NOT_SERVING, so a process that is truly stuck is still restarted.
 */
export interface HealthThread {
  address: string;
  setStatus(service: string, status: ServingStatus): void;
  close(): Promise<void>;
}

/** Long beyond any pause of a working process (the worst burst measured held the loop ~4 s). */
export const defaultStallLimitMs = 10_000;
const beatEveryMs = 200;

interface ThreadData {
  grpcJs: string;
  healthCheck: string;
  target: string;
  statuses: Record<string, ServingStatus>;
  beat: SharedArrayBuffer;
  stallLimitMs: number;
}

type FromThread = { port: number } | { error: { message: string; code?: string } };
type ToThread = { service: string; status: ServingStatus };

export async function startHealthThread(
  host: string,
  port: number,
  statuses: Record<string, ServingStatus>,
  opts: { stallLimitMs?: number; onError?: (err: Error) => void } = {},
): Promise<HealthThread> {
  const resolve = createRequire(import.meta.url).resolve;
  const target = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  const beat = new BigInt64Array(new SharedArrayBuffer(8));
  const stamp = () => Atomics.store(beat, 0, BigInt(Date.now()));
  stamp();
  const data: ThreadData = {
    grpcJs: resolve("@grpc/grpc-js"),
    healthCheck: resolve("grpc-health-check"),
    target,
    statuses,
    beat: beat.buffer as SharedArrayBuffer,
    stallLimitMs: opts.stallLimitMs ?? defaultStallLimitMs,
  };
  // Sent as source text, so that it runs the same from src/ (tests) and dist/: it may use nothing but its arguments.
  const worker = new Worker(`(${healthThreadMain.toString()})(require)`, { eval: true, workerData: data });
  const bound = await new Promise<number>((ok, fail) => {
    worker.once("message", (m: FromThread) =>
      "port" in m ? ok(m.port) : fail(new ListenError("server.healthListen", target, listenProblem(Object.assign(new Error(m.error.message), { code: m.error.code })))),
    );
    worker.once("error", fail);
  }).catch(async (err: unknown) => {
    await worker.terminate();
    throw err;
  });
  worker.on("error", (err) => opts.onError?.(err));
  const beating = setInterval(stamp, beatEveryMs);
  beating.unref();
  worker.unref();
  return {
    address: host.includes(":") ? `[${host}]:${bound}` : `${host}:${bound}`,
    setStatus: (service, status) => worker.postMessage({ service, status } satisfies ToThread),
    close: async () => {
      clearInterval(beating);
      await worker.terminate();
    },
  };
}

/** The thread's whole program: a grpc-js server with grpc.health.v1 and nothing else. */
function healthThreadMain(load: (id: string) => unknown): void {
  const { parentPort, workerData } = load("node:worker_threads") as typeof import("node:worker_threads");
  const data = workerData as ThreadData;
  const grpc = load(data.grpcJs) as typeof import("@grpc/grpc-js");
  const { HealthImplementation } = load(data.healthCheck) as typeof import("grpc-health-check");
  const wanted: Record<string, ServingStatus> = { ...data.statuses };
  const health = new HealthImplementation(wanted);
  const beat = new BigInt64Array(data.beat);
  let stalled = false;
  const show = () => {
    for (const [service, status] of Object.entries(wanted)) health.setStatus(service, stalled ? "NOT_SERVING" : status);
  };
  setInterval(() => {
    const now = Date.now() - Number(Atomics.load(beat, 0)) > data.stallLimitMs;
    if (now !== stalled) {
      stalled = now;
      show();
    }
  }, 100);
  parentPort!.on("message", (m: ToThread) => {
    wanted[m.service] = m.status;
    show();
  });
  const server = new grpc.Server();
  health.addToServer(server);
  server.bindAsync(data.target, grpc.ServerCredentials.createInsecure(), (err, port) =>
    parentPort!.postMessage(err ? { error: { message: err.message, code: (err as NodeJS.ErrnoException).code } } : { port }),
  );
}
