import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../..", import.meta.url));

/** promtool, built once per version into the cache by deploy/build-promtool.sh (minutes when cold; CI builds it first). */
export function promtool(): string {
  const out = execFileSync("bash", ["deploy/build-promtool.sh"], { cwd: repo, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  return out.trim().split("\n").at(-1)!;
}

/** `promtool check metrics` on an exposition: its exit code and what it said (nothing when the text is clean). */
export function checkMetrics(text: string): { status: number; output: string } {
  try {
    const output = execFileSync(promtool(), ["check", "metrics"], { input: text, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
    return { status: 0, output };
  } catch (err) {
    const e = err as { status?: number; stdout?: string; stderr?: string };
    return { status: e.status ?? -1, output: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}
