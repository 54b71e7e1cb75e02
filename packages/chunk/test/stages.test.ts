import { createHash, randomBytes } from "node:crypto";
import { CairnError } from "@cairn/errors";
import { Writable } from "node:stream";
import { FrameType, decodeFrames, encodeFrames, writeFrames, type Frame } from "@cairn/protocol";
import { describe, expect, it } from "vitest";
import { chunkId, chunkInput, chunkStream, dechunkStream, ID_SIZE } from "../src/index.js";
import { collect, contents, count, fromArray, plainFrames } from "./frames.js";
import { frameAlignedInput } from "../../../test/helpers/frames.js";
import { makeInput } from "./vectors/input.js";

const idKey = Buffer.from("id key for the stage tests");
const chunkerSecret = Buffer.from("chunker secret for the stage tests");
const params = { min: 2048, avg: 8192, max: 32768 };
const opts = { idKey, chunkerSecret, params };

const random = (seed: string, length: number) => makeInput({ kind: "chacha20", seed, length });

async function chunked(frames: Frame[], o: Partial<Parameters<typeof chunkStream>[1]> = {}): Promise<Frame[]> {
  return collect(chunkStream(fromArray(frames), { ...opts, ...o }));
}

async function caught(p: Promise<unknown>): Promise<CairnError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(CairnError);
    return err as CairnError;
  }
  throw new Error("expected an error");
}

