import { badRequest } from "./status.js";

type Requirement =
  | { op: "=" | "!="; key: string; value: string }
  | { op: "in" | "notin"; key: string; values: string[] }
  | { op: "exists" | "!exists"; key: string };

/** A parsed label selector: equality-based and set-based requirements, ANDed. */
export type LabelSelector = Requirement[];

/** Parses `a=b,c!=d,e in (x,y),f notin (z),g,!h`; invalid syntax is a 400. */
export function parseLabelSelector(text: string | null): LabelSelector {
  if (!text) return [];
  return splitTopLevel(text).map((part) => {
    const p = part.trim();
    let m = /^([^\s=!,()]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(p);
    if (m) return { op: m[2] as "in" | "notin", key: m[1]!, values: m[3]!.split(",").map((v) => v.trim()).filter(Boolean) };
    m = /^([^\s=!,()]+)\s*(==|=|!=)\s*([^\s=!,()]*)$/.exec(p);
    if (m) return { op: m[2] === "!=" ? "!=" : "=", key: m[1]!, value: m[3]! };
    m = /^!\s*([^\s=!,()]+)$/.exec(p);
    if (m) return { op: "!exists", key: m[1]! };
    m = /^([^\s=!,()]+)$/.exec(p);
    if (m) return { op: "exists", key: m[1]! };
    throw badRequest(`unable to parse requirement: invalid label selector "${text}"`);
  });
}

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of text) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      parts.push(current);
      current = "";
    } else current += ch;
  }
  parts.push(current);
  return parts.filter((p) => p.trim() !== "");
}

export function matchesLabels(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return selector.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case "=":
        return has && l[r.key] === r.value;
      case "!=":
        return !has || l[r.key] !== r.value;
      case "in":
        return has && r.values.includes(l[r.key]!);
      case "notin":
        return !has || !r.values.includes(l[r.key]!);
      case "exists":
        return has;
      case "!exists":
        return !has;
    }
  });
}

/** Field selectors over the fields a kind allows (`metadata.name` and `metadata.namespace` always), with = and !=. */
export function parseFieldSelector(text: string | null, allowed: string[] = []): (obj: KubeObjectLike) => boolean {
  if (!text) return () => true;
  const fields = ["metadata.name", "metadata.namespace", ...allowed];
  const reqs = text.split(",").map((part) => {
    const m = /^([a-zA-Z.]+)\s*(==|=|!=)\s*(.*)$/.exec(part.trim());
    if (!m || !fields.includes(m[1]!)) {
      throw badRequest(`"${part}" is not a known field selector: only ${fields.map((f) => `"${f}"`).join(", ")}`);
    }
    return { path: m[1]!.split("."), negate: m[2] === "!=", value: m[3]! };
  });
  return (obj) =>
    reqs.every((r) => {
      const actual = r.path.reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], obj) ?? "";
      return (actual === r.value) !== r.negate;
    });
}

interface KubeObjectLike {
  metadata?: { name?: string; namespace?: string };
}

/** Renders a map selector as a string (the Scale subresource's `status.selector`). */
export function selectorString(selector: Record<string, string> | undefined): string {
  return Object.entries(selector ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}
