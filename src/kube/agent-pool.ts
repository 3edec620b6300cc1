import { createHash } from "node:crypto";
import http from "node:http";
import https from "node:https";

type Agent = http.Agent | https.Agent;

/** The TLS identity of an agent: requests with the same one may share connections. */
const identityKeys = ["ca", "cert", "key", "pfx", "passphrase", "rejectUnauthorized", "servername"] as const;

/** Distinct identities kept per account; more only happen when an exec plugin rotates client certificates. */
const maxAgents = 4;

/**
 * client-node 1.x builds a new Agent for every request, so every Kubernetes
 * call would open a connection, and against a real cluster do a TLS
 * handshake. This hands out one keep-alive agent per distinct TLS identity
 * instead, built from the same options client-node chose. Proxy agents are
 * left as client-node made them.
 */
export class AgentPool {
  private readonly agents = new Map<string, Agent>();

  reuse(fresh: Agent | undefined): Agent | undefined {
    if (!fresh || (fresh.constructor !== http.Agent && fresh.constructor !== https.Agent)) return fresh;
    const secure = fresh instanceof https.Agent;
    const options = (fresh as unknown as { options: https.AgentOptions }).options;
    const id = createHash("sha256").update(JSON.stringify([secure, ...identityKeys.map((k) => options[k] ?? null)])).digest("hex");
    const known = this.agents.get(id);
    if (known) return known;
    const agent = secure ? new https.Agent({ ...options, keepAlive: true }) : new http.Agent({ ...options, keepAlive: true });
    this.agents.set(id, agent);
    if (this.agents.size > maxAgents) {
      const [oldest] = this.agents;
      this.agents.delete(oldest![0]);
      oldest![1].destroy();
    }
    return agent;
  }

  /** Closes every connection: for a client no call uses any more. */
  destroy(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }
}
