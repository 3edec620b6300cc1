import { afterAll, afterEach } from "vitest";

/**
 * Fails the test during which a promise rejection went unhandled or an
 * exception went uncaught: in the running service either one ends the
 * process, so the suite must not let one pass as a stray warning. Listed in
 * `setupFiles` of every vitest config.
 */
const escaped: { kind: string; error: unknown }[] = [];
// Taken before any test can install fake timers, which would never run it.
const nextTurn = globalThis.setImmediate;

const record = (kind: string) => (error: unknown) => escaped.push({ kind, error });
const onRejection = record("unhandled rejection");
const onException = record("uncaught exception");
process.on("unhandledRejection", onRejection);
process.on("uncaughtException", onException);

async function failOnEscaped(when: string): Promise<void> {
  // Node reports an unhandled rejection only once the microtask queue has drained after it.
  await new Promise((resolve) => nextTurn(resolve));
  if (escaped.length === 0) return;
  const found = escaped.splice(0);
  const first = found[0]!.error;
  throw new Error(
    `${found.length} ${found.map((f) => f.kind).join(", ")} ${when}; the first: ${first instanceof Error ? (first.stack ?? first.message) : String(first)}`,
    { cause: first },
  );
}

afterEach(() => failOnEscaped("during this test"));
afterAll(async () => {
  try {
    await failOnEscaped("in this file's set-up or tear-down");
  } finally {
    process.off("unhandledRejection", onRejection);
    process.off("uncaughtException", onException);
  }
});
