import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../../src/common/errors.js";
import { FieldErrors } from "../../../src/common/field-path.js";
import type { ContainerSpec, ServerGroupSpec } from "../../../src/core/server-groups/spec.js";
import { checkSpec, checkTargetSize, validateSpec } from "../../../src/core/server-groups/validate.js";

const container = (overrides: Partial<ContainerSpec> = {}): ContainerSpec => ({
  name: "web",
  image: "nginx:1.27",
  command: [],
  args: [],
  env: [],
  ports: [{ containerPort: 80, protocol: "TCP" }],
  resources: { requests: {}, limits: {} },
  volumeMounts: [],
  ...overrides,
});

const spec = (overrides: Partial<ServerGroupSpec> = {}): ServerGroupSpec => ({
  application: "web",
  stack: "",
  detail: "",
  targetSize: 1,
  containers: [container()],
  loadBalancers: [],
  volumes: [],
  labels: {},
  annotations: {},
  nodeSelector: {},
  ...overrides,
});

const problemsOf = (s: ServerGroupSpec): string[] => {
  const errors = new FieldErrors();
  checkSpec(s, errors);
  return errors.violations.map((v) => v.field);
};

describe("checkSpec", () => {
  it("passes a minimal spec and normalises its images", () => {
    expect(validateSpec(spec({ containers: [container({ image: "nginx" })] })).containers[0]!.image).toBe("nginx:latest");
  });

  it("names every problem with its field path, in one pass", () => {
    const fields = problemsOf(
      spec({
        application: "Web",
        targetSize: -1,
        containers: [
          container({ image: "UPPER" }),
          container({ name: "web", ports: [{ containerPort: 70_000, protocol: "TCP" }], volumeMounts: [{ name: "missing", mountPath: "relative", readOnly: false }] }),
        ],
        labels: { "bad key!": "v" },
      }),
    );
    expect(fields).toEqual(
      expect.arrayContaining([
        "application",
        "target_size",
        "containers[0].image",
        "containers[1].name",
        "containers[1].ports[0].container_port",
        "containers[1].volume_mounts[0].name",
        "containers[1].volume_mounts[0].mount_path",
      ]),
    );
    expect(fields.some((f) => f.startsWith("labels["))).toBe(true);
  });

  it("requires a container and exactly one source per volume", () => {
    expect(problemsOf(spec({ containers: [] }))).toContain("containers");
    expect(problemsOf(spec({ volumes: [{ name: "v" }] }))).toContain("volumes[0]");
    expect(
      problemsOf(spec({ volumes: [{ name: "v", emptyDir: { memory: false }, persistentVolumeClaim: { claimName: "c", readOnly: false } }] })),
    ).toContain("volumes[0]");
  });

  it("throws at most 50 problems, saying how many more there were", () => {
    const many = spec({ containers: Array.from({ length: 60 }, (_, i) => container({ name: `c${i}`, image: "BAD" })) });
    const err = (() => {
      try {
        validateSpec(many);
      } catch (e) {
        return e as InvalidArgumentError;
      }
      throw new Error("a spec with 60 bad images was accepted");
    })();
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.violations).toHaveLength(50);
    expect(err.message).toContain("more problems not listed");
  });
});

describe("checkTargetSize", () => {
  it.each([0, 1, 10_000])("accepts %d", (n) => {
    const errors = new FieldErrors();
    checkTargetSize(n, errors);
    expect(errors.empty).toBe(true);
  });

  it.each([-1, 10_001, 1.5])("refuses %d, naming target_size", (n) => {
    const errors = new FieldErrors();
    checkTargetSize(n, errors);
    expect(errors.violations).toEqual([{ field: "target_size", description: expect.stringContaining("between 0 and 10000") }]);
  });
});
