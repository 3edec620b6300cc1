import { defineConfig } from "vitest/config";

// Benchmarks are measurements, not pass/fail tests: they run only through
// `npm run bench`, one file at a time so they do not compete for the CPU.
export default defineConfig({
  test: {
    include: ["test/bench/**/*.bench.ts"],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    pool: "forks",
    fileParallelism: false,
    execArgv: ["--expose-gc"],
  },
});
