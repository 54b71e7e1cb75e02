// Writes the protocol v1 test vectors in this folder (README.md lists them).
// Run: npx tsc -b packages/protocol && node_modules/.bin/node packages/protocol/test/vectors/generate.ts
// (plain-one-file.hex keeps the byte offsets it had when its mode was 0o100644, so gname is
// "backups": seven characters for the two that mode 0o644 saves.)
// The valid vectors are what the encoder produces for the frames in vectors.json; the invalid
// ones are valid streams with one precise defect, CRCs recomputed where the defect is not the CRC.
import { createHash, createHmac } from "node:crypto";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { crc32 } from "node:zlib";
import { FrameEncoder, FrameType, frameTypeName, type Frame } from "@cairn/protocol";

const here = dirname(fileURLToPath(import.meta.url));
const text = (s: string) => new TextEncoder().encode(s);
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** One frame's bytes with a correct CRC (for hand-made frames the encoder would refuse). */
function rawFrame(type: number, payload: Uint8Array, lengthOverride?: number): Uint8Array {
  const out = new Uint8Array(9 + payload.length);
  out[0] = type;
  new DataView(out.buffer).setUint32(1, lengthOverride ?? payload.length);
  out.set(payload, 5);
  new DataView(out.buffer).setUint32(5 + payload.length, crc32(out.subarray(5, 5 + payload.length), crc32(out.subarray(0, 5))));
  return out;
}

/** The encoder's output, one piece (header or frame) per element. */
function encode(frames: Frame[]): Uint8Array[] {
  const enc = new FrameEncoder();
  const pieces: Uint8Array[] = [];
  for (const f of frames) {
    const parts = enc.encode(f);
    const hasHeader = parts.length > 1 && parts[0].length === 9 && parts[0][0] === 0x89;
    if (hasHeader) pieces.push(parts.shift()!);
    pieces.push(Buffer.concat(parts));
  }
  return pieces;
}

/** A piece as a readable hex line: a frame is split into type, length, payload and CRC. */
function line(piece: Uint8Array): string {
  if (piece[0] === 0x89 && piece.length === 9) return `${hex(piece.subarray(0, 8))} ${hex(piece.subarray(8))}`;
  if (piece.length < 9) return hex(piece);
  const len = new DataView(piece.buffer, piece.byteOffset).getUint32(1);
  if (len + 9 !== piece.length) return hex(piece);
  const parts = [hex(piece.subarray(0, 1)), hex(piece.subarray(1, 5)), hex(piece.subarray(5, 5 + len)), hex(piece.subarray(5 + len))];
  return parts.filter((p) => p.length).join(" ");
}

function describe(frames: Frame[]): unknown[] {
  return frames.map((f) => (f.meta ? { type: frameTypeName(f.type), meta: f.meta } : { type: frameTypeName(f.type), hex: hex(f.data!) }));
}

interface Vector {
  file: string;
  title: string;
  valid: boolean;
  frames?: unknown[];
  error?: { kind: string; message: string };
}
const vectors: Vector[] = [];

function write(file: string, title: string, pieces: Uint8Array[], extra: Omit<Vector, "file" | "title">): void {
  const comment = `# ${title}\n`;
  writeFileSync(join(here, file), comment + pieces.map(line).join("\n") + (pieces.length ? "\n" : ""));
  vectors.push({ file, title, ...extra });
}

const start: Frame = {
  type: FrameType.START,
  meta: { stream: "plain", host: "example", time: "2026-11-27T10:00:00.000Z", label: "/srv/data", tags: ["nightly"] },
};
const end: Frame = { type: FrameType.END, meta: { entries: 0, partial: 0, unverified: false } };

// --- valid streams
const minimal = [start, end];
const minimalPieces = encode(minimal);
const minimalDecoded = [start, { type: FrameType.END, meta: decodeEnd(minimalPieces) }];
write("minimal.hex", "the smallest valid stream: START and END of an empty plain snapshot", minimalPieces, { valid: true, frames: describe(minimalDecoded) });

