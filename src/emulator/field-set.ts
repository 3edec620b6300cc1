import { isObject, type Json } from "./json.js";

/** A set of field paths as a tree; a node is a member itself, or only leads to members. */
export class FieldSet {
  member = false;
  readonly children = new Map<string, FieldSet>();

  get empty(): boolean {
    return !this.member && this.children.size === 0;
  }

  insert(path: string[]): void {
    let node: FieldSet = this;
    for (const element of path) {
      let child = node.children.get(element);
      if (!child) node.children.set(element, (child = new FieldSet()));
      node = child;
    }
    node.member = true;
  }

  add(other: FieldSet): void {
    this.member ||= other.member;
    for (const [element, child] of other.children) {
      let mine = this.children.get(element);
      if (!mine) this.children.set(element, (mine = new FieldSet()));
      mine.add(child);
    }
  }

  /** Removes the members of `other` (not what lies below them). */
  subtract(other: FieldSet): void {
    if (other.member) this.member = false;
    for (const [element, child] of other.children) {
      const mine = this.children.get(element);
      if (!mine) continue;
      mine.subtract(child);
      if (mine.empty) this.children.delete(element);
    }
  }

  /** Removes one path's member. */
  remove(path: string[]): void {
    this.at(path, (parent, element) => {
      const node = parent.children.get(element)!;
      node.member = false;
      if (node.empty) parent.children.delete(element);
    });
  }

  /** Removes a path and everything below it. */
  removeTree(path: string[]): void {
    this.at(path, (parent, element) => parent.children.delete(element));
  }

  /** Keeps only one path and what lies below it. */
  keepOnly(path: string[]): void {
    let node: FieldSet = this;
    for (const element of path) {
      const child = node.children.get(element);
      node.member = false;
      for (const other of [...node.children.keys()]) if (other !== element) node.children.delete(other);
      if (!child) return;
      node = child;
    }
  }

  private at(path: string[], act: (parent: FieldSet, element: string) => void): void {
    const parents: FieldSet[] = [this];
    for (const element of path.slice(0, -1)) {
      const next = parents[parents.length - 1]!.children.get(element);
      if (!next) return;
      parents.push(next);
    }
    const last = path[path.length - 1]!;
    if (!parents[parents.length - 1]!.children.has(last)) return;
    act(parents[parents.length - 1]!, last);
    for (let i = parents.length - 1; i > 0; i--) if (parents[i]!.empty) parents[i - 1]!.children.delete(path[i - 1]!);
  }

  toJson(): Json {
    const out: Json = {};
    if (this.member && this.children.size > 0) out["."] = {};
    for (const element of [...this.children.keys()].sort(compareElements)) out[element] = this.children.get(element)!.toJson();
    return out;
  }

  static fromJson(json: Json): FieldSet {
    const set = new FieldSet();
    if (!isObject(json)) return set;
    for (const [element, child] of Object.entries(json)) {
      if (element === ".") set.member = true;
      else {
        const node = FieldSet.fromJson(child);
        if (!isObject(child) || Object.keys(child).length === 0) node.member = true;
        set.children.set(element, node);
      }
    }
    return set;
  }
}

/** structured-merge-diff's PathElement order: fields, then keys, then values, then indexes; keys field by field. */
function compareElements(a: string, b: string): number {
  const order = "fkvi";
  if (a[0] !== b[0]) return order.indexOf(a[0]!) - order.indexOf(b[0]!);
  if (a[0] === "f") return a < b ? -1 : a > b ? 1 : 0;
  if (a[0] === "i") return Number(a.slice(2)) - Number(b.slice(2));
  const [x, y] = [JSON.parse(a.slice(2)), JSON.parse(b.slice(2))];
  if (a[0] === "v") return compareValues(x, y);
  const [xs, ys] = [Object.entries(x), Object.entries(y)];
  if (xs.length !== ys.length) return xs.length - ys.length;
  for (let i = 0; i < xs.length; i++) {
    const [[xk, xv], [yk, yv]] = [xs[i]!, ys[i]!];
    if (xk !== yk) return xk < yk ? -1 : 1;
    const c = compareValues(xv, yv);
    if (c !== 0) return c;
  }
  return 0;
}

function compareValues(a: Json, b: Json): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  const [x, y] = [typeof a === "string" ? a : JSON.stringify(a), typeof b === "string" ? b : JSON.stringify(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}
