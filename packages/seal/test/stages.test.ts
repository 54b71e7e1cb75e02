import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sealWithSession, newSession, parseHeader, NONCE_BYTES } from "@cairn/age";
import { CairnError } from "@cairn/errors";
import { FrameType, decodeFrames, type Frame } from "@cairn/protocol";
import { seal } from "../src/seal.js";
import { unseal } from "../src/unseal.js";
import { ObjectKind, decodeSealed, encodeSealed, hex } from "../src/objects.js";
import { encodeKnown, decodeKnown } from "../src/known.js";
import { IdList, refsBlocks, sha256 } from "../src/refs.js";
import { signCommit, type Commit } from "../src/commit.js";
import { compressChunk } from "../src/zstd.js";
import { bytesOf, chunked, collect, makeKeys, replay, tree, text, type Keys } from "./fixtures.js";

const keys = await makeKeys();
const trusted = new Set([keys.writer.publicKey]);
const opener = { identities: keys.owner.identities, idKey: keys.owner.idKey!, trusted };

async function sealed(k: Keys, input: Frame[], known?: Uint8Array): Promise<Frame[]> {
  return collect(seal(replay(input), { key: k.writer, workers: 2, known: known ? decodeKnown(encodeKnown(known)) : undefined }));
}

async function opened(frames: Frame[], opts = opener): Promise<Frame[]> {
  return collect(unseal(replay(frames), opts));
}

async function failure(p: Promise<unknown>): Promise<CairnError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(CairnError);
    return err as CairnError;
  }
  throw new Error("expected a failure");
}

const objects = (frames: Frame[]) => frames.filter((f) => f.type === FrameType.SEALED).map((f) => decodeSealed(f.data!, false));

const input = await chunked(keys, tree());
const output = await sealed(keys, input);

describe("seal then seal -d", () => {
  it("gives back the chunked stream byte for byte", async () => {
    expect(Buffer.compare(await bytesOf(await opened(output)), await bytesOf(input))).toBe(0);
  });

  it("moves memory handed over with CHUNK frames (Frame.dispose) to its workers, and seals the same", async () => {
    // Each CHUNK in a buffer of its own, handed over, as chunk's cutting thread delivers them.
    const handed = input.map((f) => (f.type === FrameType.CHUNK ? { type: f.type, data: new Uint8Array(f.data!), dispose: true } : f));
    const out = await sealed(keys, handed);
    // Moved, not copied: the stage's views of that memory read empty now.
    for (const f of handed) if (f.type === FrameType.CHUNK) expect(f.data!.buffer.detached).toBe(true);
    expect(Buffer.compare(await bytesOf(await opened(out)), await bytesOf(input))).toBe(0);
  });

  it("carries every chunk occurrence outside the reference window, and none inside it", () => {
    const carried = input.filter((f) => f.type === FrameType.CHUNK).length;
    const data = objects(output).filter((o) => o.kind === ObjectKind.DATA);
    expect(data.length).toBe(carried);
    const refs = input.filter((f) => f.type === FrameType.CHUNK_REF).length;
    expect(refs).toBeGreaterThan(0);
    // copy-far.bin is beyond the window: its chunks are carried a second time.
    expect(new Set(data.map((o) => hex(o.id))).size).toBeLessThan(data.length);
  });

  it("emits START, manifest chunks ahead of their data, the root, refs, COMMIT and END", () => {
    expect(output[0].meta).toMatchObject({ stream: "sealed", host: "test-host", label: "/data", tags: ["t1"], writer: keys.writer.publicKey, keyset: keys.writer.keyset });
    const kinds = objects(output).map((o) => o.kind);
    expect(kinds[0]).toBe(ObjectKind.MANIFEST);
    const root = kinds.indexOf(ObjectKind.MANIFEST_ROOT);
    expect(kinds.lastIndexOf(ObjectKind.MANIFEST)).toBeLessThan(root);
    expect(kinds.lastIndexOf(ObjectKind.DATA)).toBeLessThan(root);
    expect(kinds.slice(root + 1).every((k) => k === ObjectKind.REFS || k === ObjectKind.REFS_ROOT)).toBe(true);
    expect(kinds.at(-1)).toBe(ObjectKind.REFS_ROOT);
    expect(output.at(-2)!.type).toBe(FrameType.COMMIT);
    expect(output.at(-1)!.type).toBe(FrameType.END);
  });

  it("puts no metadata in the clear: no path appears in the sealed bytes", async () => {
    const bytes = await bytesOf(output);
    for (const f of tree()) expect(bytes.includes(Buffer.from(f.path))).toBe(false);
  });

  it("lists in the refs set exactly the data chunks, manifest chunks and the root", async () => {
    const objs = objects(output);
    const expected = new IdList();
    for (const o of objs) if (o.kind <= ObjectKind.MANIFEST_ROOT) expected.add(o.id);
    const refs = Buffer.concat(objs.filter((o) => o.kind === ObjectKind.REFS).map((o) => o.bytes!));
    expect(refs.equals(Buffer.from(expected.sortedUnique()))).toBe(true);
    const commit = output.at(-2)!.meta as Commit;
    expect(commit.stats.refs).toBe(refs.length / 32);
    expect(commit.refs).toBe(hex(objs.find((o) => o.kind === ObjectKind.REFS_ROOT)!.id));
  });

  it("accepts COMMIT and the roots ahead of the manifest (pull's order)", async () => {
    const tail = output.filter((f) => f.type === FrameType.COMMIT || (f.type === FrameType.SEALED && f.data![0] !== ObjectKind.MANIFEST && f.data![0] !== ObjectKind.DATA));
    const body = output.filter((f) => !tail.includes(f) && f.type !== FrameType.START && f.type !== FrameType.END);
    const reordered = [output[0], ...tail, ...body, output.at(-1)!];
    expect(Buffer.compare(await bytesOf(await opened(reordered)), await bytesOf(input))).toBe(0);
  });
});

