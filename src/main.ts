import { runCli } from "./cli/run.js";

const stopRequested = new Promise<string>((resolve) => {
  for (const sig of ["SIGTERM", "SIGINT"] as const) process.once(sig, () => resolve(sig));
});

runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  stopRequested,
  onReloadRequested: (reload) => process.on("SIGHUP", reload),
}).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`kubedriver: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
