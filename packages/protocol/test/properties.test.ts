// Property tests: whatever bytes arrive, the decoder either yields a stream that was really
// written (round trip) or throws a CairnError, and it never yields END for damaged input.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CairnError } from "@cairn/errors";
import { PassThrough } from "node:stream";
import { FrameType, encodeFrames, writeFrames, type Frame } from "@cairn/protocol";
import { collect, decodeAll } from "./helpers.js";

const meta = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }) as fc.Arbitrary<Record<string, unknown>>;
const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });

const middleFrame: fc.Arbitrary<Frame> = fc.oneof(
  meta.map((m) => ({ type: FrameType.ENTRY, meta: m })),
  bytes(0, 300).map((d) => ({ type: FrameType.DATA, data: d })),
  meta.map((m) => ({ type: FrameType.ENTRY_END, meta: m })),
  bytes(32, 200).map((d) => ({ type: FrameType.CHUNK, data: d })),
  bytes(36, 36).map((d) => ({ type: FrameType.CHUNK_REF, data: d })),
  fc.tuple(fc.integer({ min: 1, max: 5 }), bytes(32, 200)).map(([k, d]) => ({ type: FrameType.SEALED, data: Uint8Array.of(k, ...d) })),
  fc.tuple(fc.integer({ min: 1, max: 5 }), bytes(32, 32)).map(([k, d]) => ({ type: FrameType.SEALED_REF, data: Uint8Array.of(k, ...d) })),
  meta.map((m) => ({ type: FrameType.SEAL_INFO, meta: m })),
  meta.map((m) => ({ type: FrameType.COMMIT, meta: m })),
);

/** A valid frame sequence: START, some frames, END. */
const stream = fc
  .tuple(fc.constantFrom("plain", "chunked", "sealed"), meta, fc.array(middleFrame, { maxLength: 12 }), meta)
  .map(([kind, startMeta, middle, endMeta]): Frame[] => [
    { type: FrameType.START, meta: { ...startMeta, stream: kind } },
    ...middle,
    { type: FrameType.END, meta: endMeta },
  ]);

const json = (v: unknown) => JSON.parse(JSON.stringify(v));
const comparable = (frames: Frame[]) => frames.map((f) => (f.meta ? { type: f.type, meta: json(f.meta) } : { type: f.type, data: Buffer.from(f.data!).toString("hex") }));

function expectRejected(result: Awaited<ReturnType<typeof decodeAll>>): void {
  expect(result.other).toBeUndefined();
  expect(result.error).toBeInstanceOf(CairnError);
  expect(result.frames.some((f) => f.type === FrameType.END)).toBe(false);
}

describe("stream protocol properties", () => {
  it("random valid frame sequences round-trip, however the bytes are split", async () => {
    await fc.assert(
      fc.asyncProperty(stream, fc.integer({ min: 1, max: 64 }), async (frames, piece) => {
        const got = await decodeAll(await collect(encodeFrames(frames)), piece);
        expect(got.error).toBeUndefined();
        expect(got.frames.length).toBe(frames.length);
        expect(comparable(got.frames.slice(0, -1))).toEqual(comparable(frames.slice(0, -1)));
        // END keeps the stage's fields; the encoder sets frames, bytes and digest.
        const { frames: count, bytes: _b, digest, ...rest } = got.frames[got.frames.length - 1].meta!;
        const { frames: _f2, bytes: _b2, digest: _d2, ...wantRest } = json(frames[frames.length - 1].meta);
        expect(rest).toEqual(wantRest);
        expect(count).toBe(frames.length - 1);
        expect(digest).toMatch(/^[0-9a-f]{64}$/);
      }),
      { numRuns: 150 },
    );
  });

  it("any single corrupted byte is rejected with a CairnError and never yields END", async () => {
    await fc.assert(
      fc.asyncProperty(stream, fc.nat(), fc.integer({ min: 1, max: 255 }), async (frames, where, xor) => {
        const bytes = Uint8Array.from(await collect(encodeFrames(frames)));
        bytes[where % bytes.length] ^= xor;
        expectRejected(await decodeAll(bytes, 13));
      }),
      { numRuns: 300 },
    );
  });

  it("any truncation is rejected with a CairnError and never yields END", async () => {
    await fc.assert(
      fc.asyncProperty(stream, fc.nat(), async (frames, cut) => {
        const bytes = await collect(encodeFrames(frames));
        expectRejected(await decodeAll(bytes.subarray(0, cut % bytes.length), 11));
      }),
      { numRuns: 300 },
    );
  });

  it("random garbage, alone or after a valid start, is rejected with a CairnError and never yields END", async () => {
    const header = (await collect(encodeFrames([{ type: FrameType.START, meta: { stream: "plain" } }]))).subarray(0, 9);
    const started = await collect(encodeFrames([{ type: FrameType.START, meta: { stream: "plain" } }]));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(new Uint8Array(0), header, started), bytes(0, 2000), async (prefix, garbage) => {
        expectRejected(await decodeAll(Buffer.concat([prefix, garbage]), 97));
      }),
      { numRuns: 400 },
    );
  });

  it("a stream's middle spliced onto another stream's start is rejected", async () => {
    await fc.assert(
      fc.asyncProperty(stream, stream, async (a, b) => {
        const x = await collect(encodeFrames(a));
        const y = await collect(encodeFrames(b));
        // x's header and START, then y's frames after its START (END included).
        const spliced = Buffer.concat([x.subarray(0, frameStarts(x)[1]), y.subarray(frameStarts(y)[1])]);
        if (spliced.equals(y)) return; // the two STARTs were identical: that is y itself
        expectRejected(await decodeAll(spliced));
      }),
      { numRuns: 100 },
    );
  });
});

describe("writeFrames properties", () => {
  it("a stage that throws at any point never lets END out, and the next stage sees its ERROR", async () => {
    await fc.assert(
      fc.asyncProperty(stream, fc.nat(), async (frames, at) => {
        const failAt = at % (frames.length + 1); // frames.length: after END was yielded
        async function* stage() {
          for (let i = 0; i < frames.length; i++) {
            if (i === failAt) throw new CairnError("io", "disk on fire");
            yield frames[i];
          }
          if (failAt === frames.length) throw new CairnError("io", "disk on fire");
        }
        const out = new PassThrough();
        const written = collect(out);
        const thrown = await writeFrames("stage", stage(), out).then(() => undefined, (e) => e);
        out.end();
        expect(thrown).toBeInstanceOf(CairnError);
        const got = await decodeAll(await written, 7);
        expect(got.other).toBeUndefined();
        expect(got.error?.message).toBe("stage failed: disk on fire");
        expect(got.frames.some((f) => f.type === FrameType.END)).toBe(false);
        expect(got.frames.length).toBe(Math.min(failAt, frames.length - 1));
      }),
      { numRuns: 100 },
    );
  });
});

/** Offsets of each frame in an encoded stream. */
function frameStarts(bytes: Buffer): number[] {
  const starts: number[] = [];
  for (let at = 9; at < bytes.length; at += 9 + bytes.readUInt32BE(at + 1)) starts.push(at);
  return starts;
}
