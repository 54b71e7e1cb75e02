// Frames ↔ bytes in tests, through the real protocol codec.
import { decodeFrames, encodeFrames, type Frame } from "@cairn/protocol";

export async function encode(frames: Frame[]): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const p of encodeFrames(frames)) parts.push(p);
  return Buffer.concat(parts);
}

export async function decode(data: Uint8Array): Promise<Frame[]> {
  const out: Frame[] = [];
  for await (const f of decodeFrames((async function* () { yield data; })())) out.push(f);
  return out;
}
