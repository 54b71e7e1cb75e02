// JSON text as the protocol and the manifest take it (docs/protocol.md, "Frames"): UTF-8 without a
// byte order mark, and no member named twice in one object, so that no two readers can take
// the same bytes to mean two things.

// ignoreBOM: a byte order mark stays in the text, so that it is refused (below), not dropped.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A short, single-line reason from a JSON.parse failure (its message may quote the input). */
function jsonReason(err: unknown): string {
  if (err instanceof TypeError) return "not valid UTF-8";
  const text = String((err as Error)?.message ?? err).replace(/[\u0000-\u001f\u007f-\u009f]/g, " ");
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Member names in JSON text that JSON.parse accepted: the strings followed (after optional
 * whitespace) by a colon. It jumps from quote to quote, so it costs about one indexOf per string.
 */
function memberNamesInText(text: string): number {
  let n = 0;
  let at = text.indexOf('"');
  while (at !== -1) {
    // The closing quote: the next one that an even number of backslashes precede.
    let end = text.indexOf('"', at + 1);
    for (;;) {
      let slashes = 0;
      while (text.charCodeAt(end - 1 - slashes) === 0x5c) slashes++;
      if (slashes % 2 === 0) break;
      end = text.indexOf('"', end + 1);
    }
    let next = end + 1;
    let c = text.charCodeAt(next);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++next);
    if (c === 0x3a) n++;
    at = text.indexOf('"', next);
  }
  return n;
}

/** Members of a parsed JSON value, nested ones included. */
function membersInValue(value: unknown): number {
  if (value === null || typeof value !== "object") return 0;
  let n = 0;
  if (Array.isArray(value)) {
    for (const v of value) if (v !== null && typeof v === "object") n += membersInValue(v);
    return n;
  }
  for (const k in value) {
    if (!Object.hasOwn(value, k)) continue;
    n++;
    const v = (value as Record<string, unknown>)[k];
    if (v !== null && typeof v === "object") n += membersInValue(v);
  }
  return n;
}

/** Every colon in the text, inside strings or not. */
function colonsIn(text: string): number {
  let n = 0;
  for (let i = text.indexOf(":"); i !== -1; i = text.indexOf(":", i + 1)) n++;
  return n;
}

/**
 * Why a JSON frame's text is refused although JSON.parse took it (docs/protocol.md, "Frames"):
 * a member name twice in one object. JSON.parse keeps the last value silently, where another
 * reader might keep the first, so the stream would mean two things. Undefined when none.
 */
function duplicateProblem(text: string, meta: unknown): string | undefined {
  const parsed = membersInValue(meta);
  // Each member name is followed by a colon, so when the text has no more colons than the
  // parsed value has members, no name came twice (the usual case: only then is the text scanned).
  if (colonsIn(text) <= parsed) return undefined;
  // Fewer members parsed than named in the text: some name came twice in one object.
  return memberNamesInText(text) !== parsed ? "an object names the same member twice" : undefined;
}

/**
 * Parses JSON bytes strictly: the value, or a short one-line reason it is refused (not valid
 * UTF-8, a byte order mark, bad JSON, a member named twice).
 */
export function parseStrictJson(bytes: Uint8Array): { value?: unknown; problem?: string } {
  try {
    const text = utf8.decode(bytes);
    // A byte order mark first: JSON.parse would refuse it too, but say why.
    if (text.charCodeAt(0) === 0xfeff) return { problem: "it begins with a byte order mark" };
    const value: unknown = JSON.parse(text);
    const problem = duplicateProblem(text, value);
    return problem === undefined ? { value } : { problem };
  } catch (err) {
    return { problem: jsonReason(err) };
  }
}
