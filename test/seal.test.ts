// `cairn seal` and `cairn seal -d` end to end: the real binaries, real key files, real pipes;
// each way a sealed stream can be wrong gets its one-line error and documented exit code.
import { createHmac } from "node:crypto";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newSession, sealWithSession } from "@cairn/age";
import { readOwnerKey, readWriterKey } from "@cairn/keys";
import { FrameType, type Frame } from "@cairn/protocol";
import { ObjectKind, compressChunk, decodeSealed, encodeKnown, encodeSealed, hex, signCommit, type Commit } from "@cairn/seal";
import { cairn, sh, tempDir } from "./helpers/cli.js";
import { decode, encode } from "./helpers/frames.js";

const dir = tempDir("cairn-seal-");
afterAll(() => dir.cleanup());
const at = (name: string) => join(dir.path, name);
const env = { CAIRN_WRITERS: "", CAIRN_PASSPHRASE: "", CAIRN_WRITER_KEY: "" };


const objects = (frames: Frame[]) => frames.filter((f) => f.type === FrameType.SEALED).map((f) => decodeSealed(f.data!, false));

function unsealCli(input: Uint8Array, extra: string[] = []) {
  return cairn(["seal", "-d", "-i", at("owner.key"), "--writers", at("writers"), ...extra], { input, env });
}

/** One line on stderr, the exit code of the kind. */
function expectRejected(r: ReturnType<typeof cairn>, code: number, pattern: RegExp) {
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  expect(r.status).toBe(code);
}

let sealed: Buffer;
let frames: Frame[];

beforeAll(async () => {
  mkdirSync(at("src/sub"), { recursive: true });
  writeFileSync(at("src/hello.txt"), "hello, sealed world\n".repeat(50));
  let text = "";
  for (let i = 0; text.length < 1_500_000; i++) text += `row ${i}, value ${i * 7 % 13}\n`;
  writeFileSync(at("src/sub/table.csv"), text);
  const keys = sh("cairn key new -o owner.key && cairn key writer -i owner.key -o writer.key --writers writers", { cwd: dir.path, env });
  expect(keys.status).toBe(0);
  const run = sh("cairn snapshot src | cairn chunk -k writer.key > chunked.bin && cairn seal -k writer.key < chunked.bin > sealed.bin", { cwd: dir.path, env });
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  sealed = readFileSync(at("sealed.bin"));
  frames = await decode(sealed);
});

