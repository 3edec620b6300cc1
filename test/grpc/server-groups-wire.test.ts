import { describe, expect, it } from "vitest";
import { ServerGroup, TrafficState } from "../../gen/kubedriver/v1/server_group.js";
import { ChangeType, ServerGroupsService as Generated } from "../../gen/kubedriver/v1/server_groups.js";
import { ServerGroupsService } from "../../src/grpc/server-groups-wire.js";

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
      ["watchServerGroups", { snapshot: true, changes: [{ type: ChangeType.CHANGE_TYPE_ADDED, serverGroup: a }] }],
      ["watchServerGroups", { snapshot: false, changes: [{ type: ChangeType.CHANGE_TYPE_DELETED, serverGroup: b }, { type: ChangeType.CHANGE_TYPE_MODIFIED, serverGroup: a }] }],
    ] as const;
    for (const [method, message] of cases) {
      const ours = (ServerGroupsService[method].responseSerialize as (m: unknown) => Buffer)(message);
      const generated = (Generated[method].responseSerialize as (m: unknown) => Buffer)(message);
      expect(ours.equals(generated), method).toBe(true);
    }
  });
});
