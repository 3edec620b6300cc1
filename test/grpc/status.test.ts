import type { ServiceError } from "@grpc/grpc-js";
import { status as Code } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { ConflictError, UnavailableError } from "../../src/common/errors.js";
import { toServiceError } from "../../src/grpc/status.js";
import { silentLogger } from "../../src/observability/logger.js";
import { detailsOf } from "../support/grpc.js";
import { retryDelayMs } from "../support/overload.js";

const statusOf = (err: unknown) => toServiceError(err, silentLogger) as ServiceError;

describe("toServiceError", () => {
  it("tells when to retry what may pass by itself: ABORTED after 100 ms, UNAVAILABLE after 1 s", () => {
    const aborted = statusOf(new ConflictError("request_id is still being carried out; retry", { reason: "REQUEST_IN_PROGRESS" }));
    expect([aborted.code, retryDelayMs(aborted)]).toEqual([Code.ABORTED, 100]);
    const unavailable = statusOf(new Error("wrapped", { cause: new UnavailableError("the API server failed (503)", { reason: "ServiceUnavailable" }) }));
    expect([unavailable.code, retryDelayMs(unavailable)]).toEqual([Code.UNAVAILABLE, 1_000]);
  });

  it("puts the set parts of an error's metadata in ErrorInfo, each cut short", () => {
    const err = statusOf(new ConflictError("x", { reason: "REQUEST_IN_PROGRESS", metadata: { account: "a", namespace: undefined, name: "n".repeat(300) } }));
    const metadata = detailsOf(err)!.errorInfo!.metadata;
    expect(Object.keys(metadata).sort()).toEqual(["account", "name"]);
    expect(metadata.account).toBe("a");
    expect(metadata.name!.startsWith("n".repeat(256))).toBe(true);
    expect(metadata.name!.length).toBeLessThan(300);
  });
});
