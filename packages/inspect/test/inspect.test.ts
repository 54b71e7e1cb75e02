// End to end: the real `cairn inspect` binary (built with `npx tsc -b`) on the protocol's test vectors.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FrameType, encodeFrames, type Frame } from "@cairn/protocol";
import { cairn, sh, tempDir, ROOT } from "../../../test/helpers/cli.js";

const vectors = join(ROOT, "packages/protocol/test/vectors");
const bytes = (name: string) =>
  Buffer.from(
    readFileSync(join(vectors, name), "utf8")
      .split("\n")
      .filter((l) => !l.startsWith("#"))
      .join("")
      .replace(/\s+/g, ""),
    "hex",
  );
const lines = (out: Buffer) => out.toString().trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
const dir = tempDir("cairn-inspect-");
afterAll(() => dir.cleanup());

describe("cairn inspect", () => {
  it("prints one JSON line per frame of a plain stream, END included", () => {
    const r = cairn(["inspect"], { input: bytes("plain-one-file.hex") });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const out = lines(r.stdout);
    expect(out.map((l) => l.type)).toEqual(["START", "ENTRY", "DATA", "ENTRY_END", "END"]);
    expect(out[0]).toMatchObject({ n: 1, type: "START", at: 9, stream: "plain", host: "example", tags: ["nightly"] });
    expect(out[1]).toMatchObject({ n: 2, type: "ENTRY", kind: "file", path: "srv/data/hello.txt" });
    expect(out[2]).toEqual({ n: 3, type: "DATA", at: 275, length: 13, preview: Buffer.from("hello, cairn\n").subarray(0, 16).toString("hex") });
    expect(out[4]).toMatchObject({ n: 5, type: "END", frames: 4, entries: 1 });
  });

  it("summarises chunk frames by id and size", () => {
    const out = lines(cairn(["inspect"], { input: bytes("chunked-ref.hex") }).stdout);
    const chunk = out.find((l) => l.type === "CHUNK");
    const ref = out.find((l) => l.type === "CHUNK_REF");
    expect(chunk.id).toMatch(/^[0-9a-f]{64}$/);
    expect(chunk).toMatchObject({ size: 8, preview: Buffer.from("cairn!\n\n").toString("hex") });
    expect(ref).toEqual({ n: 4, type: "CHUNK_REF", at: ref.at, length: 36, id: chunk.id, size: 8 });
  });

  it("summarises sealed objects by kind and id, and shows COMMIT", () => {
    const out = lines(cairn(["inspect"], { input: bytes("sealed-framing.hex") }).stdout);
    expect(out.map((l) => l.kind ?? l.type)).toEqual(["START", "manifest", "data", "data", "manifest-root", "refs", "refs-root", "COMMIT", "END"]);
    expect(out[3]).toEqual({ n: 4, type: "SEALED_REF", at: out[3].at, length: 33, kind: "data", id: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const refsRoot = out[6];
    expect(refsRoot).toMatchObject({ type: "SEALED", kind: "refs-root", size: 32 });
    expect(out[7]).toMatchObject({ type: "COMMIT", v: 1, refs: refsRoot.id });
  });

  it("prints whole payloads with --data, as base64 with --base64", () => {
    const hex = lines(cairn(["inspect", "--data"], { input: bytes("plain-one-file.hex") }).stdout);
    expect(hex[2].data).toBe(Buffer.from("hello, cairn\n").toString("hex"));
    const b64 = lines(cairn(["inspect", "--data", "--base64"], { input: bytes("plain-one-file.hex") }).stdout);
    expect(b64[2].data).toBe(Buffer.from("hello, cairn\n").toString("base64"));
  });

  it("reads a file argument, and works as cairn-inspect in a shell pipeline", () => {
    const file = join(dir.path, "stream.bin");
    writeFileSync(file, bytes("minimal.hex"));
    expect(lines(cairn(["inspect", file]).stdout).map((l) => l.type)).toEqual(["START", "END"]);
    const r = sh(`cat '${file}' | cairn-inspect - | wc -l`);
    expect(r.status).toBe(0);
    expect(r.stdout.toString().trim()).toBe("2");
  });

  it("reads stdin redirected from a file, and a large stream from a real pipeline", () => {
    const file = join(dir.path, "redirect.bin");
    writeFileSync(file, bytes("chunked-ref.hex"));
    const r = sh(`cairn inspect < '${file}'`);
    expect(r.status).toBe(0);
    expect(lines(r.stdout).map((l) => l.type)).toEqual(["START", "ENTRY", "CHUNK", "CHUNK_REF", "ENTRY_END", "END"]);
    // 24 MiB of content through snapshot's stream: DATA frames of up to 1 MiB, then ENTRY_END and END.
    const tree = join(dir.path, "tree");
    mkdirSync(tree);
    writeFileSync(join(tree, "big"), Buffer.alloc(24 << 20, 7));
    const p = sh(`cairn snapshot '${tree}' | cairn inspect`);
    expect(p.stderr).toBe("");
    expect(p.status).toBe(0);
    const out = lines(p.stdout);
    expect(out[0]).toMatchObject({ type: "START", stream: "plain" });
    const data = out.filter((l) => l.type === "DATA");
    expect(data.reduce((n, l) => n + l.length, 0)).toBe(24 << 20);
    expect(out.find((l) => l.type === "ENTRY_END" && l.size === 24 << 20)).toBeDefined();
    expect(out.at(-1)).toMatchObject({ type: "END", frames: out.length - 1 });
  });

  it("on a corrupt stream prints the frames before the damage, one error line, exit 10", () => {
    const r = cairn(["inspect"], { input: bytes("crc-mismatch.hex") });
    expect(r.status).toBe(10);
    expect(lines(r.stdout).map((l) => l.type)).toEqual(["START", "ENTRY"]);
    expect(r.stderr).toBe("cairn-inspect: frame #3 (DATA) at byte 275 is corrupt: checksum mismatch\n");
  });

  it("on a truncated stream exits 10 naming the cut frame", () => {
    const r = cairn(["inspect"], { input: bytes("truncated-frame.hex") });
    expect(r.status).toBe(10);
    expect(r.stderr).toMatch(/^cairn-inspect: truncated frame #2 \(END\) at byte \d+: the stream ended after \d+ of its \d+ bytes\n$/);
  });

  it("shows an upstream ERROR frame as a line, then exits 12 naming the failed stage", () => {
    const r = cairn(["inspect"], { input: bytes("error-frame.hex") });
    expect(r.status).toBe(12);
    const out = lines(r.stdout);
    expect(out.at(-1)).toEqual({ n: 4, type: "ERROR", tool: "cairn-snapshot", kind: "command", message: "pg_dump exited with status 1" });
    expect(r.stderr).toBe("cairn-inspect: cairn-snapshot failed: pg_dump exited with status 1\n");
  });

  it("refuses an unknown version with exit 11 and raw bytes with exit 10", () => {
    const v2 = cairn(["inspect"], { input: bytes("version-2.hex") });
    expect(v2.status).toBe(11);
    expect(v2.stderr).toBe("cairn-inspect: cairn stream version 2 is not supported (this build reads version 1)\n");
    const raw = cairn(["inspect"], { input: "just some text\n" });
    expect(raw.status).toBe(10);
    expect(raw.stderr).toContain("not a cairn stream");
    expect(raw.stdout.length).toBe(0);
  });

  it("stops quietly with exit 0 when its reader goes away (inspect | head)", async () => {
    const frames: Frame[] = [{ type: FrameType.START, meta: { stream: "plain" } }];
    for (let i = 0; i < 20000; i++) frames.push({ type: FrameType.DATA, data: new Uint8Array(8) });
    frames.push({ type: FrameType.END, meta: {} });
    const chunks: Uint8Array[] = [];
    for await (const c of encodeFrames(frames)) chunks.push(c);
    const file = join(dir.path, "many.bin");
    writeFileSync(file, Buffer.concat(chunks));
    const r = sh(`cairn inspect '${file}' | head -1`);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout.toString())).toMatchObject({ n: 1, type: "START" });
  });

  it("exits 15 for a file that does not exist", () => {
    const r = cairn(["inspect", join(dir.path, "nope.bin")]);
    expect(r.status).toBe(15);
    expect(r.stderr).toBe(`cairn-inspect: ${join(dir.path, "nope.bin")}: no such file\n`);
  });
});
