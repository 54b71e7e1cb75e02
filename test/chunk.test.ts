// `cairn chunk` and `cairn chunk -d` end to end: the real binaries, real key files, real pipes.
import { createHash } from "node:crypto";
import { lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createOwnerKey, createWriterKey, parseOwnerKey } from "@cairn/keys";
import { FrameType, type Frame } from "@cairn/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { CAIRN, shellEnv, tempDir, type Result } from "./helpers/cli.js";
import { decode, encode } from "./helpers/frames.js";

// Async versions of helpers/cli.ts's cairn() and sh(): a pipeline of several Node processes can
// take seconds on a busy machine, and a synchronous spawn would stall vitest's worker meanwhile.
function run(cmd: string, args: string[], opts: { input?: Uint8Array | string; env?: Record<string, string> }): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: shellEnv(opts.env), stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    child.stdin.on("error", () => {}); // the tool may exit before reading all of its input
    child.on("error", reject);
    child.on("close", (status, signal) => resolve({ status, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() }));
    child.stdin.end(opts.input ?? "");
  });
}
const cairn = (args: string[], opts: { input?: Uint8Array | string; env?: Record<string, string> } = {}) => run(process.execPath, [CAIRN, ...args], opts);
const sh = (script: string, opts: { env?: Record<string, string> } = {}) => run("bash", ["-c", `set -o pipefail\n${script}`], opts);

const dir = tempDir("cairn-chunk-");
afterAll(() => dir.cleanup());
const at = (name: string) => join(dir.path, name);
const env = { CAIRN_PASSPHRASE: "", CAIRN_WRITER_KEY: "", CAIRN_OWNER_KEY: "" };
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** Deterministic pseudo-random bytes (SHA-256 in counter mode, 32 bytes a step). */
function bytes(seed: string, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0, at = 0; at < length; i++, at += 32) createHash("sha256").update(`${seed}/${i}`).digest().copy(out, at);
  return out;
}


/** The frames of a stream that ends in an ERROR frame (decodeFrames would throw at it). */
function lastFrameType(data: Buffer): number {
  // Walk the framing: type u8 | length u32 | payload | crc u32, after the 9-byte header.
  let at = 9;
  let type = -1;
  while (at < data.length) {
    type = data[at];
    at += 9 + data.readUInt32BE(at + 1);
  }
  return type;
}

function plainStream(files: { path: string; data: Uint8Array }[]): Frame[] {
  const frames: Frame[] = [{ type: FrameType.START, meta: { stream: "plain", host: "h", time: "2026-11-27T00:00:00.000Z", label: "l", tags: [] } }];
  for (const f of files) {
    frames.push({ type: FrameType.ENTRY, meta: { kind: "file", path: f.path, mode: 0o644, mtime: "0" } });
    for (let i = 0; i < f.data.length; i += 1 << 20) frames.push({ type: FrameType.DATA, data: f.data.subarray(i, i + (1 << 20)) });
    frames.push({ type: FrameType.ENTRY_END, meta: { size: f.data.length, sha256: sha(f.data) } });
  }
  frames.push({ type: FrameType.END, meta: { entries: files.length, partial: 0 } });
  return frames;
}

function contentOf(frames: Frame[], path: string): Buffer {
  let inside = false;
  const parts: Uint8Array[] = [];
  for (const f of frames) {
    if (f.type === FrameType.ENTRY) inside = f.meta!.path === path;
    else if (f.type === FrameType.DATA && inside) parts.push(f.data!);
  }
  return Buffer.concat(parts);
}

/** The types of the content frames (CHUNK, CHUNK_REF, DATA) of one entry. */
function contentTypes(frames: Frame[], path: string): number[] {
  let inside = false;
  const types: number[] = [];
  for (const f of frames) {
    if (f.type === FrameType.ENTRY) inside = f.meta!.path === path;
    else if (f.type === FrameType.ENTRY_END) inside = false;
    else if (inside) types.push(f.type);
  }
  return types;
}