describe("chunk stage", () => {
  it("round-trips entries and metadata through chunk and chunk -d", async () => {
    const files = [
      { path: "d/a.bin", data: random("a", 200_000), piece: 10_000 },
      { path: "d/empty", data: new Uint8Array(0) },
      { path: "d/small", data: random("s", 100) },
      { path: "d/b.bin", data: random("b", 150_000), piece: 65536 },
    ];
    const plain = plainFrames(files);
    const out = await chunked(plain);
    expect(count(out, FrameType.DATA)).toBe(0);
    expect(count(out, FrameType.CHUNK)).toBeGreaterThan(30);
    const back = await collect(dechunkStream(fromArray(out), { idKey }));
    expect(contents(back)).toEqual(contents(plain));
    const metas = (fs: Frame[]) => fs.filter((f) => f.type === FrameType.ENTRY || f.type === FrameType.ENTRY_END).map((f) => f.meta);
    expect(metas(back)).toEqual(metas(plain));
    expect(back[0].meta).toEqual(plain[0].meta);
    expect(back.at(-1)!.meta).toEqual(plain.at(-1)!.meta);
  });

  it("describes the chunker and the window in START and counts chunks in END", async () => {
    const out = await chunked(plainFrames([{ path: "f", data: random("f", 100_000) }]));
    expect(out[0].meta).toMatchObject({ stream: "chunked", host: "testhost", tags: ["t"], chunker: { algorithm: "fastcdc-gear32-v1", ...params }, refWindow: 64 << 20 });
    expect(JSON.stringify(out[0].meta)).not.toContain(chunkerSecret.toString("hex"));
    const chunks = out.filter((f) => f.type === FrameType.CHUNK);
    expect(out.at(-1)!.meta).toMatchObject({ entries: 2, chunks: chunks.length, refs: 0, plainBytes: 100_000 });
    for (const c of chunks) expect(Buffer.from(c.data!.subarray(0, ID_SIZE))).toEqual(chunkId(idKey, c.data!.subarray(ID_SIZE)));
  });

  it("gives default-size chunks (MACed on the worker thread) their right ids, in order", async () => {
    const data = random("worker", 6 << 20);
    const out = await collect(chunkStream(fromArray(plainFrames([{ path: "big", data, piece: 1 << 20 }])), { idKey, chunkerSecret }));
    const chunks = out.filter((f) => f.type === FrameType.CHUNK);
    expect(chunks.length).toBeGreaterThanOrEqual(4);
    let at = 0;
    for (const c of chunks) {
      const plain = c.data!.subarray(ID_SIZE);
      expect(Buffer.from(plain).equals(Buffer.from(data.subarray(at, at + plain.length)))).toBe(true);
      expect(Buffer.from(c.data!.subarray(0, ID_SIZE))).toEqual(chunkId(idKey, plain));
      at += plain.length;
    }
    expect(at).toBe(data.length);
  });

  it("fails cleanly when upstream fails while chunks are in flight", async () => {
    const plain = plainFrames([{ path: "big", data: random("inflight", 5 << 20), piece: 1 << 20 }]);
    const failed = [...plain.slice(0, -3), { type: FrameType.ERROR, meta: { tool: "cairn-snapshot", kind: "io", message: "gone" } }];
    const e = await caught(collect(chunkStream(fromArray(failed), { idKey, chunkerSecret })));
    expect(e.kind).toBe("upstream");
  });

  it("never lets a chunk cross from one entry into the next", async () => {
    const a = random("x", 5000);
    const out = await chunked(plainFrames([{ path: "1", data: a }, { path: "2", data: a }]));
    const sizes = out.filter((f) => f.type === FrameType.CHUNK || f.type === FrameType.CHUNK_REF).map((f) => (f.type === FrameType.CHUNK ? f.data!.length - ID_SIZE : 5000));
    // Each small file is one chunk of its own; the second is a reference to the first.
    expect(sizes).toEqual([5000, 5000]);
  });

  it("sends a repeated file as CHUNK_REF frames and restores it identically", async () => {
    const data = random("dup", 300_000);
    const plain = plainFrames([{ path: "one", data }, { path: "two", data, piece: 7777 }, { path: "three", data, piece: 1 << 20 }]);
    const out = await chunked(plain);
    const chunks = count(out, FrameType.CHUNK);
    expect(count(out, FrameType.CHUNK_REF)).toBe(2 * chunks);
    expect(out.at(-1)!.meta).toMatchObject({ chunks, refs: 2 * chunks, plainBytes: 900_000 });
    const back = await collect(dechunkStream(fromArray(out), { idKey }));
    expect(contents(back)).toEqual(contents(plain));
  });

  it("sends a chunk's data again once it has left the reference window, and chunk -d replays the same rule", async () => {
    const data = random("window", 40_000);
    const filler = random("filler", 120_000);
    const plain = plainFrames([{ path: "a", data }, { path: "filler", data: filler }, { path: "b", data }]);
    const out = await chunked(plain, { refWindow: 64 * 1024 });
    expect(count(out, FrameType.CHUNK_REF)).toBe(0);
    expect(out[0].meta!.refWindow).toBe(64 * 1024);
    const back = await collect(dechunkStream(fromArray(out), { idKey }));
    expect(contents(back)).toEqual(contents(plain));
  });

  it("survives the byte encoding in between (the CLI path)", async () => {
    const plain = plainFrames([{ path: "f", data: random("bytes", 100_000) }, { path: "g", data: random("bytes", 100_000) }]);
    const bytes = encodeFrames(chunkStream(fromArray(plain), opts));
    const back = await collect(dechunkStream(decodeFrames(bytes), { idKey }));
    expect(contents(back)).toEqual(contents(plain));
  });

  it("turns raw input into one unverified entry named --name with its SHA-256", async () => {
    const data = random("raw", 123_456);
    async function* raw() {
      for (let at = 0; at < data.length; at += 10_000) yield data.subarray(at, at + 10_000);
    }
    const out = await collect(chunkInput(raw(), { ...opts, name: "db.sql" }));
    expect(out[0].meta).toMatchObject({ stream: "chunked", label: "db.sql", source: "stdin" });
    expect(out[1].meta).toMatchObject({ kind: "file", path: "db.sql", unverified: true });
    const end = out.find((f) => f.type === FrameType.ENTRY_END)!;
    expect(end.meta).toEqual({ size: data.length, sha256: createHash("sha256").update(data).digest("hex") });
    expect(out.at(-1)!.meta).toMatchObject({ entries: 1, unverified: true });
    const back = await collect(dechunkStream(fromArray(out), { idKey }));
    expect(contents(back).get("db.sql")).toBe(`${data.length} ${end.meta!.sha256}`);
  });

  it("decodes framed input when it sees the magic", async () => {
    const plain = plainFrames([{ path: "f", data: random("framed", 50_000) }]);
    const out = await collect(chunkInput(encodeFrames(plain), opts));
    expect(out[2].meta).toMatchObject({ path: "f" });
    expect(count(out, FrameType.CHUNK)).toBeGreaterThan(0);
  });

  it("refuses a stream that is not plain", async () => {
    const out = await chunked(plainFrames([]));
    const e = await caught(chunked(out));
    expect(e.kind).toBe("stream");
    expect(e.message).toMatch(/chunk reads a plain stream, but this one is "chunked"/);
  });

  it("refuses a truncated stream", async () => {
    const plain = plainFrames([{ path: "f", data: random("trunc", 50_000) }]);
    const bytes = Buffer.concat(await collect(encodeFrames(plain)));
    const e = await caught(collect(chunkInput(fromArray([bytes.subarray(0, 30_000)] as any), opts)));
    expect(e.kind).toBe("stream");
    expect(e.message).toMatch(/truncated|ended/);
    const e2 = await caught(chunked(plain.slice(0, -1)));
    expect(e2.message).toMatch(/ended without an END frame/);
  });

  it("refuses content that is never closed by ENTRY_END", async () => {
    const plain = plainFrames([{ path: "f", data: random("open", 5000) }, { path: "g", data: random("g", 10) }]);
    const broken = plain.filter((f, i) => !(f.type === FrameType.ENTRY_END && i < 6));
    const e = await caught(chunked(broken));
    expect(e.kind).toBe("stream");
    expect(e.message).toMatch(/entry "f" has content but no ENTRY_END/);
    // An empty file too: its ENTRY_END carries its size and digest, which snapshot -x needs.
    const empty = plainFrames([{ path: "e", data: Buffer.alloc(0) }, { path: "g", data: random("g", 10) }]);
    const e2 = await caught(chunked(empty.filter((f, i) => !(f.type === FrameType.ENTRY_END && i < 4))));
    expect(e2.kind).toBe("stream");
    expect(e2.message).toMatch(/entry "e" is a file with no ENTRY_END before the next ENTRY/);
  });

  it("passes an upstream error on as an upstream error", async () => {
    const plain = plainFrames([{ path: "f", data: random("up", 5000) }]);
    const failed = [...plain.slice(0, 3), { type: FrameType.ERROR, meta: { tool: "cairn-snapshot", kind: "io", message: "disk on fire" } }];
    const e = await caught(chunked(failed));
    expect(e.kind).toBe("upstream");
    expect(e.message).toBe("cairn-snapshot failed: disk on fire");
  });
});