const content = text("hello, cairn\n");
const plain: Frame[] = [
  start,
  {
    type: FrameType.ENTRY,
    meta: { kind: "file", path: "srv/data/hello.txt", mode: 0o644, uid: 1000, gid: 1000, uname: "alice", gname: "backups", mtime: "1795773600123456000" },
  },
  { type: FrameType.DATA, data: content },
  { type: FrameType.ENTRY_END, meta: { size: content.length, sha256: createHash("sha256").update(content).digest("hex") } },
  { type: FrameType.END, meta: { entries: 1, partial: 0, unverified: false } },
];
const plainPieces = encode(plain);
write("plain-one-file.hex", "a plain stream holding one 13-byte file", plainPieces, {
  valid: true,
  frames: describe([...plain.slice(0, -1), { type: FrameType.END, meta: decodeEnd(plainPieces) }]),
});

// A chunked stream: one file of two identical 8-byte chunks; id = HMAC-SHA256(key 32×0x00, chunk).
const chunk = text("cairn!\n\n");
const id = createHmac("sha256", new Uint8Array(32)).update(chunk).digest();
const ref = new Uint8Array(36);
ref.set(id);
new DataView(ref.buffer).setUint32(32, chunk.length);
const file16 = Buffer.concat([chunk, chunk]);
const chunked: Frame[] = [
  {
    type: FrameType.START,
    meta: {
      stream: "chunked", host: "example", time: "2026-11-27T10:00:00.000Z", label: "/srv/data", tags: [],
      chunker: { algorithm: "fastcdc-gear32-v1", min: 524288, avg: 1048576, max: 8388608 }, refWindow: 67108864,
    },
  },
  { type: FrameType.ENTRY, meta: { kind: "file", path: "twice.txt", mode: 0o600, mtime: "1795773600000000000" } },
  { type: FrameType.CHUNK, data: Buffer.concat([id, chunk]) },
  { type: FrameType.CHUNK_REF, data: ref },
  { type: FrameType.ENTRY_END, meta: { size: 16, sha256: createHash("sha256").update(file16).digest("hex") } },
  { type: FrameType.END, meta: { entries: 1, partial: 0, unverified: false, chunks: 1, refs: 1, plainBytes: 16 } },
];
const chunkedPieces = encode(chunked);
write("chunked-ref.hex", "a chunked stream: one file of the same 8-byte chunk twice, the second time as CHUNK_REF", chunkedPieces, {
  valid: true,
  frames: describe([...chunked.slice(0, -1), { type: FrameType.END, meta: decodeEnd(chunkedPieces) }]),
});

// A sealed stream at the framing level: the layout of SEALED and SEALED_REF frames, in the
// order seal writes them. Objects of kinds 1-3 are placeholders, not age files (docs/sealing.md
// specifies those); the refs block and refs root are real, their ids SHA-256 of their bytes,
// and the refs block holds the refs set docs/sealing.md defines: every data chunk id (the one
// carried and the one sent as SEALED_REF), the manifest chunk id and the manifest root id.
const placeholder = (kind: number, label: string) => {
  const body = text(`placeholder ${label}`);
  const oid = createHmac("sha256", new Uint8Array(32)).update(body).digest();
  return { oid, frame: { type: FrameType.SEALED, data: Buffer.concat([Uint8Array.of(kind), oid, body]) } as Frame };
};
const manifestChunk = placeholder(2, "manifest chunk");
const dataChunk = placeholder(1, "data chunk");
const knownId = createHmac("sha256", new Uint8Array(32)).update("known").digest();
const manifestRoot = placeholder(3, "manifest root");
const refsBlock = Buffer.concat([dataChunk.oid, knownId, manifestChunk.oid, manifestRoot.oid].sort(Buffer.compare));
const refsBlockId = createHash("sha256").update(refsBlock).digest();
const refsRootId = createHash("sha256").update(refsBlockId).digest();
const sealedStart = { stream: "sealed", host: "example", time: "2026-11-27T10:00:00.000Z", label: "/srv/data", tags: [], keyset: "ab".repeat(32), writer: "cd".repeat(32) };
const sealed: Frame[] = [
  { type: FrameType.START, meta: sealedStart },
  manifestChunk.frame,
  dataChunk.frame,
  { type: FrameType.SEALED_REF, data: Buffer.concat([Uint8Array.of(1), knownId]) },
  manifestRoot.frame,
  { type: FrameType.SEALED, data: Buffer.concat([Uint8Array.of(4), refsBlockId, refsBlock]) },
  { type: FrameType.SEALED, data: Buffer.concat([Uint8Array.of(5), refsRootId, refsBlockId]) },
  {
    type: FrameType.COMMIT,
    meta: { v: 1, time: sealedStart.time, host: "example", label: "/srv/data", tags: [], writer: sealedStart.writer, keyset: sealedStart.keyset, manifest: hex(manifestRoot.oid), refs: hex(refsRootId), stats: {}, sig: "placeholder" },
  },
  { type: FrameType.END, meta: { entries: 1, partial: 0, unverified: false } },
];
const sealedPieces = encode(sealed);
write("sealed-framing.hex", "a sealed stream's framing: every object kind, a SEALED_REF and COMMIT (kinds 1-3 hold placeholders, not age files)", sealedPieces, {
  valid: true,
  frames: describe([...sealed.slice(0, -1), { type: FrameType.END, meta: decodeEnd(sealedPieces) }]),
});

