import type { TokenStore } from "../core/auth/tokens.js";
import { UnauthenticatedError } from "../common/errors.js";
import type { Authenticate } from "./calls.js";

/**
 * Caller identity from `authorization: Bearer <token>` metadata (checked
 * against the tokens file) or else from the client certificate of a mutual
 * TLS connection: its subject's CN is the name, its O entries the groups.
 * Undefined when neither is configured: then every call is anonymous.
 */
export function authenticator(opts: { tokens?: TokenStore; clientCertificates: boolean }): Authenticate | undefined {
  if (!opts.tokens && !opts.clientCertificates) return undefined;
  return (call) => {
    const header = call.metadata.get("authorization")[0];
    if (header !== undefined) {
      const token = /^Bearer\s+(\S+)$/i.exec(String(header))?.[1];
      const caller = token ? opts.tokens?.lookup(token) : undefined;
      if (!caller) throw new UnauthenticatedError("the bearer token is not valid", { reason: "INVALID_TOKEN" });
      return caller;
    }
    const subject = opts.clientCertificates ? call.getAuthContext().sslPeerCertificate?.subject : undefined;
    if (subject?.CN) return { name: String(subject.CN), groups: ([] as string[]).concat(subject.O ?? []) };
    throw new UnauthenticatedError("no caller identity: send `authorization: Bearer <token>` metadata or a client certificate", {
      reason: "NO_CREDENTIALS",
    });
  };
}