describe("cairn seal", () => {
  it("reads the writer key from CAIRN_WRITER_KEY, and opens again with the owner key", () => {
    const r = sh("cairn seal < chunked.bin | cairn seal -d -i owner.key --writers writers | cairn chunk -d -i owner.key | cairn snapshot -x out-env", {
      cwd: dir.path,
      env: { ...env, CAIRN_WRITER_KEY: at("writer.key") },
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(readFileSync(at("out-env/src/sub/table.csv")).equals(readFileSync(at("src/sub/table.csv")))).toBe(true);
  });

  it("needs a writer key (usage, exit 2)", () => {
    expectRejected(cairn(["seal"], { input: readFileSync(at("chunked.bin")), env }), 2, /seal needs the writer key/);
  });

  it("refuses a chunked START that cannot become a snapshot: no host, no valid time, no valid refWindow (stream, exit 10)", async () => {
    const chunked = await decode(readFileSync(at("chunked.bin")));
    const start = chunked[0].meta!;
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...start, host: undefined }, /the chunked START has no host: it cannot become a snapshot/],
      [{ ...start, time: "yesterday" }, /the chunked START has no valid time/],
      [{ ...start, refWindow: undefined }, /the chunked START has no valid refWindow \(undefined; 0 to 1073741824 bytes\)/],
      [{ ...start, refWindow: 2 ** 31 }, /has no valid refWindow/],
      [{ ...start, tags: "a,b" }, /has tags that are not a list of strings/],
    ];
    for (const [meta, why] of cases) {
      const input = await encode([{ type: FrameType.START, meta: JSON.parse(JSON.stringify(meta)) }, ...chunked.slice(1)]);
      expectRejected(cairn(["seal", "-k", at("writer.key")], { input, env }), 10, why);
    }
  });

  it("writes chunks that `age -d -i OWNER | zstd -d` opens with stock tools", async () => {
    const owner = await readOwnerKey(at("owner.key"));
    const data = objects(frames).filter((o) => o.kind === ObjectKind.DATA);
    expect(data.length).toBeGreaterThan(1);
    for (const [n, o] of data.entries()) {
      writeFileSync(at(`chunk${n}.age`), o.bytes!);
      const r = sh(`age -d -i owner.key chunk${n}.age | zstd -d -c`, { cwd: dir.path });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      expect(createHmac("sha256", owner.idKey!).update(r.stdout).digest("hex")).toBe(hex(o.id));
    }
    // The smallest file is one chunk: the stock tools give back its bytes.
    const hello = readFileSync(at("src/hello.txt"));
    const id = createHmac("sha256", owner.idKey!).update(hello).digest("hex");
    const n = data.findIndex((o) => hex(o.id) === id);
    expect(sh(`age -d -i owner.key chunk${n}.age | zstd -d -c`, { cwd: dir.path }).stdout.equals(hello)).toBe(true);
  });

  it("with --known passes held chunks as SEALED_REF, which seal -d refuses (stream, exit 10)", async () => {
    const first = objects(frames).find((o) => o.kind === ObjectKind.DATA)!;
    writeFileSync(at("known"), encodeKnown(new Uint8Array(first.id)));
    const r = cairn(["seal", "-k", at("writer.key"), "--known", at("known")], { input: readFileSync(at("chunked.bin")), env });
    expect(r.status).toBe(0);
    const out = await decode(r.stdout);
    const refs = out.filter((f) => f.type === FrameType.SEALED_REF).map((f) => decodeSealed(f.data!, true));
    expect(refs.map((x) => hex(x.id))).toEqual([hex(first.id)]);
    expectRejected(unsealCli(r.stdout), 10, /refers to data chunk [0-9a-f]{64} without carrying it: it was made with --known; pipe it to push/);
  });
});

