/** A port that could not be opened at start-up, named by the setting that asked for it. */
export class ListenError extends Error {
  constructor(
    /** The config key (`server.listen`, `server.healthListen`, `server.metricsListen`). */
    readonly setting: string,
    readonly address: string,
    /** `address already in use`, `permission denied`, or the system's words. */
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(`cannot listen on ${address} (${setting}): ${problem}`, options);
    this.name = "ListenError";
  }
}

/** What went wrong with a bind, in a few words, from the error's code or message. */
export function listenProblem(err: unknown): string {
  const text = `${(err as NodeJS.ErrnoException)?.code ?? ""} ${err instanceof Error ? err.message : String(err)}`;
  if (/EADDRINUSE/.test(text)) return "address already in use";
  if (/EACCES/.test(text)) return "permission denied (ports below 1024 need privileges)";
  if (/EADDRNOTAVAIL/.test(text)) return "no such address on this host";
  if (/ENOTFOUND|EAI_AGAIN/.test(text)) return "host name not found";
  return err instanceof Error ? err.message : String(err);
}
