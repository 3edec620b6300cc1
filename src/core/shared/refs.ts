import { NotFoundError, type ErrorMetadata, type ResourceRef } from "../../common/errors.js";

/** An object of an account namespace, as callers name it: a server group, a load balancer, an instance … */
export interface ObjectRef {
  account: string;
  namespace: string;
  name: string;
}

/** The kinds of object errors name, in the words callers know them by. */
export type ObjectType = "server group" | "load balancer" | "instance" | "autoscaler" | "container";

/** Where an object lives, in messages: `in namespace "web" of account "prod"`. */
export function whereIs(ref: Omit<ObjectRef, "name">): string {
  return `in namespace "${ref.namespace}" of account "${ref.account}"`;
}

/**
 * What an error about the object carries, for every kind alike: its
 * google.rpc.ResourceInfo and its ErrorInfo metadata (account, namespace,
 * name), so that a program can act on it without parsing the message.
 */
export function about(type: ObjectType, ref: ObjectRef, owner = `account ${ref.account}, namespace ${ref.namespace}`): { resource: ResourceRef; metadata: ErrorMetadata } {
  return {
    resource: { type, name: ref.name, owner },
    metadata: { account: ref.account, namespace: ref.namespace, name: ref.name },
  };
}

/** The reason of a NOT_FOUND about an object of `type`: `SERVER_GROUP_NOT_FOUND`, `LOAD_BALANCER_NOT_FOUND` … */
export function notFoundReason(type: ObjectType): string {
  return `${type.toUpperCase().replace(/ /g, "_")}_NOT_FOUND`;
}

/** NOT_FOUND naming the object, `why` said after it (e.g. that an object of that name exists but is not kubedriver's). */
export function notFound(type: ObjectType, ref: ObjectRef, opts: { why?: string; cause?: unknown } = {}): NotFoundError {
  return new NotFoundError(`${type} "${ref.name}" not found ${whereIs(ref)}${opts.why ?? ""}`, {
    cause: opts.cause,
    reason: notFoundReason(type),
    ...about(type, ref),
  });
}
