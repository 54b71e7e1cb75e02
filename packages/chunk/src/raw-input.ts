import { createHash } from "node:crypto";
import { hostname } from "node:os";
import { FrameType, type Frame } from "@cairn/protocol";

/**
 * Raw bytes (input without the cairn magic) as a plain stream of one file entry named `name`,
 * marked completeness unverified: a producer that died half-way also ends in a clean EOF.
 */
export async function* rawToPlain(input: AsyncIterable<Uint8Array>, name: string): AsyncGenerator<Frame> {
  const now = new Date();
  yield { type: FrameType.START, meta: { stream: "plain", host: hostname(), time: now.toISOString(), label: name, tags: [], unverified: true } };
  yield {
    type: FrameType.ENTRY,
    meta: { kind: "file", path: name, mode: 0o644, mtime: (BigInt(now.getTime()) * 1_000_000n).toString(), unverified: true },
  };
  const sha = createHash("sha256");
  let size = 0;
  for await (const piece of input) {
    if (piece.length === 0) continue;
    sha.update(piece);
    size += piece.length;
    yield { type: FrameType.DATA, data: piece };
  }
  yield { type: FrameType.ENTRY_END, meta: { size, sha256: sha.digest("hex") } };
  yield { type: FrameType.END, meta: { entries: 1, partial: 0, unverified: true } };
}
