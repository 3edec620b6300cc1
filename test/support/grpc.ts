import { ChannelCredentials, credentials, Metadata, type CallOptions, type ServiceError } from "@grpc/grpc-js";
import { AccountsClient } from "../../gen/kubedriver/v1/accounts.js";
import { HealthClient as NamespaceHealthClient } from "../../gen/kubedriver/v1/health.js";
import { ServerGroupsClient } from "../../gen/kubedriver/v1/server_groups.js";
import { AutoscalersClient } from "../../gen/kubedriver/v1/autoscalers.js";
import { InstancesClient } from "../../gen/kubedriver/v1/instances.js";
import { LoadBalancersClient } from "../../gen/kubedriver/v1/load_balancers.js";
import { HealthClient as GrpcHealthClient } from "../../gen/grpc/health/v1/health.js";
import { BadRequest, ErrorInfo, ResourceInfo } from "../../gen/google/rpc/error_details.js";
import { Status } from "../../gen/google/rpc/status.js";

/** Real grpc-js clients for every kubedriver service at `address`. */
export function clientsFor(address: string, creds: ChannelCredentials = credentials.createInsecure()) {
  return {
    accounts: new AccountsClient(address, creds),
    serverGroups: new ServerGroupsClient(address, creds),
    health: new NamespaceHealthClient(address, creds),
    grpcHealth: new GrpcHealthClient(address, creds),
    loadBalancers: new LoadBalancersClient(address, creds),
    instances: new InstancesClient(address, creds),
    autoscalers: new AutoscalersClient(address, creds),
    close() {
      for (const c of [this.accounts, this.serverGroups, this.health, this.grpcHealth, this.loadBalancers, this.instances, this.autoscalers]) c.close();
    },
  };
}

/** The last (fullest) overload of a generated unary client method, which inference picks. */
type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (err: ServiceError | null, response: Res) => void,
) => unknown;

/** Calls a generated unary method as a promise. */
export function call<Req, Res>(
  method: UnaryMethod<Req, Res>,
  client: object,
  request: Req,
  options: { metadata?: Metadata; deadline?: Date } = {},
): Promise<Res> {
  return new Promise((resolve, reject) =>
    method.call(client, request, options.metadata ?? new Metadata(), { deadline: options.deadline }, (err, res) =>
      err ? reject(err) : resolve(res),
    ),
  );
}

/** The rich error details kubedriver sends in `grpc-status-details-bin`. */
export function detailsOf(err: ServiceError) {
  const raw = err.metadata?.get("grpc-status-details-bin")[0];
  if (!raw) return undefined;
  const status = Status.decode(raw as Buffer);
  const find = (type: string) => status.details.find((d) => d.typeUrl === `type.googleapis.com/${type}`)?.value;
  const badRequest = find("google.rpc.BadRequest");
  const errorInfo = find("google.rpc.ErrorInfo");
  const resourceInfo = find("google.rpc.ResourceInfo");
  return {
    status,
    fieldViolations: badRequest ? BadRequest.decode(badRequest).fieldViolations : [],
    errorInfo: errorInfo ? ErrorInfo.decode(errorInfo) : undefined,
    resourceInfo: resourceInfo ? ResourceInfo.decode(resourceInfo) : undefined,
  };
}

/** Awaits a promise expected to fail with a gRPC error, and returns that error. */
export async function grpcError(p: Promise<unknown>): Promise<ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error("expected the call to fail, it succeeded");
}

/** `authorization: Bearer <token>` metadata, as callers send it. */
export function bearer(token: string): Metadata {
  const md = new Metadata();
  md.set("authorization", `Bearer ${token}`);
  return md;
}
