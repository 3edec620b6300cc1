export const mainUsage = `Usage: kubedriver <command> [options]

kubedriver is the Kubernetes provider of a continuous-delivery platform,
served over gRPC.

Commands:
  serve       Serve the gRPC API (the default command)
  emulator    Run the in-memory Kubernetes API emulator alone (a test double)
  help        Show this help (also --help, -h)
  version     Print kubedriver's version (also --version, -V)

Run 'kubedriver <command> --help' for a command's options.
`;

export const serveUsage = `Usage: kubedriver serve [--config PATH] [--listen HOST:PORT] [--metrics-listen HOST:PORT] [--log-level LEVEL]

Serves the kubedriver gRPC API (Accounts, ServerGroups, Health, grpc.health.v1
and server reflection).

Options:
  --config PATH        Account spec (YAML). Default: $KUBEDRIVER_CONFIG. With no
                       config at all, kubedriver starts an embedded Kubernetes API
                       emulator with a demo account, and says so.
  --listen HOST:PORT   Address to serve on; overrides server.listen.
                       Default: $KUBEDRIVER_LISTEN, else 127.0.0.1:7002 (loopback only).
  --metrics-listen HOST:PORT
                       Serve Prometheus metrics at http://HOST:PORT/metrics; overrides
                       server.metricsListen. Default: $KUBEDRIVER_METRICS_LISTEN.
  --log-level LEVEL    debug, info, warn or error.
                       Default: $KUBEDRIVER_LOG_LEVEL, else info.
  -h, --help           Show this help.

A flag wins over its environment variable. Traces are exported over OTLP/HTTP
when the standard OTEL_* variables ask for it (see the README).
`;

export const emulatorUsage = `Usage: kubedriver emulator [--listen HOST:PORT] [--kubeconfig-out PATH]

Runs the in-memory Kubernetes API emulator alone: a test and demo double that
speaks enough of the Kubernetes REST API for kubedriver. It is not a cluster.

Options:
  --listen HOST:PORT     Address to serve on. Default 127.0.0.1:0 (a free port).
  --kubeconfig-out PATH  Write a kubeconfig for the emulator to PATH (its folder
                         is created if missing).
  -h, --help             Show this help.
`;