describe("cairn seal -d refuses", () => {
  const replace = (kind: number, make: (o: { id: Uint8Array; bytes: Uint8Array }) => Uint8Array) => {
    let done = false;
    return frames.map((f) => {
      if (done || f.type !== FrameType.SEALED || f.data![0] !== kind) return f;
      done = true;
      const o = decodeSealed(f.data!, false);
      return { type: FrameType.SEALED, data: make({ id: o.id, bytes: o.bytes! }) };
    });
  };

  it("the writer key: it cannot decrypt what it sealed (key, exit 14)", () => {
    expectRejected(cairn(["seal", "-d", "-i", at("writer.key")], { input: sealed, env }), 14, /writer key: it can seal but not decrypt/);
  });

  it("another owner's key (key, exit 14), naming the object", () => {
    expect(sh("cairn key new -o other.key", { cwd: dir.path, env }).status).toBe(0);
    const r = cairn(["seal", "-d", "-i", at("other.key"), "--writers", at("writers")], { input: sealed, env });
    expectRejected(r, 14, /cannot open manifest chunk [0-9a-f]{64}: .*owner key/);
  });

  it("a tampered data chunk (integrity, exit 13)", async () => {
    const bad = replace(ObjectKind.DATA, ({ id, bytes }) => {
      const b = Buffer.from(bytes);
      b[b.length - 20] ^= 0x40;
      return encodeSealed(ObjectKind.DATA, id, b);
    });
    expectRejected(unsealCli(await encode(bad)), 13, /cannot open data chunk [0-9a-f]{64}/);
  });

  it("a data chunk whose recipient stanza is damaged, once the manifest opened with this key (integrity, exit 13, not key)", async () => {
    const bad = replace(ObjectKind.DATA, ({ id, bytes }) => {
      const b = Buffer.from(bytes);
      // A character of the stanza's body (the line after "-> X25519 …"), still base64.
      const body = b.indexOf("\n", b.indexOf("\n-> ") + 1) + 1 + 10;
      b[body] = b[body] === 0x41 ? 0x42 : 0x41;
      return encodeSealed(ObjectKind.DATA, id, b);
    });
    expectRejected(unsealCli(await encode(bad)), 13, /cannot open data chunk [0-9a-f]{64}: no identity matches .*, though this identity opened the manifest: the object is damaged\n/);
  });

  it("a manifest forged with the public recipients alone (integrity, exit 13)", async () => {
    const writer = await readWriterKey(at("writer.key"));
    const session = await newSession(writer.recipients);
    const forged = Buffer.concat([Buffer.from([1, 0, 0, 0, 2]), Buffer.from("{}")]);
    const bad = replace(ObjectKind.MANIFEST, ({ id }) => encodeSealed(ObjectKind.MANIFEST, id, sealWithSession(session, compressChunk(forged, 3))));
    expectRejected(unsealCli(await encode(bad)), 13, /manifest chunk [0-9a-f]{64} is not authentic/);
  });

  it("a manifest swapped in from another real snapshot (integrity, exit 13)", async () => {
    const other = sh("cairn snapshot src | cairn chunk -k writer.key | cairn seal -k writer.key", { cwd: dir.path, env });
    expect(other.status).toBe(0);
    const later = await decode(other.stdout);
    const spliced = [frames[0], ...later.slice(1, -2), frames.at(-2)!, frames.at(-1)!];
    expectRejected(unsealCli(await encode(spliced)), 13, /manifest root [0-9a-f]{64} is not the manifest root the signed COMMIT names|a manifest from another snapshot/);
  });

  it("an altered COMMIT (integrity, exit 13) and an unpinned writer (key, exit 14)", async () => {
    const altered = [...frames];
    altered[frames.length - 2] = { type: FrameType.COMMIT, meta: { ...frames.at(-2)!.meta, label: "something else" } };
    expectRejected(unsealCli(await encode(altered)), 13, /COMMIT signature by writer [0-9a-f]{16}… does not verify/);
    writeFileSync(at("nobody"), "");
    expectRejected(cairn(["seal", "-d", "-i", at("owner.key"), "--writers", at("nobody")], { input: sealed, env }), 14, /not pinned/);
  });

  it("a clear reference set that disagrees with the manifest, signed by the writer (integrity, exit 13)", async () => {
    const writer = await readWriterKey(at("writer.key"));
    // The writer signs a refs set with one more id than the snapshot uses.
    const blockAt = frames.findIndex((f) => f.type === FrameType.SEALED && f.data![0] === ObjectKind.REFS);
    const block = decodeSealed(frames[blockAt].data!, false);
    const extra = Buffer.alloc(32, 0xff);
    const bigger = Buffer.concat([block.bytes!, extra]);
    const { createHash } = await import("node:crypto");
    const blockId = createHash("sha256").update(bigger).digest();
    const rootAt = frames.findIndex((f) => f.type === FrameType.SEALED && f.data![0] === ObjectKind.REFS_ROOT);
    const root = Buffer.from(decodeSealed(frames[rootAt].data!, false).bytes!);
    expect(root.length).toBe(32); // a small snapshot: one refs block
    const rootId = createHash("sha256").update(blockId).digest();
    const { sig: _s, ...unsigned } = frames.at(-2)!.meta as Commit;
    const commit = signCommit({ ...unsigned, refs: hex(rootId) }, writer.signingKey);
    const forged = [...frames];
    forged[blockAt] = { type: FrameType.SEALED, data: encodeSealed(ObjectKind.REFS, blockId, bigger) };
    forged[rootAt] = { type: FrameType.SEALED, data: encodeSealed(ObjectKind.REFS_ROOT, rootId, blockId) };
    forged[frames.length - 2] = { type: FrameType.COMMIT, meta: commit };
    expectRejected(unsealCli(await encode(forged)), 13, /the clear reference set \(refs root [0-9a-f]{64}\) disagrees with the manifest/);
  });

  it("a truncated stream (stream, exit 10)", () => {
    expectRejected(unsealCli(sealed.subarray(0, Math.floor(sealed.length * 0.6))), 10, /truncated|ended/);
  });

  it("a plain stream (stream, exit 10)", () => {
    const plain = sh("cairn snapshot src", { cwd: dir.path, env }).stdout;
    expectRejected(unsealCli(plain), 10, /seal -d reads a sealed stream, but this one is "plain"/);
  });
});
