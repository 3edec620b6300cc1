import { describe, expect, it } from "vitest";
import { utf8Head, utf8Tail } from "../../src/common/utf8.js";

const bytes = Buffer.from("a€b", "utf8"); // 61 e2 82 ac 62

describe("utf8Head / utf8Tail", () => {
  it("leave text that fits whole", () => {
    expect(utf8Head(bytes, 5).toString()).toBe("a€b");
    expect(utf8Tail(bytes, 9).toString()).toBe("a€b");
  });

  it("never end or start inside a character: they keep less rather than half of one", () => {
    expect([1, 2, 3, 4].map((n) => utf8Head(bytes, n).toString())).toEqual(["a", "a", "a", "a€"]);
    expect([1, 2, 3, 4].map((n) => utf8Tail(bytes, n).toString())).toEqual(["b", "b", "b", "€b"]);
  });

  it("keep nothing when the limit is 0", () => {
    expect(utf8Head(bytes, 0).length).toBe(0);
    expect(utf8Tail(bytes, 0).length).toBe(0);
  });
});
