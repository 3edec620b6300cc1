import { parseDocument } from "yaml";
import { describe, expect, it } from "vitest";
import { parseYaml, parseYamlAsync } from "../../src/common/yaml.js";

/** A document long enough to be lexed in several slices. */
function longDocument(entries: number): string {
  let text = "items:\n";
  for (let i = 0; i < entries; i++) text += `  - {name: item-${i}, labels: {app: web, tier: "front end"}, size: ${i}}\n`;
  return text;
}

describe("parsing YAML", () => {
  it("gives the same values as the yaml library, at once and in slices", async () => {
    for (const text of ["", "a: 1\nb: [x, y]\nc: {d: null}\n", "# only a comment\n", longDocument(500)]) {
      const expected = parseDocument(text).toJS();
      expect(parseYaml(text)).toEqual({ ok: true, value: expected });
      expect(await parseYamlAsync(text)).toEqual({ ok: true, value: expected });
    }
  });

  it("names the line and column of a syntax error in a later slice, with a fixed description and no excerpt", async () => {
    const secret = "bearer-0123456789abcdef-secret";
    const text = longDocument(500) + `broken: [${secret}\nnext: 1\n`;
    const { line, col } = parseDocument(text).errors[0]!.linePos![0];
    expect(line).toBeGreaterThan(500);
    for (const result of [parseYaml(text), await parseYamlAsync(text)]) {
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.problems[0]).toMatch(new RegExp(`^YAML line ${line}, column ${col}: [a-z (),]+$`));
      expect(result.problems.join("\n")).not.toContain(secret);
    }
  });

  it("reports every duplicate key by its position, never by the key", () => {
    const result = parseYaml("a: 1\nb: {x: 1, x: 2}\nsecret-looking-key-0123456789: 1\nsecret-looking-key-0123456789: 2\n");
    expect(result).toEqual({
      ok: false,
      problems: ["YAML line 2, column 11: a key repeated in the same mapping", "YAML line 4, column 1: a key repeated in the same mapping"],
    });
  });

  it("checks 13,000 distinct keys in linear time", () => {
    let text = "";
    for (let i = 0; i < 13_000; i++) text += `key${i}: v\n`;
    const started = performance.now();
    const result = parseYaml(text + "key17: again\n");
    const ms = performance.now() - started;
    expect(result).toEqual({ ok: false, problems: ["YAML line 13001, column 1: a key repeated in the same mapping"] });
    expect(ms).toBeLessThan(1000);
  });

  it("stops lexing a file of too many tokens, whatever its size in bytes", () => {
    const result = parseYaml(Array.from({ length: 20_000 }, (_, i) => `k${i}: v`).join("\n"));
    expect(result).toEqual({ ok: false, problems: [expect.stringMatching(/^YAML line 14\d{3}, column \d+: more than 100000 tokens/)] });
  });

  it("bounds alias expansion", () => {
    const laughs = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 10; i++) laughs.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(", ")}]`);
    expect(parseYaml(laughs.join("\n"))).toEqual({ ok: false, problems: ["YAML: aliases expand to more than 100 copies"] });
    expect(parseYaml("base: &b {x: 1}\nuse: *b\n")).toEqual({ ok: true, value: { base: { x: 1 }, use: { x: 1 } } });
  });

  it("refuses a second document and deep nesting without overflowing the stack", () => {
    expect(parseYaml("a: 1\n---\nb: 2\n")).toEqual({ ok: false, problems: ["YAML line 2, column 1: more than one document"] });
    const started = performance.now();
    expect(parseYaml("[".repeat(100_000))).toEqual({ ok: false, problems: ["YAML line 1, column 101: collections nested more than 100 deep"] });
    expect(performance.now() - started).toBeLessThan(500);
  });

  it("honours merge keys only when asked", () => {
    const text = "base: &b {x: 1}\nuse: {<<: *b, y: 2}\n";
    expect(parseYaml(text, { merge: true })).toEqual({ ok: true, value: { base: { x: 1 }, use: { x: 1, y: 2 } } });
    expect(parseYaml(text)).toEqual({ ok: true, value: { base: { x: 1 }, use: { "<<": { x: 1 }, y: 2 } } });
  });
});