// --- a stream that carries an upstream failure
const errorMeta = { tool: "cairn-snapshot", kind: "command", message: "pg_dump exited with status 1" };
const failed: Frame[] = [start, plain[1], { type: FrameType.DATA, data: text("-- partial dump\n") }, { type: FrameType.ERROR, meta: errorMeta }];
write("error-frame.hex", "a plain stream cut short by an ERROR frame from snapshot --from-command", encode(failed), {
  valid: false,
  frames: describe(failed.slice(0, 3)),
  error: { kind: "upstream", message: "cairn-snapshot failed: pg_dump exited with status 1" },
});

// --- invalid streams, each with one defect
const [header, startBytes, endBytes] = minimalPieces;
const bad = (file: string, title: string, pieces: Uint8Array[], kind: string, message: string, frames: Frame[] = []) =>
  write(file, title, pieces, { valid: false, frames: describe(frames), error: { kind, message } });

bad("empty.hex", "no bytes at all", [], "stream", "empty input: expected a cairn stream");
bad("bad-magic.hex", "a gzip file, not a cairn stream", [Uint8Array.of(0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03)], "stream",
  "not a cairn stream: it begins with 1f8b080000000000, not the magic 89636169726e0d0a");
bad("truncated-header.hex", "the magic and no version byte", [header.subarray(0, 8)], "stream", "truncated stream header: 8 of 9 bytes");
bad("version-2.hex", "a version 2 stream (unknown to a v1 decoder)", [Uint8Array.of(...header.subarray(0, 8), 2), startBytes, endBytes], "version",
  "cairn stream version 2 is not supported (this build reads version 1)");
bad("unknown-type.hex", "a frame of type 0x05 after START", [header, startBytes, rawFrame(0x05, text("?")), endBytes], "stream",
  "unknown frame type 0x05 in frame #2 at byte ", [start]);
bad("truncated-frame.hex", "the END frame cut 3 bytes short", [header, startBytes, endBytes.subarray(0, endBytes.length - 3)], "stream",
  "truncated frame #2 (END) at byte ", [start]);
bad("oversized-length.hex", "a DATA frame declaring 32 MiB + 1 bytes", [header, startBytes, rawFrame(FrameType.DATA, new Uint8Array(0), 32 * 1024 * 1024 + 1).subarray(0, 5)],
  "stream", "declares 33554433 bytes, more than the maximum 33554432", [start]);
const jsonBad = rawFrame(FrameType.START, text('{"stream":"plain",'));
bad("bad-json.hex", "a START frame whose JSON is cut off (its CRC is correct)", [header, jsonBad], "stream", "frame #1 (START) at byte 9 holds bad JSON");
const flipped = Uint8Array.from(plainPieces[3]);
flipped[5] ^= 0x20;
bad("crc-mismatch.hex", "one payload bit of the DATA frame flipped", [plainPieces[0], plainPieces[1], plainPieces[2], flipped, ...plainPieces.slice(4)], "stream",
  "frame #3 (DATA) at byte ", plain.slice(0, 2));