beforeAll(async () => {
  const owner = await createOwnerKey();
  writeFileSync(at("owner.key"), owner.text, { mode: 0o600 });
  writeFileSync(at("writer.key"), createWriterKey(await parseOwnerKey(owner.text, "owner.key")).text, { mode: 0o600 });
  const other = await createOwnerKey();
  writeFileSync(at("other.key"), other.text, { mode: 0o600 });
  const locked = await createOwnerKey({ passphrase: "correct horse", workFactor: 10 });
  writeFileSync(at("locked.key"), locked.text, { mode: 0o600 });
  // A writer key for the passphrase-protected owner, made by the real CLI.
  const w = await cairn(["key", "writer", "-i", at("locked.key"), "-o", at("locked-writer.key"), "--writers", at("writers")], { env: { ...env, CAIRN_PASSPHRASE: "correct horse" } });
  expect(w.stderr).toBe("");
});

describe("cairn chunk", () => {
  it("chunks raw stdin into one unverified entry and chunk -d gives the bytes back", async () => {
    const data = bytes("raw", 5 << 20);
    writeFileSync(at("raw.bin"), data);
    const r = await sh(`cairn chunk -k ${at("writer.key")} --name dump.sql < ${at("raw.bin")} > ${at("raw.chunked")} && cairn chunk -d -i ${at("owner.key")} < ${at("raw.chunked")}`, { env });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const chunked = await decode(readFileSync(at("raw.chunked")));
    expect(chunked[0].meta).toMatchObject({ stream: "chunked", chunker: { algorithm: "fastcdc-gear32-v1", min: 524288, avg: 1048576, max: 8388608 }, refWindow: 64 << 20 });
    // 5 MiB in one chunk needs ~4 MiB past the normal point without a cut: about e^-16.
    expect(chunked.filter((f) => f.type === FrameType.CHUNK).length).toBeGreaterThanOrEqual(2);
    const plain = await decode(r.stdout);
    expect(plain[0].meta!.stream).toBe("plain");
    expect(plain[1].meta).toMatchObject({ kind: "file", path: "dump.sql", unverified: true });
    expect(plain.find((f) => f.type === FrameType.ENTRY_END)!.meta).toEqual({ size: data.length, sha256: sha(data) });
    expect(plain.at(-1)!.meta).toMatchObject({ entries: 1, unverified: true });
    expect(contentOf(plain, "dump.sql").equals(data)).toBe(true);
  });

  it("sends a repeated file as references and reassembles it identically", async () => {
    const a = bytes("repeat", 3 << 20);
    writeFileSync(at("repeat.plain"), await encode(plainStream([{ path: "a", data: a }, { path: "b", data: bytes("other", 100_000) }, { path: "c", data: a }])));
    const r = await sh(`cairn chunk --key ${at("writer.key")} < ${at("repeat.plain")} | tee ${at("repeat.chunked")} | cairn chunk -d -k ${at("writer.key")}`, { env });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const chunked = await decode(readFileSync(at("repeat.chunked")));
    const refs = chunked.filter((f) => f.type === FrameType.CHUNK_REF).length;
    // Every chunk of the repeat is a reference to one of the first copy's (how many chunks that
    // is depends on the key's chunker secret).
    const first = contentTypes(chunked, "a");
    expect(first.length).toBeGreaterThanOrEqual(1);
    expect(first.every((t) => t === FrameType.CHUNK)).toBe(true);
    expect(contentTypes(chunked, "c")).toEqual(first.map(() => FrameType.CHUNK_REF));
    expect(refs).toBe(first.length);
    expect(chunked.at(-1)!.meta).toMatchObject({ refs, plainBytes: 2 * a.length + 100_000 });
    const plain = await decode(r.stdout);
    expect(contentOf(plain, "c").equals(a)).toBe(true);
    expect(contentOf(plain, "a").equals(a)).toBe(true);
  });

  it("takes the keys from CAIRN_WRITER_KEY and CAIRN_OWNER_KEY, and a passphrase-protected owner key", async () => {
    const r = await sh(`cairn chunk < ${at("raw.bin")} | cairn chunk -d | cairn inspect | tail -1`, { env: { ...env, CAIRN_WRITER_KEY: at("writer.key"), CAIRN_OWNER_KEY: at("owner.key") } });
    expect(r.stderr).toBe("");
    expect(r.stdout.toString()).toMatch(/"type":"END"/);
    const locked = await sh(`cairn chunk -k ${at("locked-writer.key")} < ${at("raw.bin")} | cairn chunk -d -i ${at("locked.key")} > /dev/null`, { env: { ...env, CAIRN_PASSPHRASE: "correct horse" } });
    expect(locked.stderr).toBe("");
    expect(locked.status).toBe(0);
  });

  it("honours --min/--avg/--max and refuses sizes it cannot use (exit 2)", async () => {
    const r = await cairn(["chunk", "-k", at("writer.key"), "--min", "8K", "--avg", "16K", "--max", "64K"], { input: bytes("sizes", 1 << 20), env });
    expect(r.status).toBe(0);
    const frames = await decode(r.stdout);
    expect(frames[0].meta!.chunker).toEqual({ algorithm: "fastcdc-gear32-v1", min: 8192, avg: 16384, max: 65536 });
    // Sizes within the bounds whatever the secret: at least 16 chunks of at most 64 KiB, none but the last under 8 KiB.
    const sizes = frames.filter((f) => f.type === FrameType.CHUNK).map((f) => f.data!.length - 32);
    expect(sizes.length).toBeGreaterThanOrEqual(16);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(65536);
    expect(Math.min(...sizes.slice(0, -1))).toBeGreaterThanOrEqual(8192);
    const bad = await cairn(["chunk", "-k", at("writer.key"), "--avg", "3000"], { input: "x", env });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe("cairn-chunk: bad chunker parameters (min 524288, avg 3000, max 8388608): need min < avg < max\n");
  });

  it("fails on a truncated input stream (exit 10) and writes an ERROR frame, not END", async () => {
    const full = await encode(plainStream([{ path: "t", data: bytes("trunc", 2 << 20) }]));
    writeFileSync(at("trunc.plain"), full.subarray(0, full.length - 1000));
    const r = await sh(`cairn chunk -k ${at("writer.key")} < ${at("trunc.plain")} > ${at("trunc.out")}`, { env });
    expect(r.status).toBe(10);
    expect(r.stderr).toMatch(/^cairn-chunk: truncated frame #\d+ \(DATA\)[^\n]*\n$/);
    expect(lastFrameType(readFileSync(at("trunc.out")))).toBe(FrameType.ERROR);
    const d = await sh(`head -c 3000000 ${at("raw.chunked")} | cairn chunk -d -k ${at("writer.key")} > /dev/null`, { env });
    expect(d.status).toBe(10);
    expect(d.stderr).toMatch(/^cairn-chunk: truncated frame #\d+ \(CHUNK\)/);
  });

  it("refuses a START or END that its own members would take past the maximum frame size (exit 10), not as an internal error", async () => {
    for (const which of ["START", "END"]) {
      const frames = plainStream([{ path: "m", data: bytes("max", 1000) }]);
      const i = which === "START" ? 0 : frames.length - 1;
      // Padded to exactly the maximum payload: a valid frame, but chunk's START gains the
      // chunker and refWindow members and its END the counts.
      const meta = { ...frames[i].meta, pad: "" };
      const end = i === frames.length - 1 ? { frames: 0, bytes: 0, digest: "0".repeat(64) } : {};
      meta.pad = "x".repeat(33554432 - Buffer.byteLength(JSON.stringify({ ...meta, ...end })) - (i === 0 ? 0 : 4));
      frames[i] = { type: frames[i].type, meta };
      const r = await cairn(["chunk", "-k", at("writer.key")], { input: await encode(frames), env });
      expect(r.stderr).toMatch(new RegExp(`^cairn-chunk: the ${which} frame is too large to pass on: [^\\n]*\\n$`));
      expect(r.status).toBe(10);
      expect(lastFrameType(r.stdout)).toBe(FrameType.ERROR);
    }
  });

  it("passes an upstream failure on (exit 12)", async () => {
    const frames = plainStream([{ path: "u", data: bytes("up", 1000) }]).slice(0, 3);
    const bytesOut = await encode([...frames, { type: FrameType.ERROR, meta: { tool: "cairn-snapshot", kind: "io", message: "read error on /srv/x" } }]);
    const r = await cairn(["chunk", "-k", at("writer.key")], { input: bytesOut, env });
    expect(r.status).toBe(12);
    expect(r.stderr).toBe("cairn-chunk: cairn-snapshot failed: read error on /srv/x\n");
    expect(lastFrameType(r.stdout)).toBe(FrameType.ERROR);
  });

  it("needs a writer key (exit 14) and refuses an owner key in its place", async () => {
    const r = await cairn(["chunk"], { input: "x", env });
    expect(r.status).toBe(14);
    expect(r.stderr).toBe("cairn-chunk: no writer key: give -k WRITER_KEY or set CAIRN_WRITER_KEY\n");
    const o = await cairn(["chunk", "-k", at("owner.key")], { input: "x", env });
    expect(o.status).toBe(14);
    expect(o.stderr).toMatch(/is an owner key, not a writer key/);
  });
});

describe("cairn chunk -d", () => {
  it("names the entry and chunk of a corrupted chunk (exit 13) and writes nothing further for that entry", async () => {
    const frames = await decode(readFileSync(at("raw.chunked")));
    const second = frames.filter((f) => f.type === FrameType.CHUNK)[1];
    const damaged = Buffer.from(second.data!);
    damaged[1000] ^= 0x40;
    const tampered = frames.map((f) => (f === second ? { type: FrameType.CHUNK, data: damaged } : f));
    writeFileSync(at("tampered.chunked"), await encode(tampered));
    const r = await sh(`cairn chunk -d -i ${at("owner.key")} < ${at("tampered.chunked")} > ${at("tampered.out")}`, { env });
    expect(r.status).toBe(13);
    expect(r.stderr).toBe(
      `cairn-chunk: chunk 1 (id ${damaged.subarray(0, 8).toString("hex")}…) of entry "dump.sql" does not match its id: the data is corrupt, or the id key is not the one it was written with\n`,
    );
    const out = readFileSync(at("tampered.out"));
    expect(lastFrameType(out)).toBe(FrameType.ERROR);
    // Only chunk 0 became DATA: START, ENTRY, DATA, ERROR.
    expect(first(out, 4)).toEqual([FrameType.START, FrameType.ENTRY, FrameType.DATA, FrameType.ERROR]);
  });

  it("refuses chunks under another owner's key (exit 13) and an owner key without an id key (exit 14)", async () => {
    const r = await sh(`cairn chunk -d -i ${at("other.key")} < ${at("raw.chunked")} > /dev/null`, { env });
    expect(r.status).toBe(13);
    expect(r.stderr).toMatch(/^cairn-chunk: chunk 0 \(id [0-9a-f]{16}…\) of entry "dump.sql" does not match its id: .*id key/);
    const identity = readFileSync(at("other.key"), "utf8").split("\n").filter((l) => l.startsWith("AGE-SECRET-KEY-")).join("\n");
    writeFileSync(at("plain-age.key"), identity + "\n", { mode: 0o600 });
    const p = await sh(`cairn chunk -d -i ${at("plain-age.key")} < ${at("raw.chunked")}`, { env });
    expect(p.status).toBe(14);
    expect(p.stderr).toMatch(/carries no id key/);
  });

  it("refuses a plain stream (exit 10)", async () => {
    const r = await sh(`cairn chunk -d -k ${at("writer.key")} < ${at("repeat.plain")}`, { env });
    expect(r.status).toBe(10);
    expect(r.stderr).toBe('cairn-chunk: chunk -d reads a chunked stream, but this one is "plain"\n');
  });

  it("checks a writer key's id key against the owner key's pin when given both (exit 14 on a mismatch)", async () => {
    const ok = await sh(`cairn chunk -d -k ${at("writer.key")} -i ${at("owner.key")} < ${at("raw.chunked")} > /dev/null`, { env });
    expect(ok.stderr).toBe("");
    expect(ok.status).toBe(0);
    const bad = await sh(`cairn chunk -d -k ${at("writer.key")} -i ${at("other.key")} < ${at("raw.chunked")} > /dev/null`, { env });
    expect(bad.status).toBe(14);
    expect(bad.stderr).toBe(`cairn-chunk: the id key of writer key ${at("writer.key")} is not the one owner key ${at("other.key")} pins\n`);
  });
});

/** The types of the first n frames of an encoded stream. */
function first(data: Buffer, n: number): number[] {
  const types: number[] = [];
  for (let at = 9; at < data.length && types.length < n; at += 9 + data.readUInt32BE(at + 1)) types.push(data[at]);
  return types;
}

/** One line per entry of a tree: kind, path, mode, size and SHA-256, or link target; mtime in µs. */
function describeTree(root: string): string[] {
  const lines: string[] = [];
  const visit = (abs: string, rel: string) => {
    const st = lstatSync(abs, { bigint: true });
    const head = `${rel} mode=${(st.mode & 0o7777n).toString(8)} mtime=${st.mtimeNs / 1000n}`;
    if (st.isDirectory()) {
      lines.push(`dir ${head}`);
      for (const n of readdirSync(abs).sort()) visit(join(abs, n), `${rel}/${n}`);
    } else if (st.isSymbolicLink()) lines.push(`symlink ${rel} -> ${readlinkSync(abs)}`);
    else lines.push(`file ${head} size=${st.size} sha=${sha(readFileSync(abs))}`);
  };
  visit(root, ".");
  return lines;
}

describe("snapshot | chunk | chunk -d | snapshot -x", () => {
  beforeAll(() => {
    const src = at("tree/src");
    mkdirSync(join(src, "docs/empty"), { recursive: true });
    const big = bytes("tree big", 4 * 1024 * 1024 + 321);
    writeFileSync(join(src, "big.bin"), big);
    writeFileSync(join(src, "docs/copy-of-big.bin"), big);
    writeFileSync(join(src, "docs/hello.txt"), "hello, cairn\n");
    writeFileSync(join(src, "zero"), "");
    symlinkSync("docs/hello.txt", join(src, "link"));
  });

  it("reproduces the tree exactly, and the repeated file travels as references", async () => {
    const out = at("tree/out");
    const r = await sh(
      `cd ${at("tree")} && cairn snapshot src | cairn chunk -k ${at("writer.key")} | tee ${at("tree.chunked")} | cairn chunk -d -k ${at("writer.key")} | cairn snapshot -x ${out}`,
      { env },
    );
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(describeTree(join(out, "src"))).toEqual(describeTree(at("tree/src")));
    const chunked = await decode(readFileSync(at("tree.chunked")));
    const original = contentTypes(chunked, "src/big.bin");
    expect(original.every((t) => t === FrameType.CHUNK)).toBe(true);
    expect(contentTypes(chunked, "src/docs/copy-of-big.bin")).toEqual(original.map(() => FrameType.CHUNK_REF));
  });

  it("restores nothing of an entry whose chunk is corrupt: chunk -d exits 13, snapshot -x sees the error", async () => {
    const frames = await decode(readFileSync(at("tree.chunked")));
    const victim = frames.find((f) => f.type === FrameType.CHUNK && f.data!.length > 65536)!;
    const damaged = Buffer.from(victim.data!);
    damaged[damaged.length - 1] ^= 1;
    writeFileSync(at("tree-tampered.chunked"), await encode(frames.map((f) => (f === victim ? { type: FrameType.CHUNK, data: damaged } : f))));
    const out = at("tree/out-tampered");
    const r = await sh(`cairn chunk -d -k ${at("writer.key")} < ${at("tree-tampered.chunked")} | cairn snapshot -x ${out}; echo "\${PIPESTATUS[@]}"`, { env });
    expect(r.stdout.toString().trim()).toBe("13 12");
    // Two processes share stderr: snapshot -x may print its line (about the ERROR frame) first.
    expect(r.stderr).toMatch(/^cairn-chunk: chunk \d+ \(id [0-9a-f]{16}…\) of entry "src\/[^"]+" does not match its id/m);
    expect(r.stderr).toMatch(/^cairn-snapshot: cairn-chunk failed: chunk \d+/m);
    const path = (frames.filter((f) => f.type === FrameType.ENTRY && frames.indexOf(f) < frames.indexOf(victim)).at(-1)!.meta!.path) as string;
    expect(existsSync(join(out, path))).toBe(false);
  });
});
