import { invalidCause, requiredCause, type StatusCause } from "./status.js";

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const dns1035Label = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const qualifiedNamePart = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

export type NameRule = "dns1123-label" | "dns1123-subdomain" | "dns1035-label";

/** Messages as apimachinery's validation writes them. */
export function nameProblems(name: string, rule: NameRule): string[] {
  if (rule === "dns1123-label") {
    const out: string[] = [];
    if (name.length > 63) out.push("must be no more than 63 characters");
    if (!dns1123Label.test(name)) {
      out.push(
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
      );
    }
    return out;
  }
  if (rule === "dns1035-label") {
    const out: string[] = [];
    if (name.length > 63) out.push("must be no more than 63 characters");
    if (!dns1035Label.test(name)) {
      out.push(
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
      );
    }
    return out;
  }
  const out: string[] = [];
  if (name.length > 253) out.push("must be no more than 253 characters");
  if (!dns1123Subdomain.test(name)) {
    out.push(
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    );
  }
  return out;
}

export function validateMetadataName(name: string | undefined, rule: NameRule, causes: StatusCause[]): void {
  if (!name) {
    causes.push(requiredCause("metadata.name"));
    return;
  }
  for (const problem of nameProblems(name, rule)) causes.push(invalidCause("metadata.name", name, problem));
}

export function validateLabels(labels: Record<string, string> | undefined, field: string, causes: StatusCause[]): void {
  for (const [k, v] of Object.entries(labels ?? {})) {
    const name = k.includes("/") ? k.slice(k.indexOf("/") + 1) : k;
    if (!qualifiedNamePart.test(name) || name.length > 63) {
      causes.push(invalidCause(field, k, "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"));
    }
    if (typeof v !== "string" || v.length > 63 || !labelValue.test(v)) {
      causes.push(
        invalidCause(
          `${field}`,
          v,
          v.length > 63
            ? "must be no more than 63 characters"
            : "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        ),
      );
    }
  }
}

interface Container {
  name?: string;
  image?: string;
  ports?: { containerPort?: number; name?: string }[];
}

/** The parts of pod spec validation kubedriver can trip over. */
export function validatePodSpec(spec: { containers?: Container[] } | undefined, field: string, causes: StatusCause[]): void {
  const containers = spec?.containers ?? [];
  if (containers.length === 0) causes.push(requiredCause(`${field}.containers`));
  const names = new Set<string>();
  containers.forEach((c, i) => {
    const at = `${field}.containers[${i}]`;
    if (!c.name) causes.push(requiredCause(`${at}.name`));
    else {
      for (const p of nameProblems(c.name, "dns1123-label")) causes.push(invalidCause(`${at}.name`, c.name, p));
      if (names.has(c.name)) causes.push({ reason: "FieldValueDuplicate", message: `Duplicate value: "${c.name}"`, field: `${at}.name` });
      names.add(c.name);
    }
    if (!c.image) causes.push(requiredCause(`${at}.image`));
    (c.ports ?? []).forEach((p, j) => {
      const port = p.containerPort ?? 0;
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        causes.push(invalidCause(`${at}.ports[${j}].containerPort`, port, "must be between 1 and 65535, inclusive"));
      }
    });
  });
}
