import { setTimeout as sleep } from "node:timers/promises";
import type { TokenStore } from "../core/auth/tokens.js";
import { FailureThrottle } from "../core/auth/failure-throttle.js";
import { UnauthenticatedError } from "../common/errors.js";
import type { Logger } from "../observability/logger.js";
import { peerHost, type Authenticate } from "./calls.js";

/**
 * Caller identity from `authorization: Bearer <token>` metadata (checked
 * against the tokens file) or else from the client certificate of a mutual
 * TLS connection: its subject's CN is the name, its O entries the groups.
 * Undefined when neither is configured: then every call is anonymous.
 *
 * A bearer token that does not check out is answered only after the
 * throttle's delay for the caller's address, so guessing tokens gets slower
 * the longer it goes on; a valid token is answered at once.
 */
export function authenticator(opts: {
  tokens?: TokenStore;
  clientCertificates: boolean;
  log: Logger;
  /** Defaults to the documented limits, logging to `log`. */
  throttle?: FailureThrottle;
}): Authenticate | undefined {
  if (!opts.tokens && !opts.clientCertificates) return undefined;
  const throttle = opts.throttle ?? new FailureThrottle({ log: opts.log.child({ component: "authentication" }) });
  return (call) => {
    const header = call.metadata.get("authorization")[0];
    if (header !== undefined) {
      const token = /^Bearer\s+(\S+)$/i.exec(String(header))?.[1];
      const caller = token ? opts.tokens?.lookup(token) : undefined;
      if (caller) return caller;
      return sleep(throttle.failure(peerHost(call.getPeer()))).then(() => {
        throw new UnauthenticatedError("the bearer token is not valid", { reason: "INVALID_TOKEN" });
      });
    }
    const subject = opts.clientCertificates ? call.getAuthContext().sslPeerCertificate?.subject : undefined;
    if (subject?.CN) return { name: String(subject.CN), groups: ([] as string[]).concat(subject.O ?? []) };
    throw new UnauthenticatedError("no caller identity: send `authorization: Bearer <token>` metadata or a client certificate", {
      reason: "NO_CREDENTIALS",
    });
  };
}
