/**
 * Kubernetes' rules for names, keys and values (apimachinery's
 * validation.IsDNS1123Label and friends), in one place for every request
 * and config check that must refuse what the API server would.
 */

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const dns1035Label = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const qualifiedNamePart = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const ianaServiceName = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const configKey = /^[-._a-zA-Z0-9]+$/;

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

export function isDns1123Label(value: string): boolean {
  return value.length <= 63 && dns1123Label.test(value);
}

/** Most object names (secrets, config maps, claims), and a qualified name's prefix. */
export function isDns1123Subdomain(value: string): boolean {
  return value.length <= 253 && dns1123Subdomain.test(value);
}

/** Service names: they become DNS names and environment variable prefixes, so they start with a letter. */
export function isDns1035Label(value: string): boolean {
  return value.length <= 63 && dns1035Label.test(value);
}

/** A label or annotation key: `[prefix/]name`, a DNS subdomain prefix, a name of at most 63 characters. */
export function isQualifiedName(key: string): boolean {
  const slash = key.indexOf("/");
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && !isDns1123Subdomain(prefix)) return false;
  return name.length <= 63 && qualifiedNamePart.test(name);
}

export function isLabelValue(value: string): boolean {
  return value.length <= 63 && labelValue.test(value);
}

/** A named port (IANA service name): at most 15 lower-case letters, digits and '-', with a letter, no '--'. */
export function isPortName(name: string): boolean {
  return name.length <= 15 && ianaServiceName.test(name) && /[a-z]/.test(name) && !name.includes("--");
}

/** A ConfigMap or Secret key. */
export function isConfigKey(key: string): boolean {
  return key.length <= 253 && configKey.test(key) && key !== "." && key !== "..";
}
