// Reduces a kube-apiserver OpenAPI document (v2, or one v3 group version) to
// what the emulator serves: the paths of the served resources and
// subresources (no deprecated /watch/ paths, no subresource it does not
// answer), the fixed discovery paths, and only the definitions, schemas and
// parameters those paths reach. Everything kept is the real document's,
// byte for byte in content and key order.
//
//   node reduce-openapi.mjs SERVED... < full.json > reduced.json
//
// SERVED: "v1/pods", "v1/pods/log", "autoscaling/v2/horizontalpodautoscalers", …
// as group-version/resource[/subresource]; a literal path ("/api/v1/") is kept as is.
import { readFileSync } from "node:fs";

const served = process.argv.slice(2);
const literal = new Set(served.filter((s) => s.startsWith("/")));
const resources = new Map(); // "gv resource" -> Set of subresources
for (const s of served.filter((s) => !s.startsWith("/"))) {
  const parts = s.split("/");
  const core = parts[0] === "v1";
  const gv = core ? "v1" : `${parts[0]}/${parts[1]}`;
  const [resource, subresource] = parts.slice(core ? 1 : 2);
  const key = `${gv} ${resource}`;
  if (!resources.has(key)) resources.set(key, new Set());
  if (subresource) resources.get(key).add(subresource);
}

/** Whether the emulator answers this OpenAPI path template. */
function isServed(path) {
  if (literal.has(path)) return true;
  const prefix = /^\/(?:api\/v1|apis\/([a-z0-9.-]+\/[a-z0-9]+))\//.exec(path);
  if (!prefix) return false;
  const gv = prefix[1] ?? "v1";
  let rest = path.slice(prefix[0].length).split("/");
  if (rest[0] === "namespaces" && rest[1] === "{namespace}" && rest.length >= 3) rest = rest.slice(2);
  const subresources = resources.get(`${gv} ${rest[0]}`);
  if (!subresources) return false;
  if (rest.length === 1) return true;
  if (rest[1] !== "{name}") return false;
  return rest.length === 2 || (rest.length === 3 && subresources.has(rest[2]));
}

const doc = JSON.parse(readFileSync(0, "utf8"));
const v3 = "openapi" in doc;
const sections = v3 ? { "#/components/schemas/": doc.components?.schemas ?? {} } : { "#/definitions/": doc.definitions ?? {}, "#/parameters/": doc.parameters ?? {} };

const paths = Object.fromEntries(Object.entries(doc.paths ?? {}).filter(([p]) => isServed(p)));
const reached = new Set();
const walk = (node) => {
  if (Array.isArray(node)) return node.forEach(walk);
  if (node === null || typeof node !== "object") return;
  for (const [k, v] of Object.entries(node)) {
    if (k === "$ref" && typeof v === "string" && !reached.has(v)) {
      reached.add(v);
      const section = Object.keys(sections).find((s) => v.startsWith(s));
      if (!section) throw new Error(`unknown $ref ${v}`);
      walk(sections[section][v.slice(section.length)]);
    } else walk(v);
  }
};
walk(paths);

const keep = (section) => Object.fromEntries(Object.entries(sections[section]).filter(([name]) => reached.has(section + name)));
const out = { ...doc, paths };
if (v3) {
  if (doc.components?.schemas) out.components = { ...doc.components, schemas: keep("#/components/schemas/") };
} else {
  out.definitions = keep("#/definitions/");
  out.parameters = keep("#/parameters/");
}
process.stdout.write(JSON.stringify(out));
