import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKubedriver, type Kubedriver } from "../../src/app.js";
import { parseConfig } from "../../src/config/load.js";
import { silentLogger } from "../../src/observability/logger.js";
import { tempDir } from "../support/kubeconfig.js";
import { promtool } from "./promtool.js";
import { scrape } from "./scrape.js";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const chartFiles = path.join(repo, "deploy/chart/kubedriver/files");
const tmp = tempDir();
let app: Kubedriver;
let exposition: string;

beforeAll(async () => {
  promtool();
  app = await startKubedriver(parseConfig(`server: {listen: "127.0.0.1:0", metricsListen: "127.0.0.1:0"}\nkubernetes: {accounts: []}\n`), silentLogger);
  exposition = path.join(tmp.dir, "metrics.txt");
  fs.writeFileSync(exposition, (await scrape(app.metrics!.address)).text);
  // promtool is built when not cached yet: minutes, once per machine (CI builds it before the suite).
}, 600_000);

afterAll(async () => {
  await app?.stop();
  tmp.cleanup();
});

/** deploy/check-observability.mjs on the scrape and `files`. */
function check(...files: string[]) {
  return spawnSync(process.execPath, ["deploy/check-observability.mjs", exposition, ...files], { cwd: repo, encoding: "utf8" });
}

describe("the dashboard and alert rules shipped with the chart", () => {
  it("query only metrics kubedriver exports", () => {
    const result = check(path.join(chartFiles, "dashboard.json"), path.join(chartFiles, "alerts.rules.yaml"));
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  it("are refused when a query names a metric kubedriver does not export", () => {
    const dashboard = JSON.parse(fs.readFileSync(path.join(chartFiles, "dashboard.json"), "utf8"));
    dashboard.panels[0].targets[0].expr = 'sum(rate(kubedriver_no_such_metric_total{job=~"$job"}[5m])) / sum(rate(grpc_server_started_total[5m]))';
    const broken = path.join(tmp.dir, "broken.json");
    fs.writeFileSync(broken, JSON.stringify(dashboard));
    const result = check(broken);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("kubedriver_no_such_metric_total is not a metric kubedriver exports");
    expect(result.stderr).not.toContain("grpc_server_started_total");
  });

  it("are valid Prometheus rules (promtool check rules)", () => {
    const out = execFileSync(promtool(), ["check", "rules", path.join(chartFiles, "alerts.rules.yaml")], { encoding: "utf8" });
    expect(out).toMatch(/SUCCESS: \d+ rules found/);
  });
});
