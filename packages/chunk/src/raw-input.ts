import { createHash } from "node:crypto";
import { hostname } from "node:os";
import { CairnError } from "@cairn/errors";
import { FrameType, type Frame } from "@cairn/protocol";

/**
 * Raw bytes (input without the cairn magic) as a plain stream of one file entry named `name`,
 * the same stream `cairn snapshot --stdin --name NAME` writes: the entry and END are marked
 * completeness unverified, because a producer that died half-way also ends in a clean EOF.
 */
export async function* rawToPlain(input: AsyncIterable<Uint8Array>, name: string): AsyncGenerator<Frame> {
  checkName(name);
  const now = new Date();
  yield { type: FrameType.START, meta: { stream: "plain", host: hostname(), time: now.toISOString(), label: name, tags: [], source: "stdin" } };
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  yield {
    type: FrameType.ENTRY,
    meta: { kind: "file", path: name, mode: 0o600, uid, gid, mtime: (BigInt(now.getTime()) * 1_000_000n).toString(), unverified: true },
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

function checkName(name: string): void {
  const parts = name.split("/");
  if (name === "" || name.startsWith("/") || parts.some((p) => p === "" || p === "." || p === "..") || name.includes("\0")) {
    throw new CairnError("usage", `--name ${JSON.stringify(name)} cannot be an entry path: use a relative path without empty, "." or ".." parts`);
  }
}
