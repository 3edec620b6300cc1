import { describe, expect, it } from "vitest";
import { FieldErrors } from "../../../src/common/field-path.js";
import { normaliseImage } from "../../../src/core/server-groups/image.js";
import { checkNameParts, clusterName, parseServerGroupName, serverGroupName } from "../../../src/core/server-groups/naming.js";
import { nextVersion } from "../../../src/core/server-groups/versions.js";

describe("cluster and server group names", () => {
  it.each([
    [{ application: "web", stack: "", detail: "" }, "web"],
    [{ application: "web", stack: "prod", detail: "" }, "web-prod"],
    [{ application: "web", stack: "prod", detail: "canary-1" }, "web-prod-canary-1"],
    [{ application: "web", stack: "", detail: "canary" }, "web--canary"],
  ])("names the cluster of %o %s", (parts, cluster) => {
    expect(clusterName(parts)).toBe(cluster);
  });

  it("suffixes the version with three digits and parses it back", () => {
    expect(serverGroupName("web-prod", 7)).toBe("web-prod-v007");
    expect(parseServerGroupName("web--canary-v123")).toEqual({ cluster: "web--canary", version: 123 });
    expect(parseServerGroupName("web-prod")).toBeUndefined();
  });

  function violations(parts: { application: string; stack: string; detail: string }) {
    const errors = new FieldErrors();
    checkNameParts(parts, errors);
    return errors.violations.map((v) => v.field);
  }

  it("reports each invalid part once", () => {
    expect(violations({ application: "", stack: "", detail: "" })).toEqual(["application"]);
    expect(violations({ application: "Web", stack: "pr-od", detail: "a_b" })).toEqual(["application", "stack", "detail"]);
    expect(violations({ application: "web", stack: "", detail: "-x" })).toEqual(["detail"]);
  });

  it("rejects a cluster whose server group names would exceed Kubernetes' limits", () => {
    expect(violations({ application: "a".repeat(30), stack: "b".repeat(20), detail: "c".repeat(10) })).toEqual(["detail"]);
    expect(violations({ application: "a".repeat(20), stack: "b".repeat(20), detail: "c".repeat(10) })).toEqual([]);
  });
});

describe("the next version", () => {
  it("starts at v000 and follows the highest existing one, gaps or not", () => {
    expect(nextVersion([])).toBe(0);
    expect(nextVersion([0, 1, 2])).toBe(3);
    expect(nextVersion([0, 5])).toBe(6);
  });

  it("wraps after v999 to the lowest free version", () => {
    expect(nextVersion([997, 998, 999])).toBe(0);
    expect(nextVersion([0, 1, 3, 999])).toBe(2);
  });

  it("has nothing left when all 1,000 are taken", () => {
    expect(nextVersion(Array.from({ length: 1000 }, (_, i) => i))).toBeUndefined();
  });
});

describe("image references", () => {
  it.each([
    ["nginx", "nginx:latest"],
    ["nginx:1.27", "nginx:1.27"],
    ["library/nginx", "library/nginx:latest"],
    ["registry.example.com/team/web", "registry.example.com/team/web:latest"],
    ["localhost/web:dev", "localhost/web:dev"],
    ["localhost:5000/web", "localhost:5000/web:latest"],
    [`web@sha256:${"a".repeat(64)}`, `web@sha256:${"a".repeat(64)}`],
    [`quay.io/x/web:1.0@sha256:${"b".repeat(64)}`, `quay.io/x/web:1.0@sha256:${"b".repeat(64)}`],
  ])("normalises %s to %s", (image, normalised) => {
    expect(normaliseImage(image)).toEqual({ image: normalised });
  });

  it.each(["", "Nginx", "nginx:", "nginx:bad tag", "web@sha256:xyz", "registry..com//web", "web:" + "t".repeat(200)])(
    "rejects %j",
    (image) => {
      expect(normaliseImage(image)).toHaveProperty("problem");
    },
  );
});
