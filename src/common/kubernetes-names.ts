const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Why `value` is not a DNS-1123 label (the rule for namespace, container and
 * volume names), or undefined when it is one.
 */
export function dns1123LabelProblem(value: string): string | undefined {
  if (value.length > 63) return `must be no more than 63 characters, got ${value.length}`;
  if (!dns1123Label.test(value)) {
    return `"${value}" must consist of lower case alphanumeric characters or '-', and start and end with an alphanumeric character`;
  }
  return undefined;
}
