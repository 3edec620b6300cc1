import { describe, expect, it } from "vitest";
import { normaliseImage } from "../../../src/core/server-groups/image.js";

describe("normaliseImage", () => {
  it.each([
    ["nginx", "nginx:latest"],
    ["nginx:1.27", "nginx:1.27"],
    ["library/nginx", "library/nginx:latest"],
    ["registry.example.com/team/web", "registry.example.com/team/web:latest"],
    ["localhost:5000/web:dev", "localhost:5000/web:dev"],
    ["localhost/web", "localhost/web:latest"],
    [`web@sha256:${"a".repeat(64)}`, `web@sha256:${"a".repeat(64)}`],
    [`web:1.0@sha256:${"b".repeat(64)}`, `web:1.0@sha256:${"b".repeat(64)}`],
  ])("%s → %s", (input, normalised) => {
    expect(normaliseImage(input)).toEqual({ image: normalised });
  });

  it.each([
    ["", "is required"],
    [" nginx", "white space"],
    ["Nginx", "lower-case"],
    ["nginx:bad tag", "white space"],
    ["nginx:-x", "invalid tag"],
    ["web@sha256:abc", "invalid digest"],
    ["bad_registry.example.com:99999999/web", "invalid registry"],
    [`${"a".repeat(256)}:1`, "at most 255 characters"],
    ["team//web", "not a valid image reference"],
  ])("refuses %j: %s", (input, problem) => {
    const result = normaliseImage(input);
    expect(result).toHaveProperty("problem");
    expect((result as { problem: string }).problem).toContain(problem);
  });

  it("takes the first part for a registry only when docker would (a dot, a port or localhost)", () => {
    // "team" is a repository path part, so upper-case is refused there as in any repository component.
    expect(normaliseImage("team/web")).toEqual({ image: "team/web:latest" });
    expect(normaliseImage("Team.Example.com/web")).toEqual({ image: "Team.Example.com/web:latest" });
    expect(normaliseImage("Team/web")).toHaveProperty("problem");
  });
});
