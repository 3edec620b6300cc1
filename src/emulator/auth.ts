import { randomBytes } from "node:crypto";
import { forbidden, unauthorized } from "./status.js";

export type Verb = "get" | "list" | "watch" | "create" | "update" | "patch" | "delete";

export interface User {
  name: string;
  /** `resource` → verbs allowed; undefined means everything (cluster-admin). */
  rules?: Record<string, Verb[]>;
}

/**
 * Bearer tokens of two users: an administrator, and a restricted user that
 * may only read namespaces and pods, like `kubeconfig-restricted` of the real
 * control plane in test/cluster, for permission tests.
 */
export class Authenticator {
  readonly adminToken = randomBytes(16).toString("hex");
  readonly restrictedToken = randomBytes(16).toString("hex");
  private readonly users: Map<string, User>;

  constructor() {
    this.users = new Map([
      [this.adminToken, { name: "kubedriver-emulator-admin" }],
      [
        this.restrictedToken,
        { name: "restricted", rules: { namespaces: ["get", "list"], pods: ["get", "list", "watch"] } },
      ],
    ]);
  }

  /**
   * A request without credentials acts as the administrator: kubectl (client-go)
   * does not send bearer tokens over plain HTTP, and this double serves no TLS.
   * A wrong token is still 401.
   */
  authenticate(authorization: string | undefined): User {
    if (authorization === undefined) return this.users.get(this.adminToken)!;
    const token = /^Bearer (.+)$/i.exec(authorization)?.[1];
    const user = token ? this.users.get(token) : undefined;
    if (!user) throw unauthorized();
    return user;
  }

  /** Throws 403 with the message format of the RBAC authorizer. */
  authorize(user: User, verb: Verb, resource: string, namespace: string | undefined, name: string | undefined, subresource?: string): void {
    if (!user.rules) return;
    const allowed = user.rules[subresource ? `${resource}/${subresource}` : resource] ?? [];
    if (allowed.includes(verb)) return;
    const what = subresource ? `${resource}/${subresource}` : resource;
    const object = name ? `${resource} "${name}"` : resource;
    const scope = namespace ? `in the namespace "${namespace}"` : "at the cluster scope";
    throw forbidden(`${object} is forbidden: User "${user.name}" cannot ${verb} resource "${what}" in API group "" ${scope}`, {
      name,
      kind: resource,
    });
  }
}
