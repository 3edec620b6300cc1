// Checks that the dashboard and alerting rules shipped with the chart query
// only metrics kubedriver exports: every metric name in every PromQL
// expression must be in an exposition scraped from a running kubedriver.
//
//   node deploy/check-observability.mjs METRICS_TEXT_FILE DASHBOARD.json RULES.yaml...
//
// Prints one line per unknown metric (file, where, name) and exits 1, else
// one summary line. The metrics test (test/observability/dashboard.test.ts)
// runs it on a fresh scrape; promtool checks the rules' syntax.
import fs from "node:fs";
import { parse } from "yaml";

/** The metric names an exposition offers to queries: histograms and summaries as their series. */
export function exportedNames(text) {
  const names = new Set();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m;
    names.add(name);
    if (type === "histogram") for (const s of ["_bucket", "_sum", "_count"]) names.add(name + s);
    if (type === "summary") for (const s of ["_sum", "_count"]) names.add(name + s);
  }
  return names;
}

const keywords = new Set(["by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset", "inf", "nan", "atan2"]);

/** The metric names a PromQL expression selects (functions, keywords, labels and Grafana variables left out). */
export function metricNamesIn(expr) {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
    .replace(/\$\{?\w+\}?/g, " ");
  const names = new Set();
  for (const m of bare.matchAll(/(?<![\w:.])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(\s*\()?/g)) {
    if (m[2] || keywords.has(m[1].toLowerCase())) continue;
    names.add(m[1]);
  }
  return names;
}

/** Every PromQL expression of a Grafana dashboard, with where it is: panel targets and label_values() variables. */
export function dashboardQueries(dashboard) {
  const out = [];
  const panels = (list) => {
    for (const p of list ?? []) {
      for (const t of p.targets ?? []) if (typeof t.expr === "string") out.push({ where: `panel "${p.title}" ${t.refId}`, expr: t.expr });
      panels(p.panels);
    }
  };
  panels(dashboard.panels);
  for (const v of dashboard.templating?.list ?? []) {
    const q = typeof v.query === "string" ? v.query : v.query?.query;
    const m = typeof q === "string" && /^label_values\(\s*([^,)]+)/.exec(q);
    if (m) out.push({ where: `variable ${v.name}`, expr: m[1] });
  }
  return out;
}

/** Every expression of a Prometheus rules file (or a PrometheusRule's spec). */
export function ruleQueries(rules) {
  return (rules.groups ?? []).flatMap((g) => (g.rules ?? []).map((r) => ({ where: `rule ${r.alert ?? r.record}`, expr: r.expr })));
}

/** What of `files` queries a metric `exported` lacks: [{file, where, name}]. */
export function unknownMetrics(exported, files) {
  const problems = [];
  for (const file of files) {
    const text = fs.readFileSync(file, "utf8");
    const queries = file.endsWith(".json") ? dashboardQueries(JSON.parse(text)) : ruleQueries(parse(text));
    if (queries.length === 0) problems.push({ file, where: "(whole file)", name: "no query found" });
    for (const { where, expr } of queries) for (const name of metricNamesIn(String(expr))) if (!exported.has(name)) problems.push({ file, where, name });
  }
  return problems;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [metricsFile, ...files] = process.argv.slice(2);
  if (!metricsFile || files.length === 0) {
    console.error("usage: node deploy/check-observability.mjs METRICS_TEXT_FILE DASHBOARD.json RULES.yaml...");
    process.exit(2);
  }
  const exported = exportedNames(fs.readFileSync(metricsFile, "utf8"));
  const problems = unknownMetrics(exported, files);
  for (const p of problems) console.error(`${p.file}: ${p.where}: ${p.name} is not a metric kubedriver exports`);
  if (problems.length > 0) process.exit(1);
  console.log(`check-observability: every query of ${files.join(", ")} uses metrics kubedriver exports (${exported.size} names)`);
}
