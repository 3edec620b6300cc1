#!/usr/bin/env node
import { fileURLToPath } from "node:url";
import { ensureFreshBuild } from "./fresh-build.js";

try {
  ensureFreshBuild(fileURLToPath(new URL("..", import.meta.url)));
} catch (err) {
  process.stderr.write(`kubedriver: ${err.message}\n`);
  process.exit(1);
}
await import("../dist/src/main.js");
