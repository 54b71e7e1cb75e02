// The age v1 header, as C2SP age "Header" specifies it:
//
//   age-encryption.org/v1\n
//   -> TYPE ARG…\n            (one or more stanzas)
//   BODY (base64, 64 columns per line, the last line shorter, possibly empty)\n
//   --- MAC\n                 (43 base64 characters: HMAC-SHA256, see mac.ts)
//
// Parsing is strict: every base64 string must be canonical and unpadded, every line ends
// in a bare LF, and anything the spec does not allow is a header failure.
import { CairnError } from "@cairn/errors";

export const VERSION_LINE = "age-encryption.org/v1";
const LF = 0x0a;
const BODY_COLUMNS = 64;
/** A header larger than this is not one cairn (or anyone) wrote: refuse instead of scanning on. */
const MAX_HEADER_BYTES = 1 << 20;

export interface Stanza {
  /** The arguments of the stanza's first line, the first being its type (e.g. "X25519"). */
  args: string[];
  body: Uint8Array;
}

export interface Header {
  stanzas: Stanza[];
  /** The header through "---" (no space): what the MAC covers. */
  headerNoMac: Uint8Array;
  mac: Uint8Array;
  /** The whole header, through the MAC line's LF. */
  bytes: Uint8Array;
}

export function headerError(problem: string): CairnError {
  return new CairnError("integrity", `age header: ${problem}`);
}

/** Parses the header at the start of `file`; `file` may continue with the payload. */
export function parseHeader(file: Uint8Array): Header {
  let pos = 0;
  const nextLine = (what: string): string => {
    const end = file.indexOf(LF, pos);
    if (end === -1) throw headerError(`truncated in ${what}`);
    if (end > MAX_HEADER_BYTES) throw headerError("longer than 1 MiB");
    const line = latin1(file.subarray(pos, end));
    pos = end + 1;
    return line;
  };

  if (nextLine("the version line") !== VERSION_LINE) {
    throw headerError(`not an age v1 file (the first line is not "${VERSION_LINE}")`);
  }
  const stanzas: Stanza[] = [];
  for (;;) {
    const lineStart = pos;
    const line = nextLine("a stanza");
    if (line.startsWith("---")) {
      if (stanzas.length === 0) throw headerError("no recipient stanzas");
      if (!line.startsWith("--- ")) throw headerError("the MAC line lacks its space");
      const mac = decodeBase64(line.slice(4), "the MAC");
      if (mac.length !== 32) throw headerError(`the MAC is ${mac.length} bytes, not 32`);
      return {
        stanzas,
        headerNoMac: file.subarray(0, lineStart + 3),
        mac,
        bytes: file.subarray(0, pos),
      };
    }
    if (!line.startsWith("-> ")) throw headerError("a line that is neither a stanza nor the MAC");
    const args = line.slice(3).split(" ");
    for (const arg of args) {
      if (arg.length === 0) throw headerError("an empty stanza argument");
      if (!/^[\x21-\x7e]+$/.test(arg)) throw headerError("a stanza argument with a character outside ASCII 33–126");
    }
    const bodyParts: Uint8Array[] = [];
    for (;;) {
      const bodyLine = nextLine("a stanza body");
      if (bodyLine.length > BODY_COLUMNS) throw headerError("a stanza body line longer than 64 columns");
      bodyParts.push(decodeBase64(bodyLine, "a stanza body"));
      if (bodyLine.length < BODY_COLUMNS) break;
    }
    stanzas.push({ args, body: concat(bodyParts) });
  }
}

/** Encodes stanzas as a header without its MAC line: the bytes the MAC covers, through "---". */
export function encodeHeaderNoMac(stanzas: Stanza[]): Uint8Array {
  let text = `${VERSION_LINE}\n`;
  for (const s of stanzas) {
    text += `-> ${s.args.join(" ")}\n`;
    const body = encodeBase64(s.body);
    for (let i = 0; i <= body.length; i += BODY_COLUMNS) {
      // A body whose length is a multiple of 64 columns ends with an empty line.
      text += `${body.slice(i, i + BODY_COLUMNS)}\n`;
    }
  }
  text += "---";
  return Buffer.from(text, "latin1");
}

/** The whole header: the MAC-covered part, a space, the MAC and a newline. */
export function encodeHeader(stanzas: Stanza[], mac: Uint8Array): Uint8Array {
  const noMac = encodeHeaderNoMac(stanzas);
  return concat([noMac, Buffer.from(` ${encodeBase64(mac)}\n`, "latin1")]);
}

/** Canonical unpadded standard base64, as the spec requires: anything else is refused. */
export function decodeBase64(text: string, what: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*$/.test(text) || text.length % 4 === 1) throw headerError(`${what} is not unpadded base64`);
  const bytes = Buffer.from(text, "base64");
  // Buffer's decoder ignores the unused low bits of the last character; the spec does not.
  if (encodeBase64(bytes) !== text) throw headerError(`${what} is not canonical base64`);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("base64").replace(/=+$/, "");
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("latin1");
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
