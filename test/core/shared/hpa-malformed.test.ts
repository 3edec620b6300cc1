import { describe, expect, it } from "vitest";
import { autoscaledGroup, autoscalerManifest } from "../../../src/core/shared/hpa.js";
import { metricsRegistry } from "../../../src/observability/metrics.js";

const policy = { minSize: 1, maxSize: 3, targetCpuUtilizationPercent: 70 };

async function skipped(): Promise<number> {
  const text = await metricsRegistry.getSingleMetricAsString("kubedriver_kube_objects_skipped_total");
  const line = text.split("\n").find((l) => l.includes(`account="hpa-test"`) && l.includes(`reason="no_scale_target"`));
  return line ? Number(line.split(" ").pop()) : 0;
}

describe("an autoscaler a broken API server (or a hand edit) left without spec.scaleTargetRef", () => {
  it("scales no group and is counted, where reading it used to throw (INTERNAL to every list and live get)", async () => {
    const hpa = autoscalerManifest({ account: "hpa-test", namespace: "web", name: "web-v000" }, policy);
    expect(autoscaledGroup("hpa-test", hpa)).toEqual({ group: "web-v000", policy });
    const before = await skipped();
    const broken = { ...hpa, spec: { ...hpa.spec!, scaleTargetRef: undefined as never } };
    expect(autoscaledGroup("hpa-test", broken)).toBeUndefined();
    expect(autoscaledGroup("hpa-test", { ...hpa, spec: undefined })).toBeUndefined();
    expect(await skipped()).toBe(before + 2);
  });

  it("is not counted when it is not kubedriver's", async () => {
    const before = await skipped();
    expect(autoscaledGroup("hpa-test", { metadata: { name: "theirs" }, spec: undefined as never })).toBeUndefined();
    expect(await skipped()).toBe(before);
  });
});
