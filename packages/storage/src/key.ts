import { CairnError } from "@cairn/errors";

/** Names the folder store uses for its temporary files; no key may use it. */
export const TEMP_PREFIX = ".cairn-tmp-";

/**
 * Refuses keys that would escape the repository root or mean different things on different
 * stores: empty, absolute, "." or ".." segments, empty segments, backslashes, NUL.
 */
export function checkKey(key: string): void {
  const bad =
    key === "" ||
    key.includes("\\") ||
    key.includes("\0") ||
    key.split("/").some((s) => s === "" || s === "." || s === ".." || s.startsWith(TEMP_PREFIX));
  if (bad) throw new CairnError("refused", `invalid object key ${JSON.stringify(key)}`);
}

/** Checks a range and returns its end (exclusive). */
export function rangeEnd(range: { offset: number; length: number }): number {
  const { offset, length } = range;
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new CairnError("failed", `invalid byte range offset ${offset} length ${length}`);
  }
  return offset + length;
}
