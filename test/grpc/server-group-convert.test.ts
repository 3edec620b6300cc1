import { describe, expect, it } from "vitest";
import { FieldPath } from "../../src/common/field-path.js";
import { Protocol, Scheme } from "../../gen/kubedriver/v1/server_group.js";
import { replicationControllerFor } from "../../src/core/server-groups/manifest.js";
import { serverGroupView } from "../../src/core/server-groups/view.js";
import { pageToProto, SpecReader } from "../../src/grpc/server-group-convert.js";
import { aContainer, anHttpProbe } from "../support/server-groups.js";

describe("SpecReader", () => {
  it("turns the wire's containers into core's, with unset scalars as absent and protocols named", () => {
    const reader = new SpecReader();
    const [c] = reader.containers([aContainer({ ports: [{ name: "", containerPort: 80, protocol: Protocol.PROTOCOL_UNSPECIFIED }, { name: "dns", containerPort: 53, protocol: Protocol.PROTOCOL_UDP }] })]);
    expect(reader.errors.empty).toBe(true);
    expect(c!.ports).toEqual([
      { name: undefined, containerPort: 80, protocol: "TCP" },
      { name: "dns", containerPort: 53, protocol: "UDP" },
    ]);
  });

  it("reads probe durations as whole seconds", () => {
    const reader = new SpecReader();
    const [c] = reader.containers([aContainer({ readinessProbe: anHttpProbe({ initialDelay: { seconds: 5, nanos: 0 }, period: { seconds: 10, nanos: 0 } }) })]);
    expect(reader.errors.empty).toBe(true);
    expect(c!.readinessProbe).toMatchObject({ initialDelaySeconds: 5, periodSeconds: 10, httpGet: { scheme: "HTTP" } });
  });

  it("collects what only the wire can get wrong, at the path it is given, without throwing", () => {
    const reader = new SpecReader();
    reader.containers(
      [
        aContainer({
          ports: [{ name: "", containerPort: 80, protocol: 99 as Protocol }],
          livenessProbe: anHttpProbe({ timeout: { seconds: 1, nanos: 500 }, httpGet: { ...anHttpProbe().httpGet!, scheme: 42 as Scheme } }),
        }),
      ],
      FieldPath.root("containers").child("items"),
    );
    expect(reader.errors.violations.map((v) => v.field)).toEqual([
      "containers.items[0].ports[0].protocol",
      "containers.items[0].liveness_probe.http_get.scheme",
      "containers.items[0].liveness_probe.timeout",
    ]);
  });
});

describe("pageToProto", () => {
  const spec = { application: "web", stack: "", detail: "", targetSize: 0, containers: [{ name: "web", image: "web:1", command: [], args: [], env: [], ports: [], resources: { requests: {}, limits: {} }, volumeMounts: [] }], loadBalancers: [], volumes: [], labels: {}, annotations: {}, nodeSelector: {} };
  const groupsOf = (n: number) =>
    Array.from({ length: n }, (_, v) => {
      const rc = replicationControllerFor(spec as never, v, []);
      rc.metadata!.namespace = "prod";
      return serverGroupView("main", rc, []);
    });

  it("answers the same page of the same list with one object, so that it is encoded once for every caller", () => {
    const listed = groupsOf(5);
    const first = pageToProto(listed, listed.slice(0, 2), "next");
    expect(pageToProto(listed, listed.slice(0, 2), "next")).toBe(first);
    expect(first.serverGroups.map((g) => g.name)).toEqual(["web-v000", "web-v001"]);
    // Another page, another token or another list (a view's list is new after each change): another answer.
    expect(pageToProto(listed, listed.slice(2, 4), "more")).not.toBe(first);
    expect(pageToProto(listed, listed.slice(0, 2), "")).not.toBe(first);
    const changed = [...listed];
    expect(pageToProto(changed, changed.slice(0, 2), "next")).not.toBe(first);
  });

  it("keeps at most 16 pages of one list", () => {
    const listed = groupsOf(20);
    const first = pageToProto(listed, listed.slice(0, 1), "");
    for (let size = 2; size <= 16; size++) pageToProto(listed, listed.slice(0, size), "");
    expect(pageToProto(listed, listed.slice(0, 1), "")).toBe(first);
    pageToProto(listed, listed.slice(0, 17), "");
    expect(pageToProto(listed, listed.slice(0, 1), "")).not.toBe(first);
  });
});
