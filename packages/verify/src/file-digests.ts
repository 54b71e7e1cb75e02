// Every file of a plain stream against its ENTRY_END (size and SHA-256), as snapshot -x checks
// before putting a file in place: what `verify -` and `verify --restore-test` both need.
import { createHash, type Hash } from "node:crypto";
import { FrameType, type Frame } from "@cairn/protocol";

export interface FileDigestMismatch {
  path: string;
  size: number;
  sha256: string;
  recordedSize: unknown;
  recordedSha256: unknown;
}

/**
 * Calls `checked` once per file whose content was checked (with the mismatch, if any). `at.path`
 * names the entry being read, so a caller can say where a stream that throws midway stopped.
 */
export async function checkFileDigests(frames: AsyncIterable<Frame>, checked: (mismatch?: FileDigestMismatch) => void, at: { path: string } = { path: "" }): Promise<void> {
  let hash: Hash | undefined;
  let size = 0;
  for await (const f of frames) {
    switch (f.type) {
      case FrameType.ENTRY:
        at.path = String(f.meta!.path ?? "");
        hash = f.meta!.kind === "file" ? createHash("sha256") : undefined;
        size = 0;
        break;
      case FrameType.DATA:
        hash?.update(f.data!);
        size += f.data!.length;
        f.written?.(); // done with the data: chunk -d may free its window's memory (Frame.written)
        break;
      case FrameType.ENTRY_END: {
        const end = f.meta!;
        if (hash && !end.partial) {
          const digest = hash.digest("hex");
          const ok = end.size === size && end.sha256 === digest;
          checked(ok ? undefined : { path: at.path, size, sha256: digest, recordedSize: end.size, recordedSha256: end.sha256 });
        }
        hash = undefined;
        break;
      }
    }
  }
}
