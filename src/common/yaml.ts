import { setImmediate as nextTurn } from "node:timers/promises";
import { Composer, type CST, type Document, type ErrorCode, isMap, isPair, isScalar, isSeq, Lexer, LineCounter, Parser } from "yaml";

/**
 * One YAML parser for every file kubedriver reads (config, tokens, kubeconfig),
 * built so that a hostile file costs linear time and leaks nothing:
 *
 * - the yaml library's own unique-key check compares each key with every
 *   earlier one (400,000 keys never finish); it is off, and duplicates are found
 *   here with one Set per mapping;
 * - aliases are bounded (`maxAliases`), so a "billion laughs" file stays small;
 * - problems are reported by line, column and a fixed description of their
 *   kind, never with the library's message, which quotes the file (a bearer
 *   token once reached the log that way).
 */
export interface YamlOptions {
  /** YAML 1.1 merge keys (`<<: *base`), which client-node's kubeconfig loader honours. */
  merge?: boolean;
}

export type YamlResult = { ok: true; value: unknown } | { ok: false; problems: string[] };

/** How many alias expansions a document may have (the yaml library's own default, made explicit). */
export const maxAliases = 100;
/** A broken file can hold thousands of errors; the first few locate the problem. */
const maxProblems = 20;
/**
 * How deep collections may nest. Configs, tokens files and kubeconfigs nest a
 * dozen levels; 60,000 `[` compose recursively for hundreds of milliseconds.
 */
export const maxDepth = 100;
/**
 * How many lexical tokens (keys, values, indicators, line breaks) a document
 * may have. Parsing costs about as much per token as it does per byte of a long
 * value, so this, not the byte bound, keeps a file of nothing but keys within a
 * second: a config of 400 accounts takes about 35,000, a kubeconfig of 100
 * clusters about 10,000.
 */
export const maxLexemes = 100_000;
/** Bytes lexed between turns of the event loop in `parseYamlAsync`. */
const sliceBytes = 1024;
/** Mapping entries checked between turns of the event loop in `parseYamlAsync`. */
const sliceEntries = 500;

/** Parses `text` at once: for start-up, where nothing else waits. */
export function parseYaml(text: string, opts: YamlOptions = {}): YamlResult {
  const steps = parseSteps(text, opts);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * Parses `text` in slices, giving the event loop a turn between them: for
 * runtime reloads, where calls are being served. Composing the document and
 * converting it to plain values are single steps, which the callers' size
 * bounds keep short.
 */
export async function parseYamlAsync(text: string, opts: YamlOptions = {}): Promise<YamlResult> {
  const steps = parseSteps(text, opts);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await nextTurn();
  }
}

function* parseSteps(text: string, opts: YamlOptions): Generator<void, YamlResult> {
  const lines = new LineCounter();
  const at = (offset: number) => {
    const { line, col } = lines.linePos(offset);
    return `YAML line ${line}, column ${col}`;
  };
  // Parser.parse, lexeme by lexeme, so that nesting is checked as it grows.
  const lexer = new Lexer();
  const parser = new Parser(lines.addNewLine);
  const tokens: CST.Token[] = [];
  lines.addNewLine(0);
  let lexemes = 0;
  for (let offset = 0; offset < text.length; offset += sliceBytes) {
    const end = offset + sliceBytes;
    for (const lexeme of lexer.lex(text.slice(offset, end), end < text.length)) {
      tokens.push(...parser.next(lexeme));
      if (parser.stack.length > maxDepth) return { ok: false, problems: [`${at(parser.offset)}: collections nested more than ${maxDepth} deep`] };
      if (++lexemes > maxLexemes) return { ok: false, problems: [`${at(parser.offset)}: more than ${maxLexemes} tokens (keys, values, punctuation)`] };
    }
    yield;
  }
  tokens.push(...parser.end());

  const composer = new Composer({ uniqueKeys: false, stringKeys: true, merge: opts.merge ?? false });
  const docs = [...composer.compose(tokens, true, text.length)];
  yield;
  const doc = docs[0]!;
  // The library can report one mistake twice at one place; once is enough.
  const problems = [...new Set(doc.errors.map((e) => `${at(e.pos[0])}: ${describeCode(e.code)}`))];
  if (docs.length > 1) problems.push(`${at(docs[1]!.range[0])}: ${describeCode("MULTIPLE_DOCS")}`);
  if (problems.length === 0) {
    const duplicates: number[] = [];
    yield* duplicateKeys(doc, opts, (offset) => duplicates.push(offset));
    for (const offset of duplicates.sort((a, b) => a - b)) problems.push(`${at(offset)}: ${describeCode("DUPLICATE_KEY")}`);
  }
  if (problems.length > 0) return { ok: false, problems: capped(problems) };

  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: maxAliases }) };
  } catch (err) {
    // toJS throws only for aliases: too many expansions, or one it cannot resolve.
    const excessive = err instanceof Error && err.message.startsWith("Excessive alias count");
    return { ok: false, problems: [excessive ? `YAML: aliases expand to more than ${maxAliases} copies` : "YAML: an alias cannot be resolved"] };
  }
}

