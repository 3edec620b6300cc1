import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Metadata, status as Code, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { replicationControllerFor } from "../../src/core/server-groups/manifest.js";
import {
  ChangeType,
  CloneServerGroupRequest,
  Consistency,
  DestroyServerGroupRequest,
  DisableServerGroupRequest,
  EnableServerGroupRequest,
  GetServerGroupRequest,
  ListServerGroupsResponse,
  ResizeServerGroupRequest,
  WaitCondition,
  WaitForServerGroupRequest,
  WatchServerGroupsResponse,
} from "../../gen/kubedriver/v1/server_groups.js";
import { DeleteLoadBalancerRequest, GetLoadBalancerRequest, ListLoadBalancersResponse } from "../../gen/kubedriver/v1/load_balancers.js";
import { DeleteAutoscalerRequest, UpsertAutoscalerRequest } from "../../gen/kubedriver/v1/autoscalers.js";
import { FollowInstanceLogsRequest, GetInstanceLogsRequest } from "../../gen/kubedriver/v1/instances.js";
import { GetAccountRequest, SyncAccountRequest } from "../../gen/kubedriver/v1/accounts.js";
import { startTestCluster, type TestCluster } from "../support/cluster.js";
import { startFaultyCluster, type FaultyCluster } from "../support/faults.js";
import { retryDelayMs } from "../support/overload.js";
import { aCreateRequest } from "../support/server-groups.js";
import { bearer, call, detailsOf, grpcError } from "../support/grpc.js";
import { startKubedriverOn, type KubedriverOn } from "../support/kubedriver.js";

// What the protos promise a caller, checked through the real gRPC server: filter
// values that match nothing are errors, not empty answers.
let cluster: TestCluster;
let open: KubedriverOn;
let secured: KubedriverOn;
let dir: string;
let mainNs: string;
let sideNs: string;
let guardedNs: string;
let pagedNs: string;
let flakyNs: string;
let bigNs: string;
let faulty: FaultyCluster;
const tokens = { rita: "rita-token-0123456789abcdef", otto: "otto-token-0123456789abcdef" };

