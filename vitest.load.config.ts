import { defineConfig } from "vitest/config";

// The load run: one long test, alone on the CPU, with `gc()` exposed so that
// heap growth after warm-up is measured on live objects only.
export default defineConfig({
  test: {
    include: ["test/load/**/*.test.ts"],
    pool: "forks",
    setupFiles: ["test/support/unhandled.ts"],
    execArgv: ["--expose-gc"],
    fileParallelism: false,
    hookTimeout: 120_000,
  },
});
