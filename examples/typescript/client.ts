// Walks through kubedriver's gRPC API from TypeScript (Node 20, @grpc/grpc-js,
// the repository's ts-proto stubs in gen/): creates a load balancer, deploys a
// server group behind it and waits until it is up, lists it, reads namespace
// health rounds, then destroys the group, waits until it is gone and deletes
// the load balancer.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { credentials, Metadata, type CallOptions, type Client, type ServiceError } from "@grpc/grpc-js";
import { HealthClient, WatchNamespacesRequest, type WatchNamespacesResponse } from "../../gen/kubedriver/v1/health.js";
import { DeleteLoadBalancerRequest, LoadBalancersClient, UpsertLoadBalancerRequest } from "../../gen/kubedriver/v1/load_balancers.js";
import {
  CreateServerGroupRequest,
  DestroyServerGroupRequest,
  ListServerGroupsRequest,
  ServerGroupsClient,
  WaitCondition,
  WaitForServerGroupRequest,
} from "../../gen/kubedriver/v1/server_groups.js";

const { values: flags } = parseArgs({
  options: {
    addr: { type: "string", default: process.env.KUBEDRIVER_ADDR || "127.0.0.1:7002" },
    // Without a CA file, the server is verified against Node's root certificates.
    "ca-file": { type: "string", default: process.env.KUBEDRIVER_CA_FILE || "" },
    // Prefer $KUBEDRIVER_TOKEN: command-line flags show in `ps`.
    token: { type: "string", default: process.env.KUBEDRIVER_TOKEN || "" },
    account: { type: "string", default: process.env.KUBEDRIVER_ACCOUNT || "demo" },
    namespace: { type: "string", default: process.env.KUBEDRIVER_NAMESPACE || "demo" },
  },
});
const { addr, account, namespace, token } = flags;
const log = (line: string) => console.log(`typescript client: ${line}`);

// TLS, plus `authorization: Bearer <token>` on every call (grpc-js sends call
// credentials only over a secure channel).
const tls = credentials.createSsl(flags["ca-file"] ? readFileSync(flags["ca-file"]) : null);
const creds = token
  ? credentials.combineChannelCredentials(
      tls,
      credentials.createFromMetadataGenerator((_params, callback) => {
        const metadata = new Metadata();
        metadata.set("authorization", `Bearer ${token}`);
        callback(null, metadata);
      }),
    )
  : tls;
// grpc-js receives with HTTP/2's 64 KiB default window, so a List page larger
// than that waits a round trip for each window; gRPC Go and Java open wider
// windows by default.
const serverGroups = new ServerGroupsClient(addr, creds, { "grpc-node.flow_control_window": 4 << 20 });
const loadBalancers = new LoadBalancersClient(addr, creds);
const health = new HealthClient(addr, creds);
const deadline = new Date(Date.now() + 60_000);

try {
  await call(
    loadBalancers,
    loadBalancers.upsertLoadBalancer,
    UpsertLoadBalancerRequest.fromPartial({ account, namespace, name: "example", ports: [{ name: "http", port: 80, targetPort: 80 }] }),
  );
  log(`load balancer example (a Service) in ${account}/${namespace}`);

  const created = await call(
    serverGroups,
    serverGroups.createServerGroup,
    CreateServerGroupRequest.fromPartial({
      account,
      namespace,
      application: "example",
      targetSize: 1,
      loadBalancers: ["example"],
      containers: [{ name: "web", image: "nginx:1.27" }],
    }),
  );
  const name = created.serverGroup!.name;
  log(`created server group ${name} in ${account}/${namespace}`);

  // No polling: kubedriver answers once its watch of the namespace sees the group up.
  const up = await call(
    serverGroups,
    serverGroups.waitForServerGroup,
    WaitForServerGroupRequest.fromPartial({ account, namespace, name, condition: WaitCondition.WAIT_CONDITION_UP }),
  );
  log(`server group ${name} is up: ${up.serverGroup!.instances.filter((i) => i.serving).length} instance(s) serving`);

  const listed = await call(
    serverGroups,
    serverGroups.listServerGroups,
    ListServerGroupsRequest.fromPartial({ account, namespaces: [namespace], application: "example" }),
  );
  const names = listed.serverGroups.map((g) => g.name);
  log(`listed server groups of application example: [${names.join(" ")}]`);
  if (!names.includes(name)) throw new Error(`ListServerGroups: ${name} is not listed`);

  await watchRounds(2);

  await call(serverGroups, serverGroups.destroyServerGroup, DestroyServerGroupRequest.fromPartial({ account, namespace, name }));
  log(`destroyed server group ${name}`);
  // Deletion cascades to the pods first; on a real cluster that takes a moment.
  await call(
    serverGroups,
    serverGroups.waitForServerGroup,
    WaitForServerGroupRequest.fromPartial({ account, namespace, name, condition: WaitCondition.WAIT_CONDITION_DESTROYED }),
  );
  log(`server group ${name} is gone`);
  await call(loadBalancers, loadBalancers.deleteLoadBalancer, DeleteLoadBalancerRequest.fromPartial({ account, namespace, name: "example" }));
  log("deleted load balancer example");
} catch (err) {
  console.error(`typescript client: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  serverGroups.close();
  loadBalancers.close();
  health.close();
}

/** Reads `rounds` namespace-health rounds of the account, then cancels the stream. */
function watchRounds(rounds: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const stream = health.watchNamespaces(WatchNamespacesRequest.fromPartial({ accounts: [account] }), { deadline });
    let seen = 0;
    stream.on("data", ({ round }: WatchNamespacesResponse) => {
      const probes = round?.probes ?? [];
      log(`health round ${round?.number}: ${probes.filter((p) => p.reachable).length} of ${probes.length} namespaces reachable`);
      if (++seen === rounds) {
        resolve();
        stream.cancel(); // its CANCELLED error then rejects an already settled promise: a no-op
      }
    });
    stream.on("error", (err: ServiceError) => reject(new Error(`WatchNamespaces: ${err.message}`)));
    stream.on("end", () => reject(new Error("WatchNamespaces: the stream ended early")));
  });
}

/** Calls a unary method of a generated client as a promise, within the walkthrough's deadline. */
function call<Req, Res>(
  client: Client,
  method: (req: Req, md: Metadata, opts: Partial<CallOptions>, cb: (err: ServiceError | null, res: Res) => void) => unknown,
  request: Req,
): Promise<Res> {
  return new Promise((resolve, reject) =>
    method.call(client, request, new Metadata(), { deadline }, (err, res) => (err ? reject(err) : resolve(res))),
  );
}
