// Tar members that tar-stream cannot write, for names that are not valid UTF-8: tar-stream
// writes names as UTF-8 text only. For such an entry cairn writes, before tar-stream's own
// header (which then carries a placeholder name), GNU long-name members ("L" for the name, "K"
// for a link target) holding the exact bytes, and a pax "x" member with the exact mtime.
// GNU tar and tar-stream both read these; neither decodes GNU long names as UTF-8.

const BLOCK = 512;

function octal(buf: Buffer, value: number, offset: number, width: number): void {
  buf.write(value.toString(8).padStart(width - 1, "0") + "\0", offset, width, "latin1");
}

/** One member: a header block (typeflag, name, size) and the body padded to 512 bytes. */
function member(typeflag: string, name: string, body: Buffer, gnu: boolean, mtimeSeconds = 0): Buffer {
  const header = Buffer.alloc(BLOCK);
  header.write(name, 0, 100, "latin1");
  octal(header, 0o644, 100, 8);
  octal(header, 0, 108, 8);
  octal(header, 0, 116, 8);
  octal(header, body.length, 124, 12);
  octal(header, Math.max(0, Math.floor(mtimeSeconds)), 136, 12);
  header.write(typeflag, 156, 1, "latin1");
  header.write(gnu ? "ustar  \0" : "ustar\u000000", 257, 8, "latin1");
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8, "latin1");
  const pad = (BLOCK - (body.length % BLOCK)) % BLOCK;
  return Buffer.concat([header, body, Buffer.alloc(pad)]);
}

/** GNU long name ("L") or long link target ("K"): the raw bytes, NUL-terminated. */
export function gnuLongName(raw: Uint8Array, link: boolean): Buffer {
  return member(link ? "K" : "L", "././@LongLink", Buffer.concat([raw, Buffer.alloc(1)]), true);
}

/** One pax record "LEN key=value\n" (LEN counts itself). */
function record(key: string, value: string): Buffer {
  const body = Buffer.from(` ${key}=${value}\n`);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

/** A pax "x" member carrying the given (ASCII) records. */
export function paxMember(records: Record<string, string>, mtimeSeconds: number): Buffer {
  const body = Buffer.concat(Object.entries(records).map(([k, v]) => record(k, v)));
  return member("x", "PaxHeader/cairn", body, false, mtimeSeconds);
}

/** pax mtime value for nanoseconds since the epoch: "seconds.fraction". */
export function paxMtime(mtimeNs: string): string {
  const ns = BigInt(mtimeNs);
  const neg = ns < 0n;
  const abs = neg ? -ns : ns;
  return `${neg ? "-" : ""}${abs / 1_000_000_000n}.${(abs % 1_000_000_000n).toString().padStart(9, "0")}`;
}
