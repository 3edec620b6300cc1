// grpc.health.v1 checks on a thread of their own, as kubelet probes from
// outside the process: a check is timed from when it is sent to when its
// answer arrives, whatever the test's own thread is doing. Plain JavaScript,
// as worker threads do not go through the test transform. Runs until told
// "stop", then posts what it saw.
import { parentPort, workerData } from "node:worker_threads";
import grpc from "@grpc/grpc-js";

const { address, everyMs, deadlineMs } = workerData;
const client = new grpc.Client(address, grpc.credentials.createInsecure());
const samples = [];
let running = true;

parentPort.on("message", () => (running = false));

const check = () => {
  const started = performance.now();
  client.makeUnaryRequest(
    "/grpc.health.v1.Health/Check",
    (b) => b,
    (b) => b,
    Buffer.alloc(0),
    { deadline: new Date(Date.now() + deadlineMs) },
    (err, reply) => {
      // HealthCheckResponse: field 1, a varint; 1 is SERVING.
      const outcome = err ? (grpc.status[err.code] ?? String(err.code)) : reply[1] === 1 ? "SERVING" : `status ${reply[1] ?? 0}`;
      samples.push({ ms: performance.now() - started, outcome });
      if (running) setTimeout(check, everyMs);
      else {
        client.close();
        parentPort.postMessage(samples);
      }
    },
  );
};
check();
