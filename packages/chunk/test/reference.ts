// A slow, literal reading of docs/chunking.md, written apart from src/ so the tests compare two
// independent implementations of the spec.
import { createHmac } from "node:crypto";

export function referenceGear(secret: Uint8Array): number[] {
  const words: number[] = [];
  for (let k = 0; k < 32; k++) {
    const msg = Buffer.concat([Buffer.from("cairn gear v1", "ascii"), Buffer.from([k >>> 24, (k >>> 16) & 255, (k >>> 8) & 255, k & 255])]);
    const block = createHmac("sha256", secret).update(msg).digest();
    for (let w = 0; w < 8; w++) words.push(block.readUInt32BE(4 * w));
  }
  return words;
}

const topBits = (n: number) => (n <= 0 ? 0 : 2 ** 32 - 2 ** (32 - Math.min(n, 32)));

/** The end offsets of the chunks of `data`. */
export function referenceCuts(secret: Uint8Array, data: Uint8Array, p: { min: number; avg: number; max: number }): number[] {
  const gear = referenceGear(secret);
  const bits = Math.round(Math.log2(p.avg));
  const maskS = topBits(bits + 2);
  const maskL = topBits(bits - 2);
  const normal = p.min + Math.floor((p.avg - p.min) / 2);
  const cuts: number[] = [];
  let start = 0;
  while (start < data.length) {
    const end = Math.min(start + p.max, data.length);
    let cut = end;
    let fp = 0;
    for (let j = p.min; start + j < end; j++) {
      fp = (fp * 2 + gear[data[start + j]]) % 2 ** 32;
      const mask = j < normal ? maskS : maskL;
      if ((fp & mask) === 0) {
        cut = start + j + 1;
        break;
      }
    }
    cuts.push(cut);
    start = cut;
  }
  return cuts;
}
