import type { ResponseContext } from "@kubernetes/client-node";

/**
 * A 2xx answer that is not what a Kubernetes API server sends (an HTML page
 * from a proxy or load balancer, truncated or non-object JSON). client-node
 * would turn an HTML page into an empty object and report success, and
 * truncated JSON into a SyntaxError that looks like a bug; `toCoreError`
 * turns this into UNAVAILABLE with reason INVALID_RESPONSE instead.
 */
export class InvalidResponseError extends Error {
  constructor(readonly why: string) {
    super(why);
    this.name = "InvalidResponseError";
  }
}

/**
 * Checks a successful response before client-node deserializes it: JSON that
 * parses to an object with a `kind`, as every Kubernetes API object, list and
 * Status has, or plain text (pod logs). The body is read once here and handed
 * on unchanged.
 */
export async function checkedResponse(ctx: ResponseContext): Promise<ResponseContext> {
  if (ctx.httpStatusCode < 200 || ctx.httpStatusCode > 299) return ctx;
  const type = (ctx.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type === "text/plain") return ctx;
  if (type !== "application/json" && !type.endsWith("+json")) {
    throw new InvalidResponseError(`answered HTTP ${ctx.httpStatusCode} with content type ${JSON.stringify(type || "none")} instead of JSON`);
  }
  const text = await ctx.body.text();
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new InvalidResponseError(`answered HTTP ${ctx.httpStatusCode} with a body that is not valid JSON (${text.length} characters)`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc) || typeof (doc as { kind?: unknown }).kind !== "string") {
    throw new InvalidResponseError(`answered HTTP ${ctx.httpStatusCode} with JSON that is not a Kubernetes object (no kind)`);
  }
  ctx.body = { text: () => Promise.resolve(text), binary: () => Promise.resolve(Buffer.from(text)) };
  return ctx;
}