describe("seal", () => {
  it("refuses a chunk whose data does not match its id, and seals nothing of it", async () => {
    const bad = input.map((f) => f);
    const i = bad.findIndex((f) => f.type === FrameType.CHUNK);
    const data = Buffer.from(bad[i].data!);
    data[40] ^= 1;
    bad[i] = { type: FrameType.CHUNK, data };
    const got: Frame[] = [];
    const err = await failure((async () => {
      for await (const f of seal(replay(bad), { key: keys.writer, workers: 1 })) got.push(f);
    })());
    expect(err.kind).toBe("integrity");
    expect(err.message).toMatch(new RegExp(`data chunk ${hex(data.subarray(0, 32))} does not match its id`));
    expect(objects(got).some((o) => o.kind === ObjectKind.DATA && hex(o.id) === hex(data.subarray(0, 32)))).toBe(false);
  });

  it("passes chunks the repository holds (--known) as SEALED_REF, unsealed", async () => {
    const first = input.find((f) => f.type === FrameType.CHUNK)!.data!.subarray(0, 32);
    const out = await sealed(keys, input, new Uint8Array(first));
    const refs = out.filter((f) => f.type === FrameType.SEALED_REF).map((f) => decodeSealed(f.data!, true));
    expect(refs.map((r) => [r.kind, hex(r.id)])).toEqual([[ObjectKind.DATA, hex(first)]]);
    expect(objects(out).some((o) => hex(o.id) === hex(first))).toBe(false);
    const err = await failure(opened(out));
    expect(err.kind).toBe("stream");
    expect(err.message).toMatch(/made with --known; pipe it to push/);
  });

  it("wraps the file key once per run and gives every object a fresh payload nonce", async () => {
    // The payload key is HKDF(file key, nonce): a repeated nonce would still decrypt, so only this
    // test would see seal reuse a keystream across chunks.
    const sealedObjects = (frames: Frame[]) =>
      objects(frames)
        .filter((o) => o.kind <= ObjectKind.MANIFEST_ROOT)
        .map((o) => {
          const header = parseHeader(o.bytes!).bytes;
          return { header: hex(header), nonce: hex(o.bytes!.subarray(header.length, header.length + NONCE_BYTES)) };
        });
    const run1 = sealedObjects(output);
    expect(run1.length).toBeGreaterThan(10);
    expect(new Set(run1.map((o) => o.header)).size).toBe(1);
    expect(new Set(run1.map((o) => o.nonce)).size).toBe(run1.length);
    // Another run: another file key (another header), and still no nonce repeated.
    const run2 = sealedObjects(await sealed(keys, input));
    expect(run2[0].header).not.toBe(run1[0].header);
    expect(new Set([...run1, ...run2].map((o) => o.nonce)).size).toBe(run1.length + run2.length);
  });

  it("refuses a plain stream with a hint", async () => {
    const err = await failure(collect(seal(replay([{ type: FrameType.START, meta: { stream: "plain", host: "h", time: "t", label: "", tags: [] } }]), { key: keys.writer })));
    expect(err.message).toMatch(/put `cairn chunk` before seal/);
  });
});

