// What an entry path may be: relative, "/"-separated, no "", "." or ".." component, no NUL.
// snapshot only writes such paths; snapshot -x refuses anything else, so no entry can name a
// place outside the directory it restores into.

/** Why a raw entry path is unsafe, or undefined when it is fine. */
export function unsafePathReason(raw: Uint8Array): string | undefined {
  if (raw.length === 0) return "it is empty";
  if (raw[0] === 0x2f) return "it is absolute";
  if (raw.includes(0)) return "it contains a NUL byte";
  let start = 0;
  for (let i = 0; i <= raw.length; i++) {
    if (i === raw.length || raw[i] === 0x2f) {
      const len = i - start;
      if (len === 0) return "it has an empty component";
      if (len === 1 && raw[start] === 0x2e) return 'it has a "." component';
      if (len === 2 && raw[start] === 0x2e && raw[start + 1] === 0x2e) return 'it has a ".." component';
      start = i + 1;
    }
  }
  return undefined;
}

/** The "/"-separated components of a path already checked by unsafePathReason. */
export function components(raw: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= raw.length; i++) {
    if (i === raw.length || raw[i] === 0x2f) {
      out.push(raw.subarray(start, i));
      start = i + 1;
    }
  }
  return out;
}