beforeAll(async () => {
  cluster = await startTestCluster();
  [mainNs, sideNs, guardedNs, pagedNs, flakyNs, bigNs] = await Promise.all(["main", "side", "guarded", "paged", "flaky", "big"].map((prefix) => cluster.createNamespace(prefix)));
  faulty = await startFaultyCluster(cluster);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "kubedriver-contract-"));
  const tokensFile = path.join(dir, "tokens.yaml");
  fs.writeFileSync(tokensFile, `- {token: ${tokens.rita}, name: rita, groups: [viewers]}\n- {token: ${tokens.otto}, name: otto, groups: [elsewhere]}\n`, { mode: 0o600 });
  const quiet = "healthCheckIntervalSeconds: 3600";
  [open, secured] = await Promise.all([
    startKubedriverOn(cluster, {
      accounts: [
        { name: "main", namespaces: [mainNs, pagedNs, bigNs] },
        { name: "side", namespaces: [sideNs] },
        { name: "flaky", namespaces: [flakyNs], kubeconfigFile: faulty.kubeconfigPath },
      ],
      kubernetes: quiet,
    }),
    startKubedriverOn(cluster, {
      accounts: [{ name: "main", namespaces: [mainNs] }, { name: "guarded", namespaces: [guardedNs], permissions: { READ: ["viewers"] } }],
      kubernetes: quiet,
      server: `auth: {tokensFile: ${tokensFile}}`,
    }),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([open?.close(), secured?.close()]);
  await faulty?.close();
  await cluster?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const list = (kd: KubedriverOn, account: string, namespaces: string[], metadata?: Metadata) =>
  call(kd.clients.serverGroups.listServerGroups, kd.clients.serverGroups, { account, namespaces, application: "", cluster: "", pageSize: 0, pageToken: "", consistency: 0 }, { metadata });
const check = (kd: KubedriverOn, accounts: string[], namespaces: string[], metadata?: Metadata) =>
  call(kd.clients.health.checkNamespaces, kd.clients.health, { accounts, namespaces, fresh: false }, { metadata });
const watchError = (kd: KubedriverOn, accounts: string[], namespaces: string[], metadata = new Metadata()) =>
  new Promise<ServiceError>((resolve, reject) => {
    const stream = kd.clients.health.watchNamespaces({ accounts, namespaces }, metadata);
    stream.on("data", () => {
      stream.cancel();
      reject(new Error("the stream answered a filter that matches nothing"));
    });
    stream.on("error", resolve);
  });

function expectUnmanaged(err: ServiceError, field: string, namespace: string) {
  expect(err.code).toBe(Code.FAILED_PRECONDITION);
  expect(detailsOf(err)!.errorInfo!.reason).toBe("NAMESPACE_NOT_MANAGED");
  expect(err.details).toContain(`${field}: namespace "${namespace}"`);
}

describe("a namespace filter naming a namespace no selected account manages", () => {
  it("fails ListServerGroups naming the field and value, with or without an account", async () => {
    expectUnmanaged(await grpcError(list(open, "main", [mainNs, "nope"])), "namespaces[1]", "nope");
    expectUnmanaged(await grpcError(list(open, "", ["nope"])), "namespaces[0]", "nope");
    expectUnmanaged(await grpcError(list(open, "main", [sideNs])), "namespaces[0]", sideNs);
    // Across accounts, a namespace one of them manages is a good filter.
    await expect(list(open, "", [sideNs])).resolves.toMatchObject({ serverGroups: [] });
  });

  it("fails CheckNamespaces and WatchNamespaces the same way", async () => {
    expectUnmanaged(await grpcError(check(open, [], ["nope"])), "namespaces[0]", "nope");
    expectUnmanaged(await grpcError(check(open, ["main"], [mainNs, sideNs])), "namespaces[1]", sideNs);
    expect((await check(open, [], [sideNs])).round!.probes.map((p) => p.namespace)).toEqual([sideNs]);
    expectUnmanaged(await watchError(open, [], ["nope"]), "namespaces[0]", "nope");
  });

  it("fails ListLoadBalancers the same way", async () => {
    const lb = open.clients.loadBalancers;
    const balancers = (account: string, namespaces: string[]) =>
      call(lb.listLoadBalancers, lb, { account, namespaces, managedOnly: false, pageSize: 0, pageToken: "", consistency: 0 });
    expectUnmanaged(await grpcError(balancers("main", [mainNs, "nope"])), "namespaces[1]", "nope");
    expectUnmanaged(await grpcError(balancers("", ["nope"])), "namespaces[0]", "nope");
    await expect(balancers("", [sideNs])).resolves.toMatchObject({ nextPageToken: "" });
  });

  it("still answers NOT_FOUND for an unknown account before looking at namespaces", async () => {
    expect((await grpcError(list(open, "ghost", ["nope"]))).code).toBe(Code.NOT_FOUND);
    expect((await grpcError(check(open, ["ghost"], ["nope"]))).code).toBe(Code.NOT_FOUND);
  });

  it("tells a caller nothing about the namespaces of accounts it may not read", async () => {
    const otto = bearer(tokens.otto);
    // A forbidden account answers exactly like an unknown one, whatever the namespaces.
    const forbidden = await grpcError(list(secured, "guarded", ["nope"], otto));
    const unknown = await grpcError(list(secured, "ghost", ["nope"], otto));
    expect([forbidden.code, unknown.code]).toEqual([Code.PERMISSION_DENIED, Code.PERMISSION_DENIED]);
    expect(forbidden.details.replace("guarded", "ghost")).toBe(unknown.details);
    // The forbidden account's namespace is refused as one nobody manages, and not listed.
    for (const err of [await grpcError(list(secured, "", [guardedNs], otto)), await grpcError(check(secured, [], [guardedNs], otto))]) {
      expectUnmanaged(err, "namespaces[0]", guardedNs);
      expect(err.details).not.toContain("guarded\"");
      expect(err.details).toMatch(/not managed by any account$/);
    }
    // A reader of the account gets its namespace.
    const rita = bearer(tokens.rita);
    await expect(list(secured, "", [guardedNs], rita)).resolves.toMatchObject({ serverGroups: [] });
    expect((await check(secured, [], [guardedNs], rita)).round!.probes.map((p) => p.namespace)).toEqual([guardedNs]);
  });
});

/** Creates `n` objects in batches, as a busy namespace would hold them. */
async function createMany(n: number, create: (i: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < n; i += 25) await Promise.all(Array.from({ length: Math.min(25, n - i) }, (_, j) => create(i + j)));
}

describe("a page_size above the maximum", () => {
  const spec = (application: string) =>
    ({ application, stack: "", detail: "", targetSize: 0, containers: [{ name: "web", image: "web:1", command: [], args: [], env: [], ports: [], resources: { requests: {}, limits: {} }, volumeMounts: [] }], loadBalancers: [], volumes: [], labels: {}, annotations: {}, nodeSelector: {} }) as never;
  // Read live: these objects are written past kubedriver, so its watch-fed view may not hold them all yet.
  const strong = Consistency.CONSISTENCY_STRONG;

  it("serves the maximum and a token for the rest on ListServerGroups (1,000) and ListLoadBalancers (500)", async () => {
    // Headless Services: a real cluster's service IP range would not hold 501 more.
    await createMany(1_001, (v) =>
      Promise.all([
        cluster.core.createNamespacedReplicationController({ namespace: pagedNs, body: replicationControllerFor(spec("paged"), v, []) }),
        v < 501 && cluster.core.createNamespacedService({ namespace: pagedNs, body: { metadata: { name: `lb${v}` }, spec: { clusterIP: "None", selector: { app: "x" }, ports: [{ port: 80 }] } } }),
      ]),
    );
    const sg = open.clients.serverGroups;
    const groups = (pageSize: number, pageToken = "") =>
      call(sg.listServerGroups, sg, { account: "main", namespaces: [pagedNs], application: "paged", cluster: "", pageSize, pageToken, consistency: strong });
    const first = await groups(1_000_000);
    expect(first.serverGroups).toHaveLength(1_000);
    expect(first.nextPageToken).not.toBe("");
    const rest = await groups(1_000_000, first.nextPageToken);
    expect([rest.serverGroups.length, rest.nextPageToken]).toEqual([1, ""]);

    const lb = open.clients.loadBalancers;
    const balancers = (pageSize: number, pageToken = "") =>
      call(lb.listLoadBalancers, lb, { account: "main", namespaces: [pagedNs], managedOnly: false, pageSize, pageToken, consistency: strong });
    const lbFirst = await balancers(501);
    expect(lbFirst.loadBalancers).toHaveLength(500);
    expect(lbFirst.nextPageToken).not.toBe("");
    expect((await balancers(501, lbFirst.nextPageToken)).loadBalancers).toHaveLength(1);
  }, 180_000);

  it("is refused when negative, naming page_size", async () => {
    const err = await grpcError(call(open.clients.serverGroups.listServerGroups, open.clients.serverGroups, { account: "main", namespaces: [], application: "", cluster: "", pageSize: -1, pageToken: "", consistency: 0 }));
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    expect(detailsOf(err)!.fieldViolations.map((v) => v.field)).toEqual(["page_size"]);
  });
});

describe("answers too large for one message", () => {
  // 44 groups of 100 KB: 4.4 MB in all, one answer too large for a client's default 4 MiB receive limit.
  const big = { note: "x".repeat(100_000) };
  const names = Array.from({ length: 44 }, (_, v) => `big-v${String(v).padStart(3, "0")}`);
  const sg = () => open.clients.serverGroups;
  const pagesOf = async (consistency: Consistency) => {
    const pages: ListServerGroupsResponse[] = [];
    let token = "";
    do {
      const page = await call(sg().listServerGroups, sg(), { account: "main", namespaces: [bigNs], application: "", cluster: "", pageSize: 1_000, pageToken: token, consistency });
      pages.push(page);
      token = page.nextPageToken;
    } while (token);
    return pages;
  };

  beforeAll(async () => {
    const spec = { application: "big", stack: "", detail: "", targetSize: 0, containers: [{ name: "web", image: "web:1", command: [], args: [], env: [], ports: [], resources: { requests: {}, limits: {} }, volumeMounts: [] }], loadBalancers: [], volumes: [], labels: {}, annotations: big, nodeSelector: {} };
    await createMany(names.length, (v) => cluster.core.createNamespacedReplicationController({ namespace: bigNs, body: replicationControllerFor(spec as never, v, []) }));
  }, 120_000);

  it("ends each ListServerGroups page before 2 MiB", async () => {
    // Read live: the groups were written past kubedriver, so its watch-fed view may not hold them all yet.
    const pages = await pagesOf(Consistency.CONSISTENCY_STRONG);
    expect(pages.length).toBeGreaterThan(2);
    for (const page of pages) expect(ListServerGroupsResponse.encode(page).finish().length).toBeLessThanOrEqual(2 * 1024 * 1024);
    expect(pages.flatMap((p) => p.serverGroups.map((g) => g.name))).toEqual(names);
    expect(pages.flatMap((p) => p.serverGroups).every((g) => g.annotations.note === big.note)).toBe(true);
  });

  it("sends a WatchServerGroups snapshot in continued parts under 2 MiB", async () => {
    const deadline = Date.now() + 30_000;
    while ((await pagesOf(Consistency.CONSISTENCY_UNSPECIFIED)).flatMap((p) => p.serverGroups).length < names.length) {
      if (Date.now() > deadline) throw new Error("kubedriver's view never held the 44 groups");
      await new Promise((r) => setTimeout(r, 100));
    }
    const stream = sg().watchServerGroups({ account: "main", namespaces: [bigNs], application: "", cluster: "", name: "" });
    const parts: WatchServerGroupsResponse[] = [];
    await new Promise<void>((resolve, reject) => {
      stream.on("data", (m: WatchServerGroupsResponse) => {
        parts.push(m);
        if (!m.continued) resolve();
      });
      stream.on("error", reject);
    });
    stream.cancel();
    expect(parts.length).toBeGreaterThan(2);
    expect(parts.map((p) => [p.snapshot, p.continued])).toEqual(parts.map((_, i) => [i === 0, i < parts.length - 1]));
    for (const part of parts) expect(WatchServerGroupsResponse.encode(part).finish().length).toBeLessThanOrEqual(2 * 1024 * 1024);
    const changes = parts.flatMap((p) => p.changes);
    expect(changes.map((c) => c.serverGroup!.name)).toEqual(names);
    expect(changes.every((c) => c.type === ChangeType.CHANGE_TYPE_ADDED)).toBe(true);
  });

  it("ends each ListLoadBalancers page before 2 MiB", async () => {
    // Services of others in a managed namespace, each with 200 KB of annotations (as a large kubectl last-applied configuration has).
    const services = Array.from({ length: 25 }, (_, i) => `wide${String(i).padStart(2, "0")}`);
    await createMany(services.length, (i) =>
      cluster.core.createNamespacedService({
        namespace: bigNs,
        body: { metadata: { name: services[i]!, annotations: { note: "y".repeat(200_000) } }, spec: { clusterIP: "None", selector: { app: "x" }, ports: [{ port: 80 }] } },
      }),
    );
    const lb = open.clients.loadBalancers;
    const pages: ListLoadBalancersResponse[] = [];
    let token = "";
    do {
      const page = await call(lb.listLoadBalancers, lb, { account: "main", namespaces: [bigNs], managedOnly: false, pageSize: 500, pageToken: token, consistency: Consistency.CONSISTENCY_STRONG });
      pages.push(page);
      token = page.nextPageToken;
    } while (token);
    expect(pages.length).toBeGreaterThan(2);
    for (const page of pages) expect(ListLoadBalancersResponse.encode(page).finish().length).toBeLessThanOrEqual(2 * 1024 * 1024);
    expect(pages.flatMap((p) => p.loadBalancers.map((l) => l.name))).toEqual(services);
  });
});

describe("an error about a given account, namespace or object", () => {
  const sg = () => open.clients.serverGroups;
  const errorInfoOf = async (p: Promise<unknown>) => {
    const err = await grpcError(p);
    return { code: err.code, ...detailsOf(err)!.errorInfo! };
  };

  it("says which in google.rpc.ErrorInfo metadata, for programs", async () => {
    expect(await errorInfoOf(call(sg().getServerGroup, sg(), { account: "main", namespace: mainNs, name: "ghost-v000", consistency: 0 }))).toMatchObject({
      code: Code.NOT_FOUND,
      reason: "SERVER_GROUP_NOT_FOUND",
      metadata: { account: "main", namespace: mainNs, name: "ghost-v000" },
    });
    expect(await errorInfoOf(call(sg().createServerGroup, sg(), aCreateRequest({ namespace: "kube-system" })))).toMatchObject({
      code: Code.FAILED_PRECONDITION,
      reason: "NAMESPACE_NOT_MANAGED",
      metadata: { account: "main", namespace: "kube-system" },
    });
    expect(await errorInfoOf(list(open, "main", [mainNs, "nope"]))).toMatchObject({ metadata: { account: "main", namespace: "nope", field: "namespaces[1]" } });
    expect(await errorInfoOf(list(open, "ghost", []))).toMatchObject({ code: Code.NOT_FOUND, reason: "ACCOUNT_NOT_FOUND", metadata: { account: "ghost" } });
  });

  it("names the object in ErrorInfo metadata on every RPC that names one, for every kind", async () => {
    const c = open.clients;
    const ns = mainNs;
    const inMain = { account: "main", namespace: ns };
    const plain = (await call(sg().createServerGroup, sg(), aCreateRequest({ namespace: ns, application: "plain", targetSize: 0 }))).serverGroup!.name;
    const followError = (req: FollowInstanceLogsRequest) =>
      new Promise<unknown>((_, reject) => {
        const stream = c.instances.followInstanceLogs(req);
        stream.on("data", () => reject(new Error("followed the log of a pod that does not exist")));
        stream.on("end", () => reject(new Error("the stream of a pod that does not exist ended without an error")));
        stream.on("error", reject);
      });
    const cases: [string, () => Promise<unknown>, { code: Code; reason: string; metadata: Record<string, string> }][] = [
      ["GetServerGroup", () => call(sg().getServerGroup, sg(), GetServerGroupRequest.fromPartial({ ...inMain, name: "ghost-v000" })), groupNotFound("ghost-v000")],
      ["ResizeServerGroup", () => call(sg().resizeServerGroup, sg(), ResizeServerGroupRequest.fromPartial({ ...inMain, name: "ghost-v000", targetSize: 1 })), groupNotFound("ghost-v000")],
      ["EnableServerGroup", () => call(sg().enableServerGroup, sg(), EnableServerGroupRequest.fromPartial({ ...inMain, name: "ghost-v000" })), groupNotFound("ghost-v000")],
      ["DisableServerGroup", () => call(sg().disableServerGroup, sg(), DisableServerGroupRequest.fromPartial({ ...inMain, name: "ghost-v000" })), groupNotFound("ghost-v000")],
      ["DestroyServerGroup", () => call(sg().destroyServerGroup, sg(), DestroyServerGroupRequest.fromPartial({ ...inMain, name: "ghost-v000" })), groupNotFound("ghost-v000")],
      ["CloneServerGroup", () => call(sg().cloneServerGroup, sg(), CloneServerGroupRequest.fromPartial({ ...inMain, source: "ghost-v000" })), groupNotFound("ghost-v000")],
      [
        "WaitForServerGroup",
        () => call(sg().waitForServerGroup, sg(), WaitForServerGroupRequest.fromPartial({ ...inMain, name: "ghost-v000", condition: WaitCondition.WAIT_CONDITION_UP })),
        groupNotFound("ghost-v000"),
      ],
      [
        "UpsertAutoscaler",
        () => call(c.autoscalers.upsertAutoscaler, c.autoscalers, UpsertAutoscalerRequest.fromPartial({ ...inMain, serverGroup: "ghost-v000", policy: { minSize: 1, maxSize: 2, targetCpuUtilizationPercent: 50 } })),
        groupNotFound("ghost-v000"),
      ],
      ["DeleteAutoscaler", () => call(c.autoscalers.deleteAutoscaler, c.autoscalers, DeleteAutoscalerRequest.fromPartial({ ...inMain, serverGroup: "ghost-v000" })), groupNotFound("ghost-v000")],
      [
        "DeleteAutoscaler of a group with none",
        () => call(c.autoscalers.deleteAutoscaler, c.autoscalers, DeleteAutoscalerRequest.fromPartial({ ...inMain, serverGroup: plain })),
        { code: Code.NOT_FOUND, reason: "AUTOSCALER_NOT_FOUND", metadata: { ...inMain, name: plain } },
      ],
      ["GetLoadBalancer", () => call(c.loadBalancers.getLoadBalancer, c.loadBalancers, GetLoadBalancerRequest.fromPartial({ ...inMain, name: "ghost" })), lbNotFound("ghost")],
      ["DeleteLoadBalancer", () => call(c.loadBalancers.deleteLoadBalancer, c.loadBalancers, DeleteLoadBalancerRequest.fromPartial({ ...inMain, name: "ghost" })), lbNotFound("ghost")],
      [
        "CreateServerGroup behind a missing load balancer",
        () => call(sg().createServerGroup, sg(), aCreateRequest({ namespace: ns, loadBalancers: ["ghost"] })),
        { code: Code.FAILED_PRECONDITION, reason: "LOAD_BALANCER_NOT_FOUND", metadata: { ...inMain, name: "ghost" } },
      ],
      ["GetInstanceLogs", () => call(c.instances.getInstanceLogs, c.instances, GetInstanceLogsRequest.fromPartial({ ...inMain, name: "ghost-pod" })), instanceNotFound("ghost-pod")],
      ["FollowInstanceLogs", () => followError(FollowInstanceLogsRequest.fromPartial({ ...inMain, name: "ghost-pod" })), instanceNotFound("ghost-pod")],
      ["GetAccount", () => call(c.accounts.getAccount, c.accounts, GetAccountRequest.fromPartial({ account: "ghost" })), { code: Code.NOT_FOUND, reason: "ACCOUNT_NOT_FOUND", metadata: { account: "ghost" } }],
      ["SyncAccount", () => call(c.accounts.syncAccount, c.accounts, SyncAccountRequest.fromPartial({ account: "ghost" })), { code: Code.NOT_FOUND, reason: "ACCOUNT_NOT_FOUND", metadata: { account: "ghost" } }],
    ];
    const answers = await Promise.all(cases.map(async ([rpc, run]) => [rpc, await errorInfoOf(run())] as const));
    for (const [[rpc, , expected], [, got]] of cases.map((c, i) => [c, answers[i]!] as const)) {
      expect({ rpc, code: got.code, reason: got.reason, metadata: got.metadata }).toEqual({ rpc, ...expected });
    }

    function groupNotFound(name: string) {
      return { code: Code.NOT_FOUND, reason: "SERVER_GROUP_NOT_FOUND", metadata: { ...inMain, name } };
    }
    function lbNotFound(name: string) {
      return { code: Code.NOT_FOUND, reason: "LOAD_BALANCER_NOT_FOUND", metadata: { ...inMain, name } };
    }
    function instanceNotFound(name: string) {
      return { code: Code.NOT_FOUND, reason: "INSTANCE_NOT_FOUND", metadata: { ...inMain, name } };
    }
  });

  it("names only the account the caller gave when it is refused, forbidden or unknown alike", async () => {
    const otto = bearer(tokens.otto);
    const forbidden = await errorInfoOf(list(secured, "guarded", [], otto));
    const unknown = await errorInfoOf(list(secured, "ghost", [], otto));
    expect(forbidden).toEqual({ ...unknown, metadata: { account: "guarded" } });
    expect(unknown).toMatchObject({ code: Code.PERMISSION_DENIED, metadata: { account: "ghost" } });
  });

  it("says when to retry an UNAVAILABLE answer (google.rpc.RetryInfo), and where the cluster failed", async () => {
    const remove = faulty.faults.add({ namespace: flakyNs, verbs: ["POST"], resources: ["replicationcontrollers"], errorRate: 1, errorCode: 503 });
    try {
      const err = await grpcError(call(sg().createServerGroup, sg(), aCreateRequest({ account: "flaky", namespace: flakyNs, targetSize: 0 })));
      expect(err.code).toBe(Code.UNAVAILABLE);
      expect(retryDelayMs(err)).toBe(1_000);
      expect(detailsOf(err)!.errorInfo).toMatchObject({ metadata: { account: "flaky", namespace: flakyNs } });
    } finally {
      remove();
    }
  });
});
