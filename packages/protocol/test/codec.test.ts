import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { CairnError } from "@cairn/errors";
import { ByteReader, FrameEncoder, FrameType, MAX_PAYLOAD, decodeFrames, decodeName, encodeFrames, encodeName, sniff, type Frame } from "@cairn/protocol";
import { chunksOf, collect, decodeAll } from "./helpers.js";

const start: Frame = { type: FrameType.START, meta: { stream: "plain" } };
const end: Frame = { type: FrameType.END, meta: {} };

function refusal(frames: Frame[]): string {
  const enc = new FrameEncoder();
  try {
    for (const f of frames) enc.encode(f);
  } catch (err) {
    expect(err).toBeInstanceOf(CairnError);
    return (err as CairnError).message;
  }
  throw new Error("the encoder accepted it");
}

describe("FrameEncoder", () => {
  it("refuses what no decoder would accept", () => {
    expect(refusal([{ type: FrameType.DATA, data: new Uint8Array(1) }])).toContain("begins with DATA, not START");
    expect(refusal([start, start])).toContain("a second START");
    expect(refusal([start, end, end])).toContain("END frame after the stream's END or ERROR");
    expect(refusal([start, { type: 0x05, data: new Uint8Array(0) }])).toContain("unknown frame type 5");
    expect(refusal([start, { type: FrameType.ENTRY } as unknown as Frame])).toContain("ENTRY frame without meta");
    expect(refusal([start, { type: FrameType.CHUNK_REF, data: new Uint8Array(32) }])).toContain("CHUNK_REF frame of 32 bytes");
    expect(refusal([start, { type: FrameType.SEALED_REF, data: new Uint8Array(33) }])).toContain("unknown object kind 0");
    expect(refusal([start, { type: FrameType.DATA, data: new Uint8Array(MAX_PAYLOAD + 1) }])).toContain("exceeds the maximum 33554432");
  });

  it("accepts a payload of exactly the maximum size, and the decoder reads it back", async () => {
    const big = new Uint8Array(MAX_PAYLOAD).fill(1);
    const bytes = await collect(encodeFrames([start, { type: FrameType.DATA, data: big }, end]));
    const got = await decodeAll(bytes, 1 << 20);
    expect(got.error).toBeUndefined();
    expect(got.frames[1].data!.length).toBe(MAX_PAYLOAD);
  });
});

describe("decodeFrames", () => {
  it("names the stage and message of an ERROR frame that opens the stream", async () => {
    const bytes = await collect(encodeFrames([{ type: FrameType.ERROR, meta: { tool: "cairn-pull", kind: "storage", message: "bucket not reachable" } }]));
    const got = await decodeAll(bytes);
    expect(got.error!.kind).toBe("upstream");
    expect(got.error!.exitCode).toBe(12);
    expect(got.error!.message).toBe("cairn-pull failed: bucket not reachable");
  });

  it("refuses a START that names no known stream kind", async () => {
    const bytes = await collect(encodeFrames([{ type: FrameType.START, meta: { stream: "zip" } }, end]));
    const got = await decodeAll(bytes);
    expect(got.error!.message).toBe('START at byte 9 names no known stream kind (stream: "zip"; expected plain, chunked or sealed)');
  });

  it("stops reading its source when the consumer stops early", async () => {
    let closed = false;
    const bytes = await collect(encodeFrames([start, { type: FrameType.DATA, data: new Uint8Array(10) }, end]));
    async function* source() {
      try {
        yield bytes.subarray(0, 40);
        yield bytes.subarray(40);
      } finally {
        closed = true;
      }
    }
    for await (const f of decodeFrames(source())) if (f.type === FrameType.START) break;
    expect(closed).toBe(true);
  });

  it("decodes a stream fed one byte at a time", async () => {
    const bytes = await collect(encodeFrames([start, { type: FrameType.DATA, data: new Uint8Array(100).fill(3) }, end]));
    const got = await decodeAll(bytes, 1);
    expect(got.error).toBeUndefined();
    expect(Buffer.from(got.frames[1].data!).equals(Buffer.alloc(100, 3))).toBe(true);
  });
});

describe("ByteReader", () => {
  it("returns short reads at the end of input and tracks its offset", async () => {
    const r = new ByteReader(chunksOf(Uint8Array.of(1, 2, 3, 4, 5), 2));
    expect([...(await r.read(3))]).toEqual([1, 2, 3]);
    expect(r.offset).toBe(3);
    expect(await r.atEnd()).toBe(false);
    expect([...(await r.read(10))]).toEqual([4, 5]);
    expect(await r.atEnd()).toBe(true);
  });
});

describe("sniff", () => {
  it("tells a cairn stream from raw bytes and loses no byte of either", async () => {
    const framed = await collect(encodeFrames([start, end]));
    const a = await sniff(chunksOf(framed, 3));
    expect(a.framed).toBe(true);
    expect(Buffer.from(await collect(a.input)).equals(Buffer.from(framed))).toBe(true);
    const raw = Buffer.from("\x89cairn not really");
    const b = await sniff(chunksOf(raw, 4));
    expect(b.framed).toBe(false);
    expect(Buffer.from(await collect(b.input)).equals(raw)).toBe(true);
    const tiny = await sniff(chunksOf(Uint8Array.of(0x89), 1));
    expect(tiny.framed).toBe(false);
    expect([...(await collect(tiny.input))]).toEqual([0x89]);
  });

  it("refuses no input at all, and a damaged magic, instead of taking them for raw bytes", async () => {
    const framed = Buffer.from(await collect(encodeFrames([start, end])));
    const refused = async (bytes: Uint8Array) => (await sniff(chunksOf(bytes, 5)).then(() => undefined, (e: CairnError) => e))?.kind;
    expect(await refused(new Uint8Array(0))).toBe("stream");
    const flipped = Buffer.from(framed);
    flipped[0] ^= 1;
    expect(await refused(flipped)).toBe("stream");
    const sevenBit = Buffer.from(framed);
    sevenBit[0] &= 0x7f;
    expect(await refused(sevenBit)).toBe("stream");
    // A text-mode channel that turned the magic's CR LF into LF.
    expect(await refused(Buffer.concat([framed.subarray(0, 6), framed.subarray(7)]))).toBe("stream");
    // Raw bytes stay raw: random data, text, and data that shares only a little of the magic.
    for (const raw of [randomBytes(4096), Buffer.from("pg_dump output\n"), Buffer.from([0x89, 0x63, 0x61, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01])]) {
      expect((await sniff(chunksOf(raw, 5))).framed).toBe(false);
    }
  });
});

describe("encodeName / decodeName", () => {
  it("keeps a name that begins with a byte order mark", () => {
    const raw = Buffer.from("\ufeffnotes.txt");
    const { text, b64 } = encodeName(raw);
    expect(b64).toBeUndefined();
    expect(decodeName(text).equals(raw)).toBe(true);
  });

  it("keeps names that are not valid UTF-8 byte for byte", () => {
    const raw = Uint8Array.of(0x61, 0xff, 0x62);
    const { text, b64 } = encodeName(raw);
    expect(b64).toBeDefined();
    expect(decodeName(text, b64)).toEqual(Buffer.from(raw));
    expect(encodeName(Buffer.from("plain.txt"))).toEqual({ text: "plain.txt" });
  });
});