describe("seal -d rejects", () => {
  const replaceObject = (frames: Frame[], kind: number, nth: number, make: (bytes: Uint8Array, id: Uint8Array) => Uint8Array): Frame[] => {
    let seen = 0;
    return frames.map((f) => {
      if (f.type !== FrameType.SEALED || f.data![0] !== kind || seen++ !== nth) return f;
      const o = decodeSealed(f.data!, false);
      return { type: FrameType.SEALED, data: make(o.bytes!, o.id) };
    });
  };

  it("a wrong identity (key)", async () => {
    const other = await makeKeys();
    const err = await failure(opened(output, { ...opener, identities: other.owner.identities }));
    expect(err.kind).toBe("key");
    expect(err.message).toMatch(/^cannot open manifest chunk [0-9a-f]{64}: /);
  });

  it("a tampered data chunk (integrity), naming it", async () => {
    const bad = replaceObject(output, ObjectKind.DATA, 1, (bytes, id) => {
      const b = Buffer.from(bytes);
      b[b.length - 5] ^= 1;
      return encodeSealed(ObjectKind.DATA, id, b);
    });
    const err = await failure(opened(bad));
    expect(err.kind).toBe("integrity");
    expect(err.message).toMatch(/^cannot open data chunk [0-9a-f]{64}: /);
  });

  it("a tampered manifest chunk or manifest root (integrity), naming it", async () => {
    for (const kind of [ObjectKind.MANIFEST, ObjectKind.MANIFEST_ROOT]) {
      const bad = replaceObject(output, kind, 0, (bytes, id) => {
        const b = Buffer.from(bytes);
        b[b.length - 20] ^= 0x40;
        return encodeSealed(kind, id, b);
      });
      const err = await failure(opened(bad));
      expect(err.kind).toBe("integrity");
      expect(err.message).toMatch(new RegExp(`^cannot open ${kind === ObjectKind.MANIFEST ? "manifest chunk" : "manifest root"} [0-9a-f]{64}: age payload: chunk \\d+ of \\d+ fails authentication`));
    }
  });

  it("a chunk re-sealed with the public recipients under another content (integrity)", async () => {
    const session = await newSession(keys.writer.recipients);
    const bad = replaceObject(output, ObjectKind.DATA, 0, (_bytes, id) => encodeSealed(ObjectKind.DATA, id, sealWithSession(session, compressChunk(text(1000, 9), 3))));
    const err = await failure(opened(bad));
    expect(err.kind).toBe("integrity");
  });

  it("a manifest forged with the public recipients alone (integrity: not an HMAC under the id key)", async () => {
    const session = await newSession(keys.writer.recipients);
    const bad = replaceObject(output, ObjectKind.MANIFEST, 0, (bytes, id) => {
      // The attacker cannot decrypt; they write their own manifest, sealed to the public recipients.
      const forged = Buffer.from(`\x01\x00\x00\x00\x02{}`);
      return encodeSealed(ObjectKind.MANIFEST, id, sealWithSession(session, compressChunk(forged, 3)));
    });
    const err = await failure(opened(bad));
    expect(err.kind).toBe("integrity");
    expect(err.message).toMatch(/^manifest chunk [0-9a-f]{64} is not authentic/);
  });

  it("a manifest swapped between two real snapshots (integrity)", async () => {
    const later = await sealed(keys, await chunked(keys, tree(), "2026-11-28T10:00:00.000Z"));
    // The attacker keeps this snapshot's clear START, COMMIT and END, and swaps in the later manifest and data.
    const spliced = [output[0], ...later.slice(1, -2), output.at(-2)!, output.at(-1)!];
    const err = await failure(opened(spliced));
    expect(err.kind).toBe("integrity");
    expect(err.message).toMatch(/manifest (root [0-9a-f]{64} is not the manifest root the signed COMMIT names|header's time)/);
    // The same with COMMIT first, as pull sends it: refused before any entry is emitted.
    const early: Frame[] = [];
    const err2 = await failure((async () => {
      for await (const f of unseal(replay([output[0], output.at(-2)!, ...later.slice(1, -2), output.at(-1)!]), opener)) early.push(f);
    })());
    expect(err2.kind).toBe("integrity");
    expect(early.filter((f) => f.type === FrameType.ENTRY)).toEqual([]);
  });

  it("a COMMIT whose signature does not verify (integrity) or whose writer is not pinned (key)", async () => {
    const commitAt = output.length - 2;
    const altered = [...output];
    altered[commitAt] = { type: FrameType.COMMIT, meta: { ...output[commitAt].meta, host: "elsewhere" } };
    const err = await failure(opened(altered));
    expect(err.kind).toBe("integrity");
    expect(err.message).toMatch(/COMMIT signature .* does not verify/);
    const unpinned = await failure(opened(output, { ...opener, trusted: new Set() }));
    expect(unpinned.kind).toBe("key");
    expect(unpinned.message).toMatch(/not pinned/);
    const unsigned = [...output];
    const { sig: _s, ...rest } = output[commitAt].meta!;
    unsigned[commitAt] = { type: FrameType.COMMIT, meta: rest };
    expect((await failure(opened(unsigned))).kind).toBe("integrity");
  });

  it("a clear reference set that disagrees with the manifest, even when signed (integrity)", async () => {
    // A writer (who holds the signing key) leaves one data chunk out of the refs set.
    const objs = objects(output);
    const ids = new IdList();
    for (const o of objs) if (o.kind <= ObjectKind.MANIFEST_ROOT) ids.add(o.id);
    const sorted = ids.sortedUnique().slice(32);
    const blocks = refsBlocks(sorted).map((b) => ({ id: sha256(b), b }));
    const rootBytes = Buffer.concat(blocks.map((x) => x.id));
    const rootId = sha256(rootBytes);
    const { sig: _s, ...unsigned } = output.at(-2)!.meta as Commit;
    const commit = signCommit({ ...unsigned, refs: hex(rootId) }, keys.writer.signingKey);
    const body = output.slice(0, -2).filter((f) => !(f.type === FrameType.SEALED && f.data![0] >= ObjectKind.REFS));
    const forged = [
      ...body,
      ...blocks.map((x) => ({ type: FrameType.SEALED, data: encodeSealed(ObjectKind.REFS, x.id, x.b) })),
      { type: FrameType.SEALED, data: encodeSealed(ObjectKind.REFS_ROOT, rootId, rootBytes) },
      { type: FrameType.COMMIT, meta: commit },
      output.at(-1)!,
    ];
    const err = await failure(opened(forged));
    expect(err.kind).toBe("integrity");
    expect(err.message).toMatch(/the clear reference set \(refs root [0-9a-f]{64}\) disagrees with the manifest/);
  });

  it("a stream that ends early (stream), through the frame decoder", async () => {
    const bytes = await bytesOf(output);
    const cut = bytes.subarray(0, Math.floor(bytes.length / 2));
    const err = await failure(collect(unseal(decodeFrames(replayBytes(cut)), opener)));
    expect(err.kind).toBe("stream");
  });

  it("a data chunk that is missing from the stream (stream)", async () => {
    let dropped = false;
    const missing = output.filter((f) => {
      if (!dropped && f.type === FrameType.SEALED && f.data![0] === ObjectKind.DATA) return !(dropped = true);
      return true;
    });
    const err = await failure(opened(missing));
    expect(["stream", "integrity"]).toContain(err.kind);
    expect(err.message).toMatch(/data chunk [0-9a-f]{64}/);
  });

  it("an id key that is not the one the chunks were made with (integrity)", async () => {
    const err = await failure(opened(output, { ...opener, idKey: createHmac("sha256", "x").update("y").digest() }));
    expect(err.kind).toBe("integrity");
  });
});

async function* replayBytes(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

describe("seal -d on a stream filtered to some paths (pull PATH…)", () => {
  /** What pull sends for `select`: every manifest chunk, and the data of the selected entries only, by the selection's own window replay. */
  async function filtered(select: string[]): Promise<Frame[]> {
    const { openFile, FileKeyCache } = await import("@cairn/age");
    const { ManifestParser, RecordTag } = await import("../src/manifest.js");
    const { decompressChunk } = await import("../src/zstd.js");
    const { Selection } = await import("../src/selection.js");
    const { RefWindow } = await import("@cairn/protocol");
    const byId = new Map<string, Frame>();
    for (const f of output) if (f.type === FrameType.SEALED && f.data![0] === ObjectKind.DATA) byId.set(hex(decodeSealed(f.data!, false).id), f);
    const cache = new FileKeyCache();
    const parser = new ManifestParser();
    const selection = new Selection(select);
    let window = new RefWindow(0);
    let inside = false;
    const out: Frame[] = [output[0], { type: FrameType.SEAL_INFO, meta: { select } }];
    for (const f of output.slice(1)) {
      if (f.type === FrameType.SEALED && f.data![0] === ObjectKind.DATA) continue;
      out.push(f);
      if (f.type !== FrameType.SEALED || f.data![0] !== ObjectKind.MANIFEST) continue;
      const plain = decompressChunk(await openFile(decodeSealed(f.data!, false).bytes!, keys.owner.identities, cache), 1 << 25, "m");
      for (const r of parser.push(plain)) {
        if (r.tag === RecordTag.HEADER) window = new RefWindow(r.meta.start.refWindow);
        if (r.tag === RecordTag.ENTRY) inside = selection.has(r.meta);
        if (r.tag === RecordTag.CHUNK && inside && !window.has(hex(r.id))) {
          window.add(hex(r.id), r.size, undefined);
          out.push(byId.get(hex(r.id))!);
        }
      }
    }
    return out;
  }

  async function files(frames: Frame[]): Promise<Map<string, string>> {
    const { dechunkStream } = await import("@cairn/chunk");
    const got = new Map<string, string>();
    let path = "";
    const parts: Uint8Array[] = [];
    for await (const f of dechunkStream(replay(frames), { idKey: keys.owner.idKey! })) {
      if (f.type === FrameType.ENTRY) path = f.meta!.path;
      if (f.type === FrameType.DATA) parts.push(f.data!);
      if (f.type === FrameType.ENTRY_END) got.set(path, Buffer.concat(parts.splice(0)).toString("hex"));
    }
    return got;
  }

  it("emits exactly the selected entries, with their content", async () => {
    const select = ["dir/copy-far.bin", "dir/a.txt"];
    const result = await opened_(await filtered(select));
    const all = await files(await opened_(output));
    const some = await files(result);
    expect([...some.keys()].sort()).toEqual(select.sort());
    for (const [p, content] of some) expect(content).toBe(all.get(p));
    expect(result.at(-1)!.meta!.entries).toBe(2);
  });

  it("still refuses a filtered stream whose manifest is not the signed one", async () => {
    const stream = await filtered(["dir/a.txt"]);
    const i = stream.findIndex((f) => f.type === FrameType.SEALED && f.data![0] === ObjectKind.MANIFEST);
    stream.splice(i, 1);
    expect((await failure(opened(stream))).kind).toMatch(/integrity|stream/);
  });
});

async function opened_(frames: Frame[]): Promise<Frame[]> {
  return collect(unseal(replay(frames), opener));
}
