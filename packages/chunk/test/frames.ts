// Builds plain streams as frames, the way snapshot writes them, for the stage tests.
import { createHash } from "node:crypto";
import { FrameType, type Frame } from "@cairn/protocol";

export interface FileSpec {
  path: string;
  data: Uint8Array;
  /** DATA frame size (snapshot's read size); default 64 KiB. */
  piece?: number;
}

export function plainFrames(files: FileSpec[], extra: { start?: Record<string, any>; end?: Record<string, any> } = {}): Frame[] {
  const frames: Frame[] = [{ type: FrameType.START, meta: { stream: "plain", host: "testhost", time: "2026-11-27T00:00:00.000Z", label: "test", tags: ["t"], ...extra.start } }];
  frames.push({ type: FrameType.ENTRY, meta: { kind: "dir", path: "d", mode: 0o755, mtime: "0" } });
  for (const f of files) {
    frames.push({ type: FrameType.ENTRY, meta: { kind: "file", path: f.path, mode: 0o644, mtime: "1000" } });
    const piece = f.piece ?? 65536;
    for (let at = 0; at < f.data.length; at += piece) frames.push({ type: FrameType.DATA, data: f.data.subarray(at, at + piece) });
    frames.push({ type: FrameType.ENTRY_END, meta: { size: f.data.length, sha256: createHash("sha256").update(f.data).digest("hex") } });
  }
  frames.push({ type: FrameType.END, meta: { entries: files.length + 1, partial: 0, ...extra.end } });
  return frames;
}

export async function collect(frames: AsyncIterable<Frame>): Promise<Frame[]> {
  const out: Frame[] = [];
  for await (const f of frames) out.push(f);
  return out;
}

export async function* fromArray(frames: Frame[]): AsyncGenerator<Frame> {
  yield* frames;
}

/** Each entry's content (its DATA frames, concatenated) as its length and SHA-256. */
export function contents(frames: Frame[]): Map<string, string> {
  const out = new Map<string, string>();
  let path = "";
  let parts: Uint8Array[] = [];
  for (const f of frames) {
    if (f.type === FrameType.ENTRY) {
      path = f.meta!.path;
      parts = [];
    } else if (f.type === FrameType.DATA) parts.push(f.data!);
    else if (f.type === FrameType.ENTRY_END) {
      const all = Buffer.concat(parts);
      out.set(path, `${all.length} ${createHash("sha256").update(all).digest("hex")}`);
    }
  }
  return out;
}

export const count = (frames: Frame[], type: number) => frames.filter((f) => f.type === type).length;
