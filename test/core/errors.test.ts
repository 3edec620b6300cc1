import { describe, expect, it } from "vitest";
import * as errors from "../../src/common/errors.js";

const constructors = {
  InvalidArgument: () => new errors.InvalidArgumentError("bad", [{ field: "f", description: "d" }]),
  NotFound: () => new errors.NotFoundError("missing"),
  AlreadyExists: () => new errors.AlreadyExistsError("exists"),
  FailedPrecondition: () => new errors.FailedPreconditionError("precondition"),
  Conflict: () => new errors.ConflictError("conflict"),
  PermissionDenied: () => new errors.PermissionDeniedError("denied"),
  Unauthenticated: () => new errors.UnauthenticatedError("who"),
  Unavailable: () => new errors.UnavailableError("down"),
  DeadlineExceeded: () => new errors.DeadlineExceededError("slow"),
  Unimplemented: () => new errors.UnimplementedError("later"),
  ResourceExhausted: () => new errors.ResourceExhaustedError("full", 1000),
  Cancelled: () => new errors.CancelledError("gone"),
} satisfies Record<errors.ErrorKind, () => errors.KubedriverError>;

const predicates: Record<errors.ErrorKind, (e: unknown) => boolean> = {
  InvalidArgument: errors.isInvalidArgument,
  NotFound: errors.isNotFound,
  AlreadyExists: errors.isAlreadyExists,
  FailedPrecondition: errors.isFailedPrecondition,
  Conflict: errors.isConflict,
  PermissionDenied: errors.isPermissionDenied,
  Unauthenticated: errors.isUnauthenticated,
  Unavailable: errors.isUnavailable,
  DeadlineExceeded: errors.isDeadlineExceeded,
  Unimplemented: errors.isUnimplemented,
  ResourceExhausted: errors.isResourceExhausted,
  Cancelled: errors.isCancelled,
};

describe("core error predicates", () => {
  const kinds = Object.keys(constructors) as errors.ErrorKind[];
  for (const made of kinds) {
    for (const asked of kinds) {
      it(`${asked} predicate is ${made === asked} for a ${made} error, directly and through a cause`, () => {
        const err = constructors[made]();
        expect(predicates[asked](err)).toBe(made === asked);
        expect(predicates[asked](new Error("wrapped", { cause: err }))).toBe(made === asked);
      });
    }
  }

  it("is false for plain errors and non-errors", () => {
    for (const p of Object.values(predicates)) {
      expect(p(new Error("x"))).toBe(false);
      expect(p("NotFound")).toBe(false);
      expect(p(undefined)).toBe(false);
    }
  });
});