describe("chunk -d stage", () => {
  const files = [{ path: "d/one", data: random("one", 60_000) }, { path: "d/two", data: random("two", 60_000) }];

  it("with idsChecked (an in-process stage checked them already) passes chunks on unchecked; by default checks each", async () => {
    const out = await chunked(plainFrames(files));
    const at = out.findIndex((f) => f.type === FrameType.CHUNK);
    const bad = Buffer.from(out[at].data!);
    bad[ID_SIZE + 3] ^= 1;
    const tampered = out.slice();
    tampered[at] = { type: FrameType.CHUNK, data: bad };
    const trusting: Frame[] = [];
    for await (const f of dechunkStream(fromArray(tampered.map((f) => (f.data ? { ...f, data: Buffer.from(f.data) } : f))), { idKey, idsChecked: true })) trusting.push(f);
    expect(Buffer.from(trusting.find((f) => f.type === FrameType.DATA)!.data!).equals(bad.subarray(ID_SIZE))).toBe(true);
    const e = await caught(
      (async () => {
        for await (const _ of dechunkStream(fromArray(tampered), { idKey })) void _;
      })(),
    );
    expect(e.kind).toBe("integrity");
  });

  it("names the entry and chunk of a corrupted chunk and writes nothing further for that entry", async () => {
    const out = await chunked(plainFrames(files));
    const chunkFrames = out.map((f, i) => [f, i] as const).filter(([f]) => f.type === FrameType.CHUNK);
    const second = out.findIndex((f) => f.type === FrameType.ENTRY && f.meta!.path === "d/two");
    const [victim, at] = chunkFrames.filter(([, i]) => i > second)[1]; // chunk 1 of d/two
    const bad = Buffer.from(victim.data!);
    bad[ID_SIZE + 10] ^= 1;
    const tampered = out.slice();
    tampered[at] = { type: FrameType.CHUNK, data: bad };
    const seen: Frame[] = [];
    const e = await caught(
      (async () => {
        for await (const f of dechunkStream(fromArray(tampered), { idKey })) seen.push(f);
      })(),
    );
    expect(e.kind).toBe("integrity");
    expect(e.exitCode).toBe(13);
    expect(e.message).toMatch(new RegExp(`^chunk 1 \\(id ${bad.subarray(0, 8).toString("hex")}…\\) of entry "d/two" does not match its id`));
    // d/two's chunk 0 went out, chunk 1 did not, nor anything after it.
    expect(seen.at(-1)!.type).toBe(FrameType.DATA);
    expect(seen.filter((f) => f.type === FrameType.DATA).length).toBe(chunkFrames.filter(([, i]) => i < at).length);
  });

  it("refuses every chunk under the wrong id key", async () => {
    const out = await chunked(plainFrames(files));
    const e = await caught(collect(dechunkStream(fromArray(out), { idKey: Buffer.from("not the id key") })));
    expect(e.kind).toBe("integrity");
    expect(e.message).toMatch(/^chunk 0 .* of entry "d\/one" does not match its id: .*id key/);
  });

  it("refuses a reference to a chunk it never saw", async () => {
    const out = await chunked(plainFrames(files));
    const first = out.findIndex((f) => f.type === FrameType.CHUNK);
    const id = out[first].data!.subarray(0, ID_SIZE);
    const ref = Buffer.alloc(ID_SIZE + 4);
    ref.set(id);
    ref.writeUInt32BE(out[first].data!.length - ID_SIZE, ID_SIZE);
    const forged = out.slice();
    forged.splice(first, 1, { type: FrameType.CHUNK_REF, data: ref });
    const e = await caught(collect(dechunkStream(fromArray(forged), { idKey })));
    expect(e.kind).toBe("stream");
    expect(e.message).toMatch(/^chunk 0 \(id [0-9a-f]{16}…\) of entry "d\/one" refers to a chunk that is not in the reference window/);
  });

  it("refuses a plain stream and a stream without END", async () => {
    const e = await caught(collect(dechunkStream(fromArray(plainFrames(files)), { idKey })));
    expect(e.message).toMatch(/chunk -d reads a chunked stream, but this one is "plain"/);
    const out = await chunked(plainFrames(files));
    const e2 = await caught(collect(dechunkStream(fromArray(out.slice(0, -1)), { idKey })));
    expect(e2.kind).toBe("stream");
    expect(e2.message).toMatch(/ended without an END frame/);
  });
});

