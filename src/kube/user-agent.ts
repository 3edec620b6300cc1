/**
 * The User-Agent of every request kubedriver makes: kube-apiserver names a
 * write's field manager after its product (`managedFields[].manager:
 * kubedriver`), and audit logs name the client by it. Without it the
 * requests carry node-fetch's.
 */
export const userAgent = "kubedriver";

/** Sets kubedriver's User-Agent on the headers of a fetch request (client-node builds them as node-fetch's Headers). */
export function identify(headers: unknown): void {
  (headers as { set(name: string, value: string): void }).set("User-Agent", userAgent);
}