bad("no-end.hex", "START, then EOF: the stage before stopped early", [header, startBytes], "stream", "stream ended without an END frame after 1 frame (did", [start]);
bad("data-after-end.hex", "a valid stream followed by one more byte", [header, startBytes, endBytes, Uint8Array.of(0)], "stream", "unexpected data after the END frame", [start]);
// The BOM and duplicate-member vectors carry a correct END for their START, so that their one
// defect is the JSON: a decoder that let it through would yield START and END.
const startJson = JSON.stringify(start.meta);
const bomStart = rawFrame(FrameType.START, Buffer.concat([Uint8Array.of(0xef, 0xbb, 0xbf), text(startJson)]));
bad("bom.hex", "a START frame whose JSON begins with a byte order mark (EF BB BF; CRC and END are correct)",
  [header, bomStart, endFor(header, [bomStart])], "stream", "frame #1 (START) at byte 9 holds bad JSON: it begins with a byte order mark");
const dupStart = rawFrame(FrameType.START, text(`{"stream":"plain","stream":"sealed",${startJson.slice(startJson.indexOf('"host"'))}`));
bad("duplicate-member.hex", "a START frame that names the member stream twice (CRC and END are correct)",
  [header, dupStart, endFor(header, [dupStart])], "stream", "frame #1 (START) at byte 9 holds bad JSON: an object names the same member twice");
bad("not-start-first.hex", "an ENTRY frame where START must be", [header, encode([start, plain[1]])[2]], "stream", "frame #1 at byte 9 is ENTRY; a stream must begin with START");
bad("unknown-stream-kind.hex", "a START whose stream kind no tool knows", [header, rawFrame(FrameType.START, text('{"stream":"compressed"}'))], "stream",
  "START at byte 9 names no known stream kind");
bad("second-start.hex", "START twice", [header, startBytes, startBytes, endBytes], "stream", "frame #2 at byte ", [start]);
const endMeta = decodeEnd(minimalPieces);
bad("end-count-mismatch.hex", "END claims 2 frames where 1 came (its CRC is correct)",
  [header, startBytes, rawFrame(FrameType.END, text(JSON.stringify({ ...endMeta, frames: 2 })))], "stream", "END frame at byte ", [start]);
bad("end-digest-mismatch.hex", "END carries a wrong digest (its CRC is correct)",
  [header, startBytes, rawFrame(FrameType.END, text(JSON.stringify({ ...endMeta, digest: "00".repeat(32) })))], "stream", "stream digest mismatch", [start]);
bad("short-chunk-ref.hex", "a CHUNK_REF frame of 35 bytes instead of 36", [chunkedPieces[0], chunkedPieces[1], chunkedPieces[2], chunkedPieces[3], rawFrame(FrameType.CHUNK_REF, ref.subarray(0, 35))],
  "stream", "frame #4 (CHUNK_REF) at byte ", chunked.slice(0, 3));

writeFileSync(join(here, "vectors.json"), JSON.stringify(vectors, null, 2) + "\n");

/** An END frame that counts and digests the given whole frames after the header (docs/protocol.md, section 3). */
function endFor(header: Uint8Array, frames: Uint8Array[]): Uint8Array {
  const digest = createHash("sha256").update(header);
  let bytes = 0;
  for (const f of frames) {
    digest.update(f.subarray(0, 5)).update(f.subarray(f.length - 4));
    bytes += f.length - 9;
  }
  return rawFrame(FrameType.END, text(JSON.stringify({ entries: 0, partial: 0, unverified: false, frames: frames.length, bytes, digest: digest.digest("hex") })));
}

/** The END meta the encoder produced in these pieces. */
function decodeEnd(pieces: Uint8Array[]): Record<string, unknown> {
  const last = pieces[pieces.length - 1];
  return JSON.parse(Buffer.from(last.subarray(5, last.length - 4)).toString("utf8"));
}