/** Reports every key seen before in the same mapping; iterative, so deep nesting cannot overflow the stack. */
function* duplicateKeys(doc: Document.Parsed, opts: YamlOptions, report: (offset: number) => void): Generator<void, void> {
  const pending: unknown[] = [doc.contents];
  let checked = 0;
  while (pending.length > 0) {
    const node = pending.pop();
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        if (isScalar(pair.key)) {
          const key = String(pair.key.value);
          if (!(opts.merge && key === "<<")) {
            if (seen.has(key)) report(pair.key.range?.[0] ?? 0);
            seen.add(key);
          }
        }
        pending.push(pair.value);
        if (++checked % sliceEntries === 0) yield;
      }
    } else if (isSeq(node)) {
      for (const item of node.items) pending.push(isPair(item) ? item.value : item);
    }
  }
}

function capped(problems: string[]): string[] {
  if (problems.length <= maxProblems) return problems;
  return [...problems.slice(0, maxProblems), `YAML: ${problems.length - maxProblems} more problems`];
}

const descriptions: Record<ErrorCode, string> = {
  ALIAS_PROPS: "an alias cannot have an anchor or a tag",
  BAD_ALIAS: "a malformed alias or anchor",
  BAD_COLLECTION_TYPE: "a collection of the wrong type for its tag",
  BAD_DIRECTIVE: "a malformed directive",
  BAD_DQ_ESCAPE: "an invalid escape in a double-quoted string",
  BAD_INDENT: "bad indentation",
  BAD_PROP_ORDER: "an anchor or tag in the wrong place",
  BAD_SCALAR_START: "a plain value cannot start with this character",
  BLOCK_AS_IMPLICIT_KEY: "a block collection cannot be an implicit key",
  BLOCK_IN_FLOW: "a block collection inside a flow collection",
  DUPLICATE_KEY: "a key repeated in the same mapping",
  IMPOSSIBLE: "content the parser cannot handle",
  KEY_OVER_1024_CHARS: "an implicit key longer than 1024 characters",
  MISSING_CHAR: "a missing character (an unclosed quote or bracket, or a missing colon)",
  MULTILINE_IMPLICIT_KEY: "an implicit key spanning lines",
  MULTIPLE_ANCHORS: "more than one anchor on a node",
  MULTIPLE_DOCS: "more than one document",
  MULTIPLE_TAGS: "more than one tag on a node",
  NON_STRING_KEY: "a key that is not a plain value",
  RESOURCE_EXHAUSTION: "nested too deeply",
  TAB_AS_INDENT: "a tab used as indentation",
  TAG_RESOLVE_FAILED: "a value that does not match its tag",
  UNEXPECTED_TOKEN: "unexpected content",
};

function describeCode(code: ErrorCode): string {
  return descriptions[code] ?? "invalid YAML";
}