describe("chunk -d memory", () => {
  // a, b, a again (a reference inside the window), then enough of c to push a and b out.
  async function windowed(): Promise<{ input: Frame[]; owned: Frame[]; payloads: Uint8Array[] }> {
    const [a, b, c] = [random("a", 40_000), random("b", 40_000), random("c", 400_000)];
    const input = plainFrames([{ path: "f", data: Buffer.concat([a, b, a, c]) }]);
    const out = await chunked(input, { params: { min: 4096, avg: 16384, max: 65536 }, refWindow: 100_000 });
    expect(count(out, FrameType.CHUNK_REF)).toBeGreaterThanOrEqual(1); // these inputs do give one
    // Every CHUNK payload in its own buffer, as the cutting thread and unseal deliver them.
    const payloads: Uint8Array[] = [];
    const owned = out.map((f) => {
      if (f.type !== FrameType.CHUNK) return f;
      const data = new Uint8Array(f.data!);
      payloads.push(data);
      return { type: f.type, data };
    });
    return { input, owned, payloads };
  }

  it("lends each chunk's own memory to its DATA frame (no copy), and frees it once the chunk has left the window and its frames are written", async () => {
    const { input, owned, payloads } = await windowed();
    const copies: Frame[] = [];
    let detachedWhileRunning = 0;
    const lentBefore = new Set<ArrayBufferLike>();
    let refsLent = 0;
    // idsChecked, as in a fused restore: no payload travels to the MAC worker (which would detach
    // the caller's view at once), so a payload reads detached here only once this stage freed it.
    for await (const f of dechunkStream(fromArray(owned), { idKey, idsChecked: true })) {
      if (f.type === FrameType.DATA) {
        expect(f.dispose).toBeUndefined();
        const from = payloads.filter((p) => p.buffer === f.data!.buffer);
        expect(from).toHaveLength(1); // a view of the payload itself, past its id
        if (lentBefore.has(f.data!.buffer)) refsLent++; // a CHUNK_REF, resolved from the window
        lentBefore.add(f.data!.buffer);
        copies.push({ type: f.type, data: Buffer.from(f.data!) }); // "written"…
        f.written!(); // …and said so
        detachedWhileRunning = payloads.filter((p) => p.buffer.detached).length;
      } else {
        copies.push(f);
      }
    }
    expect(contents(copies)).toEqual(contents(input));
    // The window holds at most ~100 kB: older payloads were freed while the stream still ran…
    expect(detachedWhileRunning).toBeGreaterThan(payloads.length / 2);
    // …and the rest when it ended.
    expect(payloads.every((p) => p.buffer.detached)).toBe(true);
    // a's second occurrence came from the window: the memory of its first, lent again.
    expect(refsLent).toBeGreaterThanOrEqual(1);
  });

  it("never frees memory a consumer still holds: frames whose written() is not called keep their data after the window lets go", async () => {
    const { input, owned, payloads } = await windowed();
    const held = await collect(dechunkStream(fromArray(owned), { idKey, idsChecked: true }));
    expect(payloads.some((p) => p.buffer.detached)).toBe(false);
    expect(contents(held)).toEqual(contents(input));
    // Written late, in any order, each frame lets its chunk go: all freed once the last is written.
    const data = held.filter((f) => f.type === FrameType.DATA);
    for (const f of data.reverse()) f.written!();
    expect(payloads.every((p) => p.buffer.detached)).toBe(true);
  });

  it("through writeFrames: frees the lent memory only once the bytes are written, and the stream decodes to the input", async () => {
    const { input, owned, payloads } = await windowed();
    const bytes: Buffer[] = [];
    let detachedAtFirstWrite = -1;
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        if (detachedAtFirstWrite < 0) detachedAtFirstWrite = payloads.filter((p) => p.buffer.detached).length;
        bytes.push(Buffer.from(chunk)); // what reached the "pipe", copied before anything is freed
        setImmediate(cb);
      },
    });
    await writeFrames("chunk", dechunkStream(fromArray(owned), { idKey, idsChecked: true }), sink);
    await new Promise<void>((resolve) => sink.end(resolve)); // every write called back
    expect(detachedAtFirstWrite).toBe(0);
    expect(payloads.every((p) => p.buffer.detached)).toBe(true);
    const back = await collect(decodeFrames((async function* () { yield Buffer.concat(bytes); })()));
    expect(contents(back)).toEqual(contents(input));
  });
});

