import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

export interface TestPki {
  dir: string;
  /** PEM file paths. */
  caCert: string;
  serverCert: string;
  serverKey: string;
  /** Signed by the CA: subject CN=<name>, O=<group>. */
  client(name: string, groups: string[]): { cert: string; key: string };
  /** A CA nobody trusts, and a client certificate it signed. */
  rogueClient(): { cert: string; key: string };
}

/** A throwaway PKI made with openssl: a CA, a serving certificate for 127.0.0.1 and localhost, client certificates. */
export function makeTestPki(dir: string): TestPki {
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  const selfSignedCa = (name: string) => {
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", `/CN=${name}`,
      "-keyout", file(`${name}.key`), "-out", file(`${name}.crt`));
  };
  const signed = (ca: string, name: string, subject: string, extensions: string) => {
    fs.writeFileSync(file(`${name}.ext`), extensions);
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", subject,
      "-keyout", file(`${name}.key`), "-out", file(`${name}.csr`));
    openssl("x509", "-req", "-in", file(`${name}.csr`), "-CA", file(`${ca}.crt`), "-CAkey", file(`${ca}.key`), "-CAcreateserial",
      "-days", "1", "-extfile", file(`${name}.ext`), "-out", file(`${name}.crt`));
    return { cert: file(`${name}.crt`), key: file(`${name}.key`) };
  };

  selfSignedCa("ca");
  const server = signed("ca", "server", "/CN=kubedriver", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  return {
    dir,
    caCert: file("ca.crt"),
    serverCert: server.cert,
    serverKey: server.key,
    client: (name, groups) =>
      signed("ca", `client-${name}`, `/CN=${name}${groups.map((g) => `/O=${g}`).join("")}`, "extendedKeyUsage=clientAuth\n"),
    rogueClient: () => {
      selfSignedCa("rogue-ca");
      return signed("rogue-ca", "client-rogue", "/CN=mallory/O=deployers", "extendedKeyUsage=clientAuth\n");
    },
  };
}
