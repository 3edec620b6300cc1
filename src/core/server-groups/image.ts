import { quoted } from "../../common/quoted.js";

const component = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const tagPattern = /^[\w][\w.-]{0,127}$/;
const digestPattern = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;

/** Docker's limit on `[registry/]repository`. */
const maxNameLength = 255;

/**
 * Validates `[registry/]repository[:tag|@digest]` and normalises it: without
 * a tag or digest, `:latest`. The first path part is a registry only if it
 * contains `.` or `:` or is `localhost`, as docker decides.
 * Returns the normalised reference, or the reason it is invalid.
 */
export function normaliseImage(image: string): { image: string } | { problem: string } {
  if (image.trim() === "") return { problem: "is required" };
  if (image !== image.trim() || /\s/.test(image)) return { problem: `${quoted(image)} must not contain white space` };
  let rest = image;
  let digest = "";
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!digestPattern.test(digest)) return { problem: `${quoted(image)} has an invalid digest ${quoted(digest)}` };
  }
  let tag = "";
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!tagPattern.test(tag)) return { problem: `${quoted(image)} has an invalid tag ${quoted(tag)}` };
  }
  const parts = rest.split("/");
  const first = parts[0]!;
  const hasRegistry = parts.length > 1 && (first.includes(".") || first.includes(":") || first === "localhost");
  const repository = hasRegistry ? parts.slice(1) : parts;
  if (hasRegistry && !/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(first)) return { problem: `${quoted(image)} has an invalid registry ${quoted(first)}` };
  if (rest.length > maxNameLength) return { problem: `${quoted(image)}: the name before the tag must be at most ${maxNameLength} characters, got ${rest.length}` };
  if (repository.length === 0 || repository.some((p) => !component.test(p))) {
    return { problem: `${quoted(image)} is not a valid image reference: the repository must be lower-case letters, digits and separators` };
  }
  const suffix = digest ? (tag ? `:${tag}@${digest}` : `@${digest}`) : `:${tag || "latest"}`;
  return { image: `${rest}${suffix}` };
}