describe("chunk -d over a borrowing decoder (as the CLI reads stdin)", () => {
  // Input that poisons and frees each frame's memory once the decoder is past it: a chunk kept,
  // MACed or written from the input's memory after that would come out wrong.
  for (const idsChecked of [false, true]) {
    it(`writes exactly the input back, references and small chunks included${idsChecked ? " (ids already checked)" : ""}`, async () => {
      const [a, b] = [random("a", 40_000), random("b", 300_000)];
      const files = [
        { path: "d/a", data: Buffer.concat([a, b, a, a, random("c", 100_000)]), piece: 7000 },
        { path: "d/s", data: random("s", 100) },
        { path: "d/t", data: random("s", 100) },
        { path: "d/big", data: Buffer.concat([random("x", 500_000), b]), piece: 65536 },
      ];
      const plain = plainFrames(files);
      const out = await chunked(plain, { params: { min: 1024, avg: 4096, max: 65536 }, refWindow: 200_000 });
      expect(count(out, FrameType.CHUNK_REF)).toBeGreaterThan(0);
      const input = await frameAlignedInput(out);
      const written: Buffer[] = [];
      const sink = new Writable({
        write(chunk: Buffer, _enc, cb) {
          written.push(Buffer.from(chunk));
          setImmediate(cb);
        },
      });
      await writeFrames("chunk -d", dechunkStream(decodeFrames(input, { borrow: true }), { idKey, idsChecked }), sink);
      expect(input.buffers.slice(0, -2).every((b) => b.buffer.detached)).toBe(true); // the input really was freed
      const back = await collect(decodeFrames((async function* () { yield Buffer.concat(written); })()));
      expect(contents(back)).toEqual(contents(plain));
    });
  }

  it("holds at most ~8 MiB of chunks waiting for their MACs, whatever their count", async () => {
    const chunks = Array.from({ length: 12 }, (_, i) => random(`big${i}`, 2 << 20));
    const frames: Frame[] = [
      { type: FrameType.START, meta: { stream: "chunked", host: "h", time: "t", label: "l", tags: [], refWindow: 1 << 20 } },
      { type: FrameType.ENTRY, meta: { kind: "file", path: "f", mode: 0o644, mtime: "0" } },
      // Each payload in a buffer of its own: it moves to the MAC worker (its view here then reads empty).
      ...chunks.map((c) => ({ type: FrameType.CHUNK, data: new Uint8Array(Buffer.concat([chunkId(idKey, c), c])) })),
      { type: FrameType.ENTRY_END, meta: {} },
      { type: FrameType.END, meta: {} },
    ];
    let pulled = 0;
    let pulledAtFirstData = -1;
    const source = (async function* () {
      for (const f of frames) {
        if (f.type === FrameType.CHUNK) pulled++;
        yield f;
      }
    })();
    for await (const f of dechunkStream(source, { idKey })) if (f.type === FrameType.DATA && pulledAtFirstData < 0) pulledAtFirstData = pulled;
    // 8 MiB of 2 MiB chunks: the fifth goes over, so the first is settled before a sixth is read.
    expect(pulledAtFirstData).toBe(5);
  });
});

