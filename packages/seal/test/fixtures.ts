// Real keys and real streams for the stage tests: owner and writer keys made by @cairn/keys,
// chunked streams cut by @cairn/chunk's stage from plain streams built here.
import { createCipheriv, randomBytes } from "node:crypto";
import { createOwnerKey, createWriterKey, parseOwnerKey, parseWriterKey, type OwnerKey, type WriterKey } from "@cairn/keys";
import { chunkStream } from "@cairn/chunk";
import { FrameType, encodeFrames, type Frame } from "@cairn/protocol";

export interface Keys {
  owner: OwnerKey;
  writer: WriterKey;
  ownerText: string;
  writerText: string;
}

export async function makeKeys(opts: { pq?: boolean } = {}): Promise<Keys> {
  const created = await createOwnerKey({ pq: opts.pq });
  const owner = await parseOwnerKey(created.text, "owner.key");
  const w = createWriterKey(owner);
  return { owner, writer: parseWriterKey(w.text, "writer.key"), ownerText: created.text, writerText: w.text };
}

/** Deterministic bytes that do not compress (ChaCha20 keystream). */
export function noise(n: number, seed = 1): Buffer {
  const key = Buffer.alloc(32, seed);
  return createCipheriv("chacha20", key, Buffer.alloc(16)).update(Buffer.alloc(n));
}

export function text(n: number, seed = 1): Buffer {
  let s = "";
  for (let i = 0; s.length < n; i++) s += `line ${i * seed} of a text file that compresses well\n`;
  return Buffer.from(s.slice(0, n));
}

export interface FileSpec {
  path: string;
  content: Buffer;
}

export async function* plainStream(files: FileSpec[], time = "2026-11-27T10:00:00.000Z"): AsyncGenerator<Frame> {
  yield { type: FrameType.START, meta: { stream: "plain", host: "test-host", time, label: "/data", tags: ["t1"] } };
  yield { type: FrameType.ENTRY, meta: { kind: "dir", path: "dir", mode: 0o755, mtime: "1700000000000000000" } };
  for (const f of files) {
    yield { type: FrameType.ENTRY, meta: { kind: "file", path: f.path, mode: 0o644, mtime: "1700000000000000000" } };
    for (let at = 0; at < f.content.length; at += 50_000) yield { type: FrameType.DATA, data: f.content.subarray(at, at + 50_000) };
    yield { type: FrameType.ENTRY_END, meta: { size: f.content.length, sha256: "-" } };
  }
  yield { type: FrameType.END, meta: { entries: files.length + 1 } };
}

/** Small chunks and a small reference window, so that tests see many chunks, refs and re-sends. */
export const SMALL = { params: { min: 4096, avg: 16384, max: 65536 }, refWindow: 256 * 1024 };

export async function chunked(keys: Keys, files: FileSpec[], time?: string): Promise<Frame[]> {
  return collect(chunkStream(plainStream(files, time), { idKey: keys.writer.idKey, chunkerSecret: keys.writer.chunkerSecret, ...SMALL }));
}

/** The frames of a stage, kept: so none hands its memory on (Frame.dispose) to whatever replays them. */
export async function collect(frames: AsyncIterable<Frame>): Promise<Frame[]> {
  const out: Frame[] = [];
  for await (const f of frames) out.push(f.dispose ? { type: f.type, data: f.data } : f);
  return out;
}

export async function* replay(frames: Frame[]): AsyncGenerator<Frame> {
  for (const f of frames) yield f;
}

export async function bytesOf(frames: Frame[]): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const p of encodeFrames(frames)) parts.push(p);
  return Buffer.concat(parts);
}

/** A tree with text, noise, a file repeated inside the window and one repeated beyond it. */
export function tree(seed = 1): FileSpec[] {
  const shared = noise(40_000, seed + 100);
  return [
    { path: "dir/a.txt", content: text(300_000, seed) },
    { path: "dir/noise.bin", content: noise(200_000, seed) },
    { path: "dir/copy-near.bin", content: shared },
    { path: "dir/copy-near-again.bin", content: shared },
    { path: "dir/big.bin", content: noise(400_000, seed + 1) },
    { path: "dir/copy-far.bin", content: shared },
    { path: "dir/empty", content: Buffer.alloc(0) },
  ];
}

export const freshId = () => randomBytes(32);
