import { isObject, type Json } from "./json.js";
import { badRequest, StatusError, unsupportedMediaType } from "./status.js";

/** Applies a PATCH body by its content type, as the API server does. */
export function applyPatch(target: Json, patch: Json, contentType: string): Json {
  const type = contentType.split(";")[0]!.trim();
  if (type === "application/merge-patch+json") return mergePatch(target, patch);
  if (type === "application/strategic-merge-patch+json") return strategicMergePatch(target, patch);
  if (type === "application/json-patch+json") return jsonPatch(target, patch);
  throw unsupportedMediaType();
}

/** RFC 7386: objects merge, null deletes, everything else replaces. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const out = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/**
 * Strategic merge as far as kubedriver uses it: like a merge patch, except
 * that lists of named items (containers, volumes, env, ports) merge by name.
 */
export function strategicMergePatch(target: Json, patch: Json): Json {
  if (Array.isArray(patch) && Array.isArray(target) && patch.every(isNamed) && target.every(isNamed)) {
    const out = target.map((t) => structuredClone(t));
    for (const item of patch) {
      const i = out.findIndex((t) => t.name === item.name);
      if (item.$patch === "delete") {
        if (i >= 0) out.splice(i, 1);
      } else if (i >= 0) out[i] = strategicMergePatch(out[i], item);
      else out.push(structuredClone(item));
    }
    return out;
  }
  if (!isObject(patch)) return structuredClone(patch);
  const out = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = strategicMergePatch(out[k], v);
  }
  return out;
}

/** RFC 6902 operations. */
export function jsonPatch(target: Json, ops: Json): Json {
  if (!Array.isArray(ops)) throw badRequest("json patch must be a list of operations");
  let doc = structuredClone(target);
  for (const op of ops) {
    const path = parsePointer(op.path);
    switch (op.op) {
      case "add":
        doc = setAt(doc, path, structuredClone(op.value), "add");
        break;
      case "replace":
        getAt(doc, path, op.path);
        doc = setAt(doc, path, structuredClone(op.value), "replace");
        break;
      case "remove":
        getAt(doc, path, op.path);
        doc = removeAt(doc, path);
        break;
      case "test":
        if (JSON.stringify(getAt(doc, path, op.path)) !== JSON.stringify(op.value)) {
          throw new StatusError({
            kind: "Status",
            apiVersion: "v1",
            metadata: {},
            status: "Failure",
            message: `the server rejected our request due to an error in our request: testing value ${op.path} failed`,
            reason: "Invalid",
            code: 422,
          });
        }
        break;
      case "move":
      case "copy": {
        const from = parsePointer(op.from);
        const value = structuredClone(getAt(doc, from, op.from));
        if (op.op === "move") doc = removeAt(doc, from);
        doc = setAt(doc, path, value, "add");
        break;
      }
      default:
        throw badRequest(`Unexpected kind: ${String(op.op)}`);
    }
  }
  return doc;
}

function parsePointer(pointer: unknown): string[] {
  if (typeof pointer !== "string" || (pointer !== "" && !pointer.startsWith("/"))) throw badRequest(`invalid JSON pointer ${String(pointer)}`);
  return pointer === "" ? [] : pointer.slice(1).split("/").map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function getAt(doc: Json, path: string[], raw: string): Json {
  let cur = doc;
  for (const p of path) {
    if (cur === null || typeof cur !== "object" || !(p in cur)) throw badRequest(`jsonpatch: path ${raw} does not exist`);
    cur = cur[p];
  }
  return cur;
}

function setAt(doc: Json, path: string[], value: Json, mode: "add" | "replace"): Json {
  if (path.length === 0) return value;
  const parent = getAt(doc, path.slice(0, -1), "/" + path.slice(0, -1).join("/"));
  const last = path[path.length - 1]!;
  if (Array.isArray(parent)) {
    const i = last === "-" ? parent.length : Number(last);
    if (mode === "add") parent.splice(i, 0, value);
    else parent[i] = value;
  } else parent[last] = value;
  return doc;
}

function removeAt(doc: Json, path: string[]): Json {
  const parent = getAt(doc, path.slice(0, -1), "/" + path.slice(0, -1).join("/"));
  const last = path[path.length - 1]!;
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else delete parent[last];
  return doc;
}


function isNamed(v: unknown): boolean {
  return isObject(v) && typeof v.name === "string";
}
