import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FrameType, encodeFrames, type Frame } from "@cairn/protocol";
import { collect, decodeAll, parseHex } from "./helpers.js";

interface Vector {
  file: string;
  title: string;
  valid: boolean;
  frames: { type: keyof typeof FrameType; meta?: Record<string, unknown>; hex?: string }[];
  error?: { kind: string; message: string };
}

const dir = join(import.meta.dirname, "vectors");
const vectors: Vector[] = JSON.parse(readFileSync(join(dir, "vectors.json"), "utf8"));
const bytesOf = (v: Vector) => parseHex(readFileSync(join(dir, v.file), "utf8"));
const framesOf = (v: Vector): Frame[] =>
  v.frames.map((f) => (f.meta ? { type: FrameType[f.type], meta: f.meta } : { type: FrameType[f.type], data: Buffer.from(f.hex!, "hex") }));
const plainly = (frames: Frame[]) => frames.map((f) => (f.meta ? f : { type: f.type, data: Buffer.from(f.data!).toString("hex") }));

describe("protocol v1 test vectors", () => {
  it("lists every vector file in vectors.json and the README", () => {
    const readme = readFileSync(join(dir, "README.md"), "utf8");
    for (const v of vectors) expect(readme).toContain(v.file);
    expect(vectors.filter((v) => v.valid).length).toBeGreaterThanOrEqual(3);
    expect(vectors.filter((v) => !v.valid).length).toBeGreaterThanOrEqual(12);
  });

  for (const v of vectors.filter((v) => v.valid)) {
    it(`decodes ${v.file}: ${v.title}`, async () => {
      const got = await decodeAll(bytesOf(v), 7);
      expect(got.error).toBeUndefined();
      expect(plainly(got.frames)).toEqual(plainly(framesOf(v)));
    });
    it(`re-encodes the frames of ${v.file} byte for byte`, async () => {
      expect(Buffer.from(await collect(encodeFrames(framesOf(v)))).toString("hex")).toBe(Buffer.from(bytesOf(v)).toString("hex"));
    });
  }

  for (const v of vectors.filter((v) => !v.valid)) {
    it(`rejects ${v.file} (${v.title}) as ${v.error!.kind}`, async () => {
      const got = await decodeAll(bytesOf(v), 5);
      expect(got.other).toBeUndefined();
      expect(got.error?.kind).toBe(v.error!.kind);
      expect(got.error?.message).toContain(v.error!.message);
      expect(got.error?.message).not.toContain("\n");
      expect(plainly(got.frames)).toEqual(plainly(framesOf(v)));
      expect(got.frames.some((f) => f.type === FrameType.END)).toBe(false);
    });
  }

  it("minimal.hex's END digest is SHA-256 over the header and START's 9 framing bytes", () => {
    const bytes = bytesOf(vectors.find((v) => v.file === "minimal.hex")!);
    const startLength = bytes.readUInt32BE(10);
    const startEnd = 9 + 5 + startLength + 4;
    const want = createHash("sha256")
      .update(bytes.subarray(0, 9))
      .update(bytes.subarray(9, 14))
      .update(bytes.subarray(startEnd - 4, startEnd))
      .digest("hex");
    const end = JSON.parse(bytes.subarray(startEnd + 5, bytes.length - 4).toString("utf8"));
    expect(end).toMatchObject({ frames: 1, bytes: startLength, digest: want });
  });
});