describe("chunk -d with chunks the window does not keep", () => {
  // Each CHUNK payload in a buffer of its own, as unseal and the MAC worker deliver them.
  const owning = (frames: Frame[]) => frames.map((f) => (f.type === FrameType.CHUNK ? { type: f.type, data: new Uint8Array(f.data!) } : f));

  for (const refWindow of [0, 30_000]) {
    it(`gives the data back when chunks are larger than the window (${refWindow} bytes)`, async () => {
      const input = plainFrames([{ path: "f", data: randomBytes(600_000) }]);
      const out = await chunked(input, { params: { min: 32768, avg: 65536, max: 131072 }, refWindow });
      for (const idsChecked of [true, false]) {
        const back = await collect(dechunkStream(fromArray(owning(out)), { idKey, idsChecked }));
        expect(contents(back)).toEqual(contents(input));
      }
    });
  }

  it("gives the data back when a CHUNK repeats one still in the window", async () => {
    const input = plainFrames([{ path: "f", data: randomBytes(100_000) }]);
    const out = await chunked(input, { params: { min: 4096, avg: 16384, max: 65536 } });
    // The first chunk sent again as data where a reference would do: the window keeps the first.
    const first = out.findIndex((f) => f.type === FrameType.CHUNK);
    const end = out.findIndex((f) => f.type === FrameType.ENTRY_END);
    const repeated = [...out.slice(0, end), out[first], out[end], ...out.slice(end + 1)];
    const back = await collect(dechunkStream(fromArray(owning(repeated)), { idKey, idsChecked: true }));
    const data = Buffer.concat(back.filter((f) => f.type === FrameType.DATA).map((f) => f.data!));
    const firstSize = out[first].data!.length - ID_SIZE;
    expect(data.length).toBe(100_000 + firstSize);
    expect(Buffer.compare(data.subarray(100_000), data.subarray(0, firstSize))).toBe(0);
  });
});
