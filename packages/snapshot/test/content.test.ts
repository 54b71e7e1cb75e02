import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Frame } from "@cairn/protocol";
import { DATA_SIZE, contentFrames } from "../src/content.js";

async function frame(pieces: Uint8Array[]): Promise<{ sizes: number[]; bytes: Buffer; end: { size: number; sha256: string } }> {
  const gen = contentFrames((async function* () { yield* pieces; })());
  const out: Frame[] = [];
  for (;;) {
    const r = await gen.next();
    if (r.done) return { sizes: out.map((f) => f.data!.length), bytes: Buffer.concat(out.map((f) => f.data!)), end: r.value };
    out.push(r.value);
  }
}

describe("contentFrames", () => {
  it("gathers small pieces into 1 MiB frames, the last one shorter, hashing everything once", async () => {
    const data = randomBytes(2 * DATA_SIZE + 100_000);
    const pieces: Uint8Array[] = [];
    for (let at = 0; at < data.length; at += 65_536) pieces.push(data.subarray(at, at + 65_536));
    const { sizes, bytes, end } = await frame(pieces);
    expect(sizes).toEqual([DATA_SIZE, DATA_SIZE, 100_000]);
    expect(bytes.equals(data)).toBe(true);
    expect(end).toEqual({ size: data.length, sha256: createHash("sha256").update(data).digest("hex") });
  });

  it("splits a large piece into frames of at most 1 MiB", async () => {
    const { sizes } = await frame([randomBytes(DATA_SIZE * 2 + 5)]);
    expect(sizes).toEqual([DATA_SIZE, DATA_SIZE, 5]);
  });

  it("gives no frame for empty content", async () => {
    const { sizes, end } = await frame([new Uint8Array(0)]);
    expect(sizes).toEqual([]);
    expect(end.size).toBe(0);
  });
});
