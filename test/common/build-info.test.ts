import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { readBuildInfo } from "../../src/common/build-info.js";

const head = execFileSync("git", ["rev-parse", "HEAD"], { encoding: "utf8" }).trim();

describe("which commit kubedriver says it runs", () => {
  it("is KUBEDRIVER_COMMIT where the build set it (the image has no .git)", () => {
    expect(readBuildInfo({ KUBEDRIVER_COMMIT: "0123456789abcdef0123456789abcdef01234567" }).commit).toBe("0123456789abcdef0123456789abcdef01234567");
  });

  it("is the checkout's HEAD otherwise, and never a value that is not a commit", () => {
    expect(readBuildInfo({}).commit).toBe(head);
    expect(readBuildInfo({ KUBEDRIVER_COMMIT: "unknown" }).commit).toBe(head);
    expect(readBuildInfo({ KUBEDRIVER_COMMIT: 'x"} 1\nevil' }).commit).toBe(head);
  });
});
