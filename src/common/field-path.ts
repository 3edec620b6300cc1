/**
 * A path to a field, rendered the way people read them in config and in
 * requests: `kubernetes.accounts[1].name`, `containers[0].image`,
 * `labels["app"]`.
 */
export class FieldPath {
  private constructor(private readonly rendered: string) {}

  static root(name = ""): FieldPath {
    return new FieldPath(name);
  }

  child(name: string): FieldPath {
    return new FieldPath(this.rendered ? `${this.rendered}.${name}` : name);
  }

  index(i: number): FieldPath {
    return new FieldPath(`${this.rendered}[${i}]`);
  }

  key(k: string): FieldPath {
    return new FieldPath(`${this.rendered}[${JSON.stringify(k)}]`);
  }

  toString(): string {
    return this.rendered;
  }
}

export interface FieldViolation {
  field: string;
  description: string;
}

/**
 * Collects every problem of an input so that one answer names them all.
 * `rename` maps a path as checks write it to the path the input has it at
 * (a request that wraps a field in a message names it one level deeper).
 */
export class FieldErrors {
  readonly violations: FieldViolation[] = [];

  constructor(private readonly rename: (field: string) => string = (field) => field) {}

  add(path: FieldPath | string, description: string): void {
    this.violations.push({ field: this.rename(path.toString()), description });
  }

  get empty(): boolean {
    return this.violations.length === 0;
  }
}
