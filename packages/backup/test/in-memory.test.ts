// Frames passed in memory between the stages give exactly what the same stages give when every
// hop goes through the stream codec, as it does between the processes of a pipeline: the same
// objects (chunk, manifest and refs ids are deterministic) in the same order, and the same signed
// COMMIT (Ed25519 signatures are deterministic too), when the snapshot's time is the same.
import { createCipheriv } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FrameType, decodeFrames, encodeFrames, type Frame } from "@cairn/protocol";
import { createOwnerKey, createWriterKey, parseOwnerKey, parseWriterKey } from "@cairn/keys";
import { chunkStream } from "@cairn/chunk";
import { seal } from "@cairn/seal";
import { snapshotPaths } from "@cairn/snapshot";
import { sealedStream } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "cairn-backup-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function noise(n: number, seed: number): Buffer {
  return createCipheriv("chacha20", Buffer.alloc(32, seed), Buffer.alloc(16)).update(Buffer.alloc(n));
}

/** What a pipe between two processes does to frames: encode, then decode (and check) them. */
const throughPipe = (frames: AsyncIterable<Frame>) => decodeFrames(encodeFrames(frames));

/** The sealed stream's objects (kind and id, in order) and its COMMIT. */
async function summary(frames: AsyncIterable<Frame>): Promise<{ objects: string[]; commit: unknown; end: Record<string, unknown> }> {
  const objects: string[] = [];
  let commit: unknown;
  let end: Record<string, unknown> = {};
  for await (const f of frames) {
    if (f.type === FrameType.SEALED || f.type === FrameType.SEALED_REF) objects.push(`${f.type}:${f.data![0]}:${Buffer.from(f.data!.subarray(1, 33)).toString("hex")}`);
    else if (f.type === FrameType.COMMIT) commit = f.meta;
    else if (f.type === FrameType.END) {
      const { frames: _f, bytes: _b, digest: _d, ...rest } = f.meta!;
      end = rest;
    }
  }
  return { objects, commit, end };
}

describe("sealedStream", () => {
  it("gives the same objects and COMMIT as snapshot | chunk | seal through the codec", async () => {
    const src = join(dir, "src");
    mkdirSync(join(src, "a/b"), { recursive: true });
    let text = "";
    for (let i = 0; text.length < 1_500_000; i++) text += `line ${i} of a log that compresses well\n`;
    writeFileSync(join(src, "a/log.txt"), text);
    writeFileSync(join(src, "a/b/blob"), noise(2_500_000, 7));
    writeFileSync(join(src, "a/b/blob-again"), noise(2_500_000, 7));
    writeFileSync(join(src, "empty"), "");
    symlinkSync("a/log.txt", join(src, "link"));

    const owner = await parseOwnerKey((await createOwnerKey()).text, "owner");
    const key = parseWriterKey(createWriterKey(owner).text, "writer");
    const start = { time: new Date("2026-11-24T03:00:00Z"), host: "db1", tags: ["nightly"] };
    const params = { min: 64 * 1024, avg: 256 * 1024, max: 1024 * 1024 };

    const inWorker = await summary(sealedStream({ key, source: { kind: "paths", paths: [src] }, start, params, workers: 2 }));
    const inMain = await summary(sealedStream({ key, source: { kind: "paths", paths: [src] }, start, params, workers: 2, chunkWorker: false }));
    const plain = throughPipe(snapshotPaths([src], start));
    const chunked = throughPipe(chunkStream(plain, { idKey: key.idKey, chunkerSecret: key.chunkerSecret, params }));
    const piped = await summary(throughPipe(seal(chunked, { key, workers: 2 })));

    expect(piped.objects.length).toBeGreaterThan(15);
    for (const fused of [inWorker, inMain]) {
      expect(fused.objects).toEqual(piped.objects);
      expect(fused.commit).toEqual(piped.commit);
      expect(fused.end).toEqual(piped.end);
    }
  });

  for (const chunkWorker of [true, false]) {
    it(`fails with the source's own error, as the pipeline's first stage does (chunking ${chunkWorker ? "on a worker" : "on the main thread"})`, async () => {
      const owner = await parseOwnerKey((await createOwnerKey()).text, "owner");
      const key = parseWriterKey(createWriterKey(owner).text, "writer");
      const frames = sealedStream({ key, chunkWorker, source: { kind: "command", command: ["sh", "-c", "seq 1 100000; exit 7"], name: "dump.sql" } });
      await expect(summary(frames)).rejects.toMatchObject({ kind: "command", message: "sh exited with status 7; the snapshot is incomplete" });
      const missing = sealedStream({ key, chunkWorker, source: { kind: "paths", paths: [join(dir, "no-such-dir")] } });
      await expect(summary(missing)).rejects.toMatchObject({ kind: "notFound", message: `${join(dir, "no-such-dir")}: no such file or directory` });
    });
  }
});
