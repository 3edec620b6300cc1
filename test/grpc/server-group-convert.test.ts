import { describe, expect, it } from "vitest";
import { FieldPath } from "../../src/common/field-path.js";
import { Protocol, Scheme } from "../../gen/kubedriver/v1/server_group.js";
import { SpecReader } from "../../src/grpc/server-group-convert.js";
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
