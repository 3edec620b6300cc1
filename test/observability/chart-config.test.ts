import fs from "node:fs";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";

/** The kubedriver.yaml of the ConfigMap in the manifests rendered from the Helm chart (deploy/render.sh). */
function renderedConfig(): string {
  const docs = parseAllDocuments(fs.readFileSync(new URL("../../deploy/kubedriver.yaml", import.meta.url), "utf8")).map((d) => d.toJS());
  const configMap = docs.find((d) => d?.kind === "ConfigMap" && typeof d?.data?.["kubedriver.yaml"] === "string");
  if (!configMap) throw new Error("deploy/kubedriver.yaml has no ConfigMap with a kubedriver.yaml");
  return configMap.data["kubedriver.yaml"] as string;
}

describe("the chart's rendered config", () => {
  it("is a config kubedriver accepts, metrics on server.metricsListen", () => {
    // The files it names exist only in the pod; what is checked here is the config's shape.
    const config = parseConfig(renderedConfig(), { source: "deploy/kubedriver.yaml", baseDir: "/etc/kubedriver", readFile: () => "x" });
    expect(config.server.metricsListen).toEqual({ host: "0.0.0.0", port: 9090 });
    expect(config.server.healthListen).toEqual({ host: "0.0.0.0", port: 7003 });
  });
});
