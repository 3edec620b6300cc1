import { FieldErrors } from "../../common/field-path.js";
import { quoted } from "../../common/quoted.js";

const alphanumeric = /^[a-z0-9]+$/;
const detailPattern = /^[a-z0-9-]+$/;
/** ReplicationController names are DNS subdomains, but Services select on labels, and label values stop at 63. */
const maxNameLength = 63;
const versionSuffix = /^(.*)-v(\d{3})$/;
/** `application`, `application-stack`, `application-stack-detail` or `application--detail`. */
const clusterPattern = /^[a-z0-9]+(?:-[a-z0-9]+|-[a-z0-9]*-[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)?$/;

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
  else if (!alphanumeric.test(p.application)) errors.add("application", `${quoted(p.application)} must be lower-case letters and digits only`);
  if (p.stack && !alphanumeric.test(p.stack)) errors.add("stack", `${quoted(p.stack)} must be lower-case letters and digits only`);
  if (p.detail) {
    if (!detailPattern.test(p.detail)) errors.add("detail", `${quoted(p.detail)} must be lower-case letters, digits and '-' only`);
    else if (p.detail.startsWith("-") || p.detail.endsWith("-")) errors.add("detail", `${quoted(p.detail)} must start and end with a letter or digit`);
  }
  if (errors.empty) {
    const longest = serverGroupName(clusterName(p), 999);
    if (longest.length > maxNameLength) {
      // A part too long on its own is the one to shorten; otherwise the last part, which tipped the name over.
      const parts = (["application", "stack", "detail"] as const).filter((part) => p[part]);
      const tooLong = parts.find((part) => serverGroupName(p[part], 999).length > maxNameLength);
      errors.add(
        tooLong ?? parts[parts.length - 1]!,
        `server group names of this cluster (${quoted(longest)}) would be ${longest.length} characters; at most ${maxNameLength} are allowed`,
      );
    }
  }
}

/** Why `name` cannot be a server group's (`application[-stack[-detail]]-vNNN`, at most 63 characters), or undefined. */
export function serverGroupNameProblem(name: string): string | undefined {
  const parsed = parseServerGroupName(name);
  if (name.length <= maxNameLength && parsed && clusterPattern.test(parsed.cluster)) return undefined;
  return `${quoted(name)} is not a server group name: application[-stack[-detail]]-vNNN, at most ${maxNameLength} characters`;
}

/**
 * Checks the filters of a listing, which become label selector values: a
 * value no server group can have is a mistake to report, not a query that
 * finds nothing (or, with `,` or `=`, a different selector).
 */
export function listFilterProblems(f: { application: string; cluster: string }): FieldErrors {
  const errors = new FieldErrors();
  const longest = maxNameLength - "-v000".length;
  if (f.application && (!alphanumeric.test(f.application) || f.application.length > longest)) {
    errors.add("application", `${quoted(f.application)} is not an application name: at most ${longest} lower-case letters and digits`);
  }
  if (f.cluster && (!clusterPattern.test(f.cluster) || f.cluster.length > longest)) {
    errors.add("cluster", `${quoted(f.cluster)} is not a cluster name: application[-stack[-detail]], at most ${longest} characters`);
  }
  return errors;
}
