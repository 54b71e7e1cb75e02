import { createHash, randomBytes } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FrameType, decodeFrames, type Frame } from "@cairn/protocol";
import { frameAlignedInput } from "../../../test/helpers/frames.js";
import { extractToDir, extractToStdout, extractToTar, snapshotTar } from "../src/index.js";
import { paxMtimeNs } from "../src/tar-in.js";
import { sha, START, END, MTIME, entry, endOf, file } from "./plain-frames.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cairn-extract-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));


async function* from(frames: Frame[]): AsyncGenerator<Frame> {
  yield* frames;
}

const restore = (frames: Frame[], opts = {}) => extractToDir(from(frames), join(dir, "out"), { warn: () => {}, ...opts });

describe("extractToDir over a borrowing decoder (snapshot -x DIR reads stdin so)", () => {
  // Twenty files in many small DATA frames, from an input that poisons and frees each frame's
  // memory once the decoder is past it (test/helpers/frames.ts).
  const files = Array.from({ length: 20 }, (_, i) => ({ path: `f${i}`, data: randomBytes(1000 + i * 37_000) }));
  const frames: Frame[] = [START];
  for (const f of files) {
    frames.push({ type: FrameType.ENTRY, meta: { kind: "file", path: f.path, mode: 0o644, mtime: MTIME } });
    for (let at = 0; at < f.data.length; at += 4096) frames.push({ type: FrameType.DATA, data: f.data.subarray(at, at + 4096) });
    frames.push({ type: FrameType.ENTRY_END, meta: { size: f.data.length, sha256: createHash("sha256").update(f.data).digest("hex") } });
  }
  frames.push({ ...END, meta: { ...END.meta, entries: files.length } });
  const wrong = (out: string) => files.filter((f) => !readFileSync(join(out, f.path)).equals(f.data)).length;

  it('restores every byte with borrow "allButLast" (one write in flight while the next frame is read)', async () => {
    const input = await frameAlignedInput(frames);
    await extractToDir(decodeFrames(input, { borrow: "allButLast" }), join(dir, "out"), { warn: () => {} });
    expect(wrong(join(dir, "out"))).toBe(0);
    expect(input.buffers.slice(0, -2).every((b) => b.buffer.detached)).toBe(true);
  });

  it("(and the check bites: with borrow true, which frees the frame being written, files come out wrong)", async () => {
    await extractToDir(decodeFrames(await frameAlignedInput(frames), { borrow: true }), join(dir, "eager"), { warn: () => {} }).catch(() => undefined);
    const out = join(dir, "eager");
    expect(files.filter((f) => { try { return !readFileSync(join(out, f.path)).equals(f.data); } catch { return true; } }).length).toBeGreaterThan(0);
  });
});

describe("extractToDir", () => {
  it("sets mtimes to the microsecond", async () => {
    await restore([START, ...file("f", "x"), END]);
    expect(lstatSync(join(dir, "out/f"), { bigint: true }).mtimeNs / 1000n).toBe(BigInt(MTIME) / 1000n);
  });

  it("replaces a symlink with --overwrite instead of writing through it", async () => {
    const outside = join(dir, "outside");
    writeFileSync(outside, "keep\n");
    mkdirSync(join(dir, "out"));
    symlinkSync(outside, join(dir, "out/f"));
    await restore([START, ...file("f", "new\n"), END], { overwrite: true });
    expect(readFileSync(outside, "utf8")).toBe("keep\n");
    expect(lstatSync(join(dir, "out/f")).isFile()).toBe(true);
    expect(readFileSync(join(dir, "out/f"), "utf8")).toBe("new\n");
  });

  it("refuses to turn a directory into a symlink, even with --overwrite", async () => {
    const frames = [START, entry({ kind: "dir", path: "a", mode: 0o755 }), entry({ kind: "symlink", path: "a", target: "/etc" }), ...file("a/passwd", "x"), END];
    await expect(restore(frames, { overwrite: true })).rejects.toMatchObject({ kind: "refused", message: "refusing to replace the directory a with a symlink" });
  });

  it("refuses a hard link whose target was not restored", async () => {
    const frames = [START, entry({ kind: "hardlink", path: "b", target: "a" }), END];
    await expect(restore(frames)).rejects.toMatchObject({ kind: "notFound", message: "hard link target a was not restored" });
  });

  it("refuses a hard link to a path outside", async () => {
    const frames = [START, entry({ kind: "hardlink", path: "b", target: "../x" }), END];
    await expect(restore(frames)).rejects.toMatchObject({ kind: "refused", message: 'refusing hard link "b" to "../x": it has a ".." component' });
  });

  it("refuses content longer than its entry end says, leaving no temporary file", async () => {
    const frames = [START, entry({ kind: "file", path: "f" }), { type: FrameType.DATA, data: Buffer.from("abcd") }, endOf("abc"), END];
    await expect(restore(frames)).rejects.toMatchObject({ kind: "integrity", message: '"f": 4 bytes arrived, its entry end says 3' });
    // No temporary file, and the directory the restore made is gone with it, being empty.
    expect(existsSync(join(dir, "out"))).toBe(false);
  });

  it("refuses data inside a directory entry", async () => {
    const frames = [START, entry({ kind: "dir", path: "d" }), { type: FrameType.DATA, data: Buffer.from("x") }, END];
    await expect(restore(frames)).rejects.toMatchObject({ kind: "stream", message: 'dir "d" carries data' });
  });

  it("removes the temporary file when the stream breaks off inside a file", async () => {
    async function* broken(): AsyncGenerator<Frame> {
      yield START;
      yield entry({ kind: "file", path: "f" });
      yield { type: FrameType.DATA, data: Buffer.from("half") };
      throw Object.assign(new Error("stream ended"), {});
    }
    await expect(extractToDir(broken(), join(dir, "out"))).rejects.toThrow("stream ended");
    expect(existsSync(join(dir, "out"))).toBe(false);
    // The parents mkdir -p made for it go too.
    await expect(extractToDir(broken(), join(dir, "new/a/b"))).rejects.toThrow("stream ended");
    expect(existsSync(join(dir, "new"))).toBe(false);
    // A directory that was there before stays, empty.
    mkdirSync(join(dir, "kept"));
    await expect(extractToDir(broken(), join(dir, "kept"))).rejects.toThrow("stream ended");
    expect(readdirSync(join(dir, "kept"))).toEqual([]);
  });

  it("creates missing parent directories and sets directory modes after their contents", async () => {
    await restore([START, entry({ kind: "dir", path: "ro", mode: 0o555 }), ...file("ro/sub/f", "x"), END]);
    expect(lstatSync(join(dir, "out/ro")).mode & 0o7777).toBe(0o555);
    expect(readFileSync(join(dir, "out/ro/sub/f"), "utf8")).toBe("x");
  });
});

