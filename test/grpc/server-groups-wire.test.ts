import { describe, expect, it } from "vitest";
import { ServerGroup, TrafficState } from "../../gen/kubedriver/v1/server_group.js";
import { ChangeType, ServerGroupsService as Generated, WatchServerGroupsResponse } from "../../gen/kubedriver/v1/server_groups.js";
import { maxMessageBytes } from "../../src/grpc/paging.js";
import { ServerGroupsService, splitWatchResponse } from "../../src/grpc/server-groups-wire.js";

const group = (name: string) =>
  ServerGroup.fromPartial({
    name,
    account: "prod",
    namespace: "web",
    targetSize: 3,
    labels: { team: "payments" },
    instances: [{ name: `${name}-abc`, ready: true, serving: true }],
    traffic: TrafficState.TRAFFIC_STATE_PARTIAL,
  });

describe("the ServerGroups responses encoded once per group", () => {
  it("are byte for byte what the generated encoders write", () => {
    const a = group("web-v000");
    const b = group("web-v001");
    const cases = [
      ["getServerGroup", { serverGroup: a }],
      ["getServerGroup", { serverGroup: undefined }],
      ["waitForServerGroup", { serverGroup: b }],
      ["listServerGroups", { serverGroups: [a, b, a], nextPageToken: "next" }],
      ["listServerGroups", { serverGroups: [], nextPageToken: "" }],
      ["watchServerGroups", { snapshot: true, changes: [{ type: ChangeType.CHANGE_TYPE_ADDED, serverGroup: a }], continued: false }],
      ["watchServerGroups", { snapshot: true, changes: [{ type: ChangeType.CHANGE_TYPE_ADDED, serverGroup: a }], continued: true }],
      ["watchServerGroups", { snapshot: false, changes: [{ type: ChangeType.CHANGE_TYPE_DELETED, serverGroup: b }, { type: ChangeType.CHANGE_TYPE_MODIFIED, serverGroup: a }], continued: false }],
    ] as const;
    for (const [method, message] of cases) {
      const ours = (ServerGroupsService[method].responseSerialize as (m: unknown) => Buffer)(message);
      const generated = (Generated[method].responseSerialize as (m: unknown) => Buffer)(message);
      expect(ours.equals(generated), method).toBe(true);
    }
  });
});

describe("a WatchServerGroups message larger than a caller can receive", () => {
  const large = (name: string) => ServerGroup.fromPartial({ ...group(name), annotations: { note: "x".repeat(300_000) } });

  it("is sent in parts under 2 MiB: the first keeps snapshot, all but the last are continued, and together they are the message", () => {
    const message = { snapshot: true, changes: Array.from({ length: 14 }, (_, i) => ({ type: ChangeType.CHANGE_TYPE_ADDED, serverGroup: large(`web-v${i}`) })), continued: false };
    const parts = splitWatchResponse(message);
    expect(parts.length).toBe(3);
    for (const part of parts) expect(WatchServerGroupsResponse.encode(part).finish().length).toBeLessThanOrEqual(maxMessageBytes);
    expect(parts.map((p) => [p.snapshot, p.continued])).toEqual([[true, true], [false, true], [false, false]]);
    expect(parts.flatMap((p) => p.changes)).toEqual(message.changes);
    // Shared by every subscriber: split once.
    expect(splitWatchResponse(message)).toBe(parts);
  });

  it("is one part when it fits, and a group larger than the limit travels alone", () => {
    const small = { snapshot: false, changes: [{ type: ChangeType.CHANGE_TYPE_MODIFIED, serverGroup: group("web-v000") }], continued: false };
    expect(splitWatchResponse(small)).toEqual([small]);
    const huge = ServerGroup.fromPartial({ ...group("huge"), annotations: { note: "x".repeat(maxMessageBytes) } });
    const parts = splitWatchResponse({ snapshot: false, changes: [huge, group("a"), huge].map((g) => ({ type: ChangeType.CHANGE_TYPE_MODIFIED, serverGroup: g })), continued: false });
    expect(parts.map((p) => p.changes.map((c) => c.serverGroup!.name))).toEqual([["huge"], ["a"], ["huge"]]);
  });
});
