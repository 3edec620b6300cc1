import http from "node:http";
import { ListenError, listenProblem } from "../common/listen-error.js";
import type { Logger } from "./logger.js";
import { collectProcessMetrics, metricsRegistry } from "./metrics.js";

export interface MetricsServer {
  /** `host:port` as bound (useful when port 0 was asked for). */
  address: string;
  close(): Promise<void>;
}

/**
 * Plain HTTP serving the Prometheus text exposition at `/metrics` and nothing
 * else: what Prometheus and a ServiceMonitor scrape. Apart from the gRPC
 * port, so that scraping needs neither TLS nor a token, and the API is not
 * reachable through it.
 */
export async function startMetricsServer(listen: { host: string; port: number }, log: Logger): Promise<MetricsServer> {
  collectProcessMetrics();
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0];
    if (path !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found: metrics are at /metrics\n");
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" }).end("method not allowed\n");
      return;
    }
    metricsRegistry.metrics().then(
      (text) => res.writeHead(200, { "content-type": metricsRegistry.contentType }).end(req.method === "HEAD" ? undefined : text),
      (err: unknown) => {
        log.error("collecting metrics failed", { error: err });
        res.writeHead(500, { "content-type": "text/plain" }).end("collecting metrics failed; see the server log\n");
      },
    );
  });
  // A scraper that holds a connection open must not keep the process from stopping.
  server.keepAliveTimeout = 5_000;
  const target = listen.host.includes(":") ? `[${listen.host}]:${listen.port}` : `${listen.host}:${listen.port}`;
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) => reject(new ListenError("server.metricsListen", target, listenProblem(err), { cause: err })));
    server.listen(listen.port, listen.host, () => resolve());
  });
  const { port } = server.address() as { port: number };
  return {
    address: listen.host.includes(":") ? `[${listen.host}]:${port}` : `${listen.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
