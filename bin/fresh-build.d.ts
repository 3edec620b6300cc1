export type BuildOutcome = "built" | "errors" | "missing";

export function ensureFreshBuild(
  root: string,
  options?: { build?: (root: string) => BuildOutcome; write?: (line: string) => void },
): "fresh" | "built" | "stale";