describe("extractToStdout", () => {
  it("writes the named entry only", async () => {
    const out: Uint8Array[] = [];
    for await (const c of extractToStdout(from([START, ...file("a", "A"), ...file("b", "B"), END]), "b", () => {})) out.push(c);
    expect(Buffer.concat(out).toString()).toBe("B");
  });

  it("takes the path as -x DIR and pull do, leading and trailing / dropped (/srv/x is stored as srv/x)", async () => {
    for (const path of ["/d/b", "d/b/", "//d/b"]) {
      const out: Uint8Array[] = [];
      for await (const c of extractToStdout(from([START, ...file("d/a", "A"), ...file("d/b", "B"), END]), path, () => {})) out.push(c);
      expect(Buffer.concat(out).toString()).toBe("B");
    }
  });

  it("says so when the entry is not there", async () => {
    const run = async () => {
      for await (const _ of extractToStdout(from([START, ...file("a", "A"), END]), "zz", () => {}));
    };
    await expect(run()).rejects.toMatchObject({ kind: "notFound", message: "zz: no such entry in the stream" });
  });
});

describe("tar in and out", () => {
  it("reads pax mtimes exactly", () => {
    expect(paxMtimeNs("1700000000.123456789")).toBe("1700000000123456789");
    expect(paxMtimeNs("1700000000.5")).toBe("1700000000500000000");
    expect(paxMtimeNs("1700000000")).toBe("1700000000000000000");
    expect(paxMtimeNs("-1.5")).toBe("-1500000000");
    expect(paxMtimeNs("garbage")).toBeUndefined();
  });

  it("round-trips long names, link targets and nanosecond mtimes through its own tar", async () => {
    const long = `${"d".repeat(120)}/${"f".repeat(150)}`;
    const frames = [
      START,
      entry({ kind: "dir", path: "d".repeat(120), mode: 0o700 }),
      { type: FrameType.ENTRY_END, meta: { size: 0, sha256: sha("") } },
      entry({ kind: "file", path: long, size: 5, uid: 7, gid: 8, uname: "u", gname: "g" }),
      { type: FrameType.DATA, data: Buffer.from("hello") },
      endOf("hello"),
      entry({ kind: "symlink", path: "l", target: "t".repeat(200) }),
      entry({ kind: "file", path: "x\ufffd", pathB64: Buffer.from([0x78, 0xff]).toString("base64"), size: 0 }),
      endOf(""),
      entry({ kind: "file", path: "no-permissions", mode: 0, size: 0 }),
      endOf(""),
      END,
    ];
    const back: Frame[] = [];
    for await (const f of snapshotTar({ warn: () => {} }, extractToTar(from(frames), { warn: () => {} }))) back.push(f);
    const metas = back.filter((f) => f.type === FrameType.ENTRY).map((f) => f.meta!);
    expect(metas.map((m) => [m.kind, m.path, m.mtime])).toEqual([
      ["dir", "d".repeat(120), MTIME],
      ["file", long, MTIME],
      ["symlink", "l", MTIME],
      ["file", "x\ufffd", MTIME],
      ["file", "no-permissions", MTIME],
    ]);
    expect(metas[4].mode).toBe(0);
    expect(metas[1]).toMatchObject({ uid: 7, gid: 8, uname: "u", gname: "g", mode: 0o644, size: 5 });
    expect(metas[2].target).toBe("t".repeat(200));
    expect(metas[3].pathB64).toBe(Buffer.from([0x78, 0xff]).toString("base64"));
  });

  it("refuses a member whose name climbs out with ..", async () => {
    const tarStream = (await import("tar-stream")).default;
    const pack = tarStream.pack();
    pack.entry({ name: "../evil", size: 1 }, "x");
    pack.finalize();
    const run = async () => {
      for await (const _ of snapshotTar({ warn: () => {} }, pack as AsyncIterable<Uint8Array>));
    };
    await expect(run()).rejects.toMatchObject({ kind: "refused", message: 'tar member name "../evil" is unsafe: it has a ".." component' });
  });
});
