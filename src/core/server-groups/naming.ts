import { FieldErrors } from "../field-path.js";

const alphanumeric = /^[a-z0-9]+$/;
const detailPattern = /^[a-z0-9-]+$/;
/** ReplicationController names are DNS subdomains, but Services select on labels, and label values stop at 63. */
const maxNameLength = 63;
const versionSuffix = /^(.*)-v(\d{3})$/;

export interface NameParts {
  application: string;
  stack: string;
  detail: string;
}

/** `application`, `application-stack`, `application-stack-detail` or `application--detail`. */
export function clusterName(p: NameParts): string {
  if (p.detail) return `${p.application}-${p.stack}-${p.detail}`;
  return p.stack ? `${p.application}-${p.stack}` : p.application;
}

export function serverGroupName(cluster: string, version: number): string {
  return `${cluster}-v${String(version).padStart(3, "0")}`;
}

/** The cluster and version of a server group name, or undefined when it is not one. */
export function parseServerGroupName(name: string): { cluster: string; version: number } | undefined {
  const m = versionSuffix.exec(name);
  return m ? { cluster: m[1]!, version: Number(m[2]) } : undefined;
}

/** Checks the naming convention, one violation per problem. */
export function checkNameParts(p: NameParts, errors: FieldErrors): void {
  if (!p.application) errors.add("application", "is required");
  else if (!alphanumeric.test(p.application)) errors.add("application", `"${p.application}" must be lower-case letters and digits only`);
  if (p.stack && !alphanumeric.test(p.stack)) errors.add("stack", `"${p.stack}" must be lower-case letters and digits only`);
  if (p.detail) {
    if (!detailPattern.test(p.detail)) errors.add("detail", `"${p.detail}" must be lower-case letters, digits and '-' only`);
    else if (p.detail.startsWith("-") || p.detail.endsWith("-")) errors.add("detail", `"${p.detail}" must start and end with a letter or digit`);
  }
  if (errors.empty) {
    const longest = serverGroupName(clusterName(p), 999);
    if (longest.length > maxNameLength) {
      errors.add(
        p.detail ? "detail" : p.stack ? "stack" : "application",
        `server group names of this cluster ("${longest}") would be ${longest.length} characters; at most ${maxNameLength} are allowed`,
      );
    }
  }
}
