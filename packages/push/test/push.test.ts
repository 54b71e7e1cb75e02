import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CairnError } from "@cairn/errors";
import { FrameType, decodeFrames, encodeFrames, type Frame } from "@cairn/protocol";
import { openStorage, type Storage } from "@cairn/storage";
import {
  INDEX_PREFIX,
  LocalCache,
  PACKS_PREFIX,
  SNAPSHOTS_PREFIX,
  createConfig,
  decodeKnown,
  listSnapshots,
  loadIndex,
  markKey,
  newConfig,
  packKey,
  PackBuilder,
  encodeIndexFile,
  parseTrailer,
} from "@cairn/repository";
import { readFileSync } from "node:fs";
import { openSnapshot, pullRaw, referencedPositions } from "@cairn/pull";
import { push } from "../src/index.js";
import { prune } from "@cairn/prune";
import { fixtureFrames, fixtureSnapshot, randomChunks, type FixtureSnapshot } from "../../../test/helpers/sealed-fixture.js";

const KEYSET = "11".repeat(32);
const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "cairn-push-"));
  dirs.push(d);
  return d;
}

async function newRepo(opts: { packSize?: number } = {}): Promise<Storage> {
  const storage = await openStorage(`file://${tmp()}/repo`);
  await createConfig(storage, newConfig({ keyset: KEYSET, packSize: opts.packSize ?? 64 * 1024 }));
  return storage;
}

async function* frames(gen: Iterable<Frame>): AsyncGenerator<Frame> {
  yield* gen;
}

/** Runs frames through the real encoder and decoder, as a pipe would carry them. */
async function* overPipe(gen: Iterable<Frame>): AsyncGenerator<Frame> {
  yield* decodeFrames(encodeFrames(gen));
}

async function keys(storage: Storage, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of storage.list(prefix)) out.push(o.key);
  return out;
}

async function pullAll(storage: Storage, selector: string): Promise<Map<string, string>> {
  const cache = tmp();
  const opened = await openSnapshot(storage, selector, { cache });
  const got = new Map<string, string>();
  for await (const f of pullRaw(storage, opened)) {
    if (f.type === 0x30) got.set(Buffer.from(f.data!.subarray(1, 33)).toString("hex"), Buffer.from(f.data!.subarray(33)).toString("hex"));
  }
  return got;
}

function objectsOf(s: FixtureSnapshot): Map<string, string> {
  return new Map(s.objects.map((o) => [Buffer.from(o.id).toString("hex"), Buffer.from(o.bytes).toString("hex")]));
}

describe("push", () => {
  it("commits a snapshot whose every object comes back from pull --raw", async () => {
    const repo = await newRepo();
    const snap = fixtureSnapshot(randomChunks(40, 5000), { keyset: KEYSET });
    const r = await push(overPipe(fixtureFrames(snap)), [repo], { cache: tmp() });
    expect(r.exitCode).toBe(0);
    const [t] = r.targets;
    expect(t.snapshot).toMatch(/^[0-9a-f]{64}$/);
    expect(t.newObjects).toBe(snap.objects.length);
    expect(t.packs).toBeGreaterThan(1); // 200 KB in 64 KiB packs
    expect(await keys(repo, SNAPSHOTS_PREFIX)).toEqual([`snapshots/${t.snapshot}`]);
    expect(await pullAll(repo, "latest")).toEqual(objectsOf(snap));
  });

  it("keeps at most --jobs pack uploads in flight (memory: each holds a whole pack), and uses them all", async () => {
    for (const jobs of [1, 3]) {
      const repo = await newRepo();
      let now = 0;
      let most = 0;
      const put = repo.put.bind(repo);
      repo.put = async (key, body, opts) => {
        if (!key.startsWith(PACKS_PREFIX)) return put(key, body, opts);
        most = Math.max(most, ++now);
        try {
          await new Promise((r) => setTimeout(r, 30)); // a slow store: uploads overlap if they may
          return await put(key, body, opts);
        } finally {
          now--;
        }
      };
      const r = await push(overPipe(fixtureFrames(fixtureSnapshot(randomChunks(60, 5000), { keyset: KEYSET }))), [repo], { cache: tmp(), jobs });
      expect(r.exitCode).toBe(0);
      expect(r.targets[0].packs).toBeGreaterThan(3); // 300 KB in 64 KiB packs
      expect(most).toBe(jobs);
    }
  });

  it("uploads only what the repository lacks the second time", async () => {
    const repo = await newRepo();
    const chunks = randomChunks(30, 4000);
    const first = fixtureSnapshot(chunks, { keyset: KEYSET, time: "2026-11-01T00:00:00Z" });
    await push(frames(fixtureFrames(first)), [repo], { cache: tmp() });
    const second = fixtureSnapshot([...chunks, ...randomChunks(2, 4000)], { keyset: KEYSET, time: "2026-11-02T00:00:00Z" });
    const r = await push(frames(fixtureFrames(second)), [repo], { cache: tmp() });
    // 2 new data chunks + a new manifest chunk, root, refs block and refs root
    expect(r.targets[0].newObjects).toBe(6);
    expect(r.targets[0].reusedObjects).toBe(30);
    expect(await pullAll(repo, "2026-11-01")).toEqual(objectsOf(first));
    expect(await pullAll(repo, "latest")).toEqual(objectsOf(second));
  });

  it("refuses a stale known file: a reference the repository does not hold commits nothing", async () => {
    const repo = await newRepo();
    const snap = fixtureSnapshot(randomChunks(5, 1000), { keyset: KEYSET });
    const known = new Set([Buffer.from(snap.objects[1].id).toString("hex")]);
    const err = await push(frames(fixtureFrames(snap, { known })), [repo], { cache: tmp() }).catch((e) => e);
    expect(err).toBeInstanceOf(CairnError);
    expect(err.kind).toBe("staleKnown");
    expect(err.message).toMatch(/does not hold data chunk [0-9a-f]{64}/);
    expect(await keys(repo, SNAPSHOTS_PREFIX)).toEqual([]);
  });

  it("refuses a refs block whose bytes do not hash to its id (no key needed to tell): nothing committed", async () => {
    const repo = await newRepo();
    const snap = fixtureSnapshot(randomChunks(3, 1000), { keyset: KEYSET });
    const damaged = [...fixtureFrames(snap)].map((f) => {
      if (f.type !== FrameType.SEALED || f.data![0] !== 4) return f; // 4: a refs block
      const data = Uint8Array.from(f.data!);
      data[data.length - 1] ^= 1;
      return { ...f, data };
    });
    const err = await push(frames(damaged), [repo], { cache: false }).catch((e) => e);
    expect(err.kind).toBe("stream");
    expect(err.message).toMatch(/^refs block [0-9a-f]{64} in the stream is damaged: its bytes do not hash to its id; nothing committed$/);
    expect(await keys(repo, SNAPSHOTS_PREFIX)).toEqual([]);
  });

  it("refuses a stream sealed for another key set", async () => {
    const repo = await newRepo();
    const snap = fixtureSnapshot(randomChunks(3, 1000), { keyset: "22".repeat(32) });
    const err = await push(frames(fixtureFrames(snap)), [repo], { cache: tmp() }).catch((e) => e);
    expect(err.kind).toBe("key");
    expect(err.message).toMatch(/sealed for key set 2222.*belongs to key set 1111/);
    expect(await keys(repo, PACKS_PREFIX)).toEqual([]);
  });

  it("refuses a COMMIT without a valid time, which no reader could list: nothing committed, exit 10", async () => {
    const repo = await newRepo();
    const snap = fixtureSnapshot(randomChunks(3, 1000), { keyset: KEYSET });
    const timeless = [...fixtureFrames(snap)].map((f): Frame => {
      if (f.type !== FrameType.COMMIT) return f;
      const { time: _time, ...meta } = f.meta!;
      return { type: f.type, meta };
    });
    const err = await push(overPipe(timeless), [repo], { cache: tmp() }).catch((e) => e);
    expect(err).toBeInstanceOf(CairnError);
    expect(err.kind).toBe("stream");
    expect(err.exitCode).toBe(10);
    expect(err.message).toBe("the stream's COMMIT: no valid time");
    expect(await keys(repo, SNAPSHOTS_PREFIX)).toEqual([]);
  });

  it("commits nothing when the stream ends without END, and a re-run reuses the packs that finished", async () => {
    const repo = await newRepo({ packSize: 16 * 1024 });
    const snap = fixtureSnapshot(randomChunks(40, 4000), { keyset: KEYSET });
    const all = [...fixtureFrames(snap)];
    const cut = all.slice(0, 31); // START and 30 objects, the last one cut short, then EOF
    const whole = Buffer.concat(await Array.fromAsync(encodeFrames(cut)));
    const bytes = [whole.subarray(0, whole.length - 100)];
    const err = await push(decodeFrames((async function* () { yield* bytes; })()), [repo], { cache: tmp() }).catch((e) => e);
    expect(err.kind).toBe("stream");
    expect(await keys(repo, SNAPSHOTS_PREFIX)).toEqual([]);
    const packsBefore = (await keys(repo, PACKS_PREFIX)).length;
    expect(packsBefore).toBeGreaterThanOrEqual(3);
    const r = await push(frames(fixtureFrames(snap)), [repo], { cache: tmp() });
    expect(r.exitCode).toBe(0);
    expect(r.targets[0].reusedObjects).toBeGreaterThanOrEqual(packsBefore * 4);
    expect(await pullAll(repo, "latest")).toEqual(objectsOf(snap));
  });

  it("indexes a finished pack whose index file is missing instead of uploading its objects again", async () => {
    const repo = await newRepo({ packSize: 16 * 1024 });
    const chunks = randomChunks(20, 4000);
    await push(frames(fixtureFrames(fixtureSnapshot(chunks, { keyset: KEYSET }))), [repo], { cache: false });
    for (const k of await keys(repo, INDEX_PREFIX)) await repo.delete(k);
    const r = await push(frames(fixtureFrames(fixtureSnapshot(chunks, { keyset: KEYSET, label: "again" }))), [repo], { cache: false });
    expect(r.targets[0].newObjects).toBe(0);
    expect(r.targets[0].reusedObjects).toBe(24);
  });

  it("exits 3 when upstream reported partial files and 4 when completeness is unverified, committing both", async () => {
    const repo = await newRepo();
    const partial = await push(frames(fixtureFrames(fixtureSnapshot(randomChunks(2, 100), { keyset: KEYSET, partial: 1 }))), [repo], { cache: false });
    expect(partial.exitCode).toBe(3);
    const unverified = await push(frames(fixtureFrames(fixtureSnapshot(randomChunks(2, 100), { keyset: KEYSET, unverified: true }))), [repo], { cache: false });
    expect(unverified.exitCode).toBe(4);
    expect((await keys(repo, SNAPSHOTS_PREFIX)).length).toBe(2);
  });

  it("commits to every repository, and one failing repository leaves the others committed", async () => {
    const a = await newRepo();
    const b = await newRepo();
    const broken = await openStorage(`file://${tmp()}/not-a-repo`);
    const snap = fixtureSnapshot(randomChunks(10, 2000), { keyset: KEYSET });
    const knownOut = join(tmp(), "known");
    const r = await push(frames(fixtureFrames(snap)), [a, broken, b], { cache: false, knownOut });
    expect(r.exitCode).toBe(15);
    expect(r.targets.map((t) => Boolean(t.snapshot))).toEqual([true, false, true]);
    expect(r.targets[1].error?.message).toMatch(/no cairn repository/);
    expect(r.targets[0].snapshot).toBe(r.targets[2].snapshot);
    expect(await pullAll(a, "latest")).toEqual(objectsOf(snap));
    expect(await pullAll(b, "latest")).toEqual(objectsOf(snap));
    // What all targets hold: the broken one holds nothing.
    expect(decodeKnown(new Uint8Array(readFileSync(knownOut))).length).toBe(0);
  });

  it("writes a known file that lets the next push send references only", async () => {
    const a = await newRepo();
    const b = await newRepo();
    const chunks = randomChunks(10, 2000);
    const knownOut = join(tmp(), "known");
    await push(frames(fixtureFrames(fixtureSnapshot(chunks, { keyset: KEYSET }))), [a, b], { cache: false, knownOut });
    const ids = decodeKnown(new Uint8Array(readFileSync(knownOut)));
    expect(ids.length / 32).toBe(14);
    const known = new Set<string>();
    for (let i = 0; i < ids.length; i += 32) known.add(Buffer.from(ids.subarray(i, i + 32)).toString("hex"));
    const next = fixtureSnapshot([...chunks, ...randomChunks(1, 2000)], { keyset: KEYSET, label: "next" });
    const r = await push(frames(fixtureFrames(next, { known })), [a, b], { cache: false });
    expect(r.exitCode).toBe(0);
    expect(r.targets.map((t) => t.newObjects)).toEqual([5, 5]);
  });

  it("does not commit a snapshot that reuses a pack prune marked for deletion meanwhile", async () => {
    const repo = await newRepo();
    const chunks = randomChunks(5, 1000);
    await push(frames(fixtureFrames(fixtureSnapshot(chunks, { keyset: KEYSET }))), [repo], { cache: false });
    const [pack] = (await keys(repo, PACKS_PREFIX)).map((k) => k.split("/").pop()!);
    async function* markWhileStreaming(): AsyncGenerator<Frame> {
      let n = 0;
      for (const f of fixtureFrames(fixtureSnapshot(chunks, { keyset: KEYSET, label: "later" }))) {
        if (n++ === 3) await repo.put(markKey(pack), new Uint8Array(0));
        yield f;
      }
    }
    const err = await push(markWhileStreaming(), [repo], { cache: false }).catch((e) => e);
    expect(err.kind).toBe("staleKnown");
    expect(err.message).toMatch(/marked for deletion/);
    expect((await keys(repo, SNAPSHOTS_PREFIX)).length).toBe(1);
    // With the mark in place from the start, its objects count as absent and are uploaded again.
    const r = await push(frames(fixtureFrames(fixtureSnapshot(chunks, { keyset: KEYSET, label: "after" }))), [repo], { cache: false });
    expect(r.exitCode).toBe(0);
    expect(r.targets[0].newObjects).toBeGreaterThanOrEqual(5);
  });

  it("but commits one whose reused pack got marked while another unmarked pack holds every object of it (a later copy prune collects)", async () => {
    const repo = await newRepo();
    const chunks = randomChunks(5, 1000);
    await push(frames(fixtureFrames(fixtureSnapshot(chunks, { keyset: KEYSET }))), [repo], { cache: false });
    // A second pack with the same objects in another order: what two hosts pushing the same new data at once leave.
    const [pack] = (await keys(repo, PACKS_PREFIX)).map((k) => k.split("/").pop()!);
    const bytes = await repo.get(packKey(pack));
    const builder = new PackBuilder();
    for (const e of [...parseTrailer(bytes, bytes.length, pack)].reverse()) builder.add(e.kind, e.id, bytes.subarray(e.offset, e.offset + e.length));
    const copy = builder.finish();
    await repo.put(packKey(copy.id), copy.bytes);
    const index = encodeIndexFile([{ id: copy.id, size: copy.bytes.length, entries: copy.entries }]);
    await repo.put(`${INDEX_PREFIX}${index.id}`, index.bytes);
    // The copy the push will take is marked while it streams; the other stays.
    const { table } = await loadIndex(repo, new LocalCache(undefined));
    const taken = table.packIdAt(table.packs[table.find(table.idAt(0))]);
    async function* markWhileStreaming(): AsyncGenerator<Frame> {
      let n = 0;
      for (const f of fixtureFrames(fixtureSnapshot(chunks, { keyset: KEYSET, label: "later" }))) {
        if (n++ === 3) await repo.put(markKey(taken), new Uint8Array(0));
        yield f;
      }
    }
    const r = await push(markWhileStreaming(), [repo], { cache: false });
    expect(r.exitCode).toBe(0);
    expect((await pullAll(repo, r.targets[0].snapshot!)).size).toBeGreaterThan(0);
  });

  it("nor one that reuses a pack prune deleted meanwhile, mark and all (a push that outlived three prunes)", async () => {
    const repo = await newRepo();
    const chunks = randomChunks(5, 1000);
    const first = await push(frames(fixtureFrames(fixtureSnapshot(chunks, { keyset: KEYSET }))), [repo], { cache: false });
    const firstId = first.targets[0].snapshot!;
    const [pack] = (await keys(repo, PACKS_PREFIX)).map((k) => k.split("/").pop()!);
    const collect = () => prune(repo, { policy: {}, groupBy: [], pinned: new Set(), remove: new Set([firstId]), graceMs: 0, cache: false });
    async function* pruneWhileStreaming(): AsyncGenerator<Frame> {
      let n = 0;
      for (const f of fixtureFrames(fixtureSnapshot(chunks, { keyset: KEYSET, label: "later" }))) {
        if (n++ === 3) {
          // The first snapshot goes; its pack is marked, deleted, and its mark dropped.
          await collect();
          await collect();
          await collect();
          expect(await keys(repo, PACKS_PREFIX)).toEqual([]);
          expect(await keys(repo, "marks/")).toEqual([]);
        }
        yield f;
      }
    }
    const err = await push(pruneWhileStreaming(), [repo], { cache: false }).catch((e) => e);
    expect(err.kind).toBe("staleKnown");
    expect(err.message).toBe(`pack ${pack}, which this snapshot reuses, was marked for deletion (or deleted) by prune while the push ran; nothing committed, run the backup again`);
    expect(await keys(repo, SNAPSHOTS_PREFIX)).toEqual([]);
  });

  it("takes the mark off a pack marked before it began that it wrote again, so readers see the snapshot whole", async () => {
    const repo = await newRepo({ packSize: 2048 });
    const snap = fixtureSnapshot(randomChunks(6, 1000), { keyset: KEYSET });
    const firstId = (await push(frames(fixtureFrames(snap)), [repo], { cache: false })).targets[0].snapshot!;
    await prune(repo, { policy: {}, groupBy: [], pinned: new Set(), remove: new Set([firstId]), graceMs: 0, cache: false });
    expect((await keys(repo, "marks/")).length).toBeGreaterThan(1);
    const again = await push(frames(fixtureFrames(snap)), [repo], { cache: false });
    expect(again.exitCode).toBe(0);
    expect(await keys(repo, "marks/")).toEqual([]);
    expect((await pullAll(repo, again.targets[0].snapshot!)).size).toBeGreaterThan(0);
  });

  it("nor one that wrote again a pack marked before it began, if prune deleted that pack meanwhile", async () => {
    const repo = await newRepo({ packSize: 2048 });
    const snap = fixtureSnapshot(randomChunks(6, 1000), { keyset: KEYSET });
    const first = await push(frames(fixtureFrames(snap)), [repo], { cache: false });
    const firstId = first.targets[0].snapshot!;
    const collect = () => prune(repo, { policy: {}, groupBy: [], pinned: new Set(), remove: new Set([firstId]), graceMs: 0, cache: false });
    await collect(); // the snapshot goes, its packs are marked
    const marked = await keys(repo, "marks/");
    expect(marked.length).toBeGreaterThan(1);
    // The same stream again (a retried replication): its packs are the marked ones, byte for byte.
    const all = [...fixtureFrames(snap)];
    async function* pruneBeforeEnd(): AsyncGenerator<Frame> {
      for (const f of all) {
        if (f.type === FrameType.END) await collect(); // deletes the marked packs, written again or not
        yield f;
      }
    }
    const err = await push(pruneBeforeEnd(), [repo], { cache: false }).catch((e) => e);
    expect(err.kind, String(err)).toBe("staleKnown");
    expect(err.message).toMatch(/^pack [0-9a-f]{64}, which this snapshot wrote, was marked for deletion \(or deleted\) by prune while the push ran/);
    expect(await keys(repo, SNAPSHOTS_PREFIX)).toEqual([]);
  });

  it("lets several pushes run at once into one repository, every snapshot whole afterwards", async () => {
    const repo = await newRepo({ packSize: 8 * 1024 });
    const shared = randomChunks(20, 3000);
    const snaps = Array.from({ length: 5 }, (_, i) => fixtureSnapshot([...shared, ...randomChunks(5, 3000)], { keyset: KEYSET, host: `h${i}` }));
    const results = await Promise.all(snaps.map((s) => push(overPipe(fixtureFrames(s)), [repo], { cache: false, jobs: 2 })));
    expect(results.every((r) => r.exitCode === 0)).toBe(true);
    const cache = new LocalCache(undefined);
    const { table } = await loadIndex(repo, cache);
    const all = await listSnapshots(repo, cache);
    expect(all.length).toBe(5);
    for (const s of all) {
      const positions = await referencedPositions(repo, table, s);
      expect(positions.length).toBe(29); // 25 data chunks, manifest chunk and root, refs block and root
    }
  });

  it("names the missing pack when pull meets one", async () => {
    const repo = await newRepo();
    await push(frames(fixtureFrames(fixtureSnapshot(randomChunks(3, 1000), { keyset: KEYSET }))), [repo], { cache: false });
    const [pack] = await keys(repo, PACKS_PREFIX);
    await repo.delete(pack);
    const err = await pullAll(repo, "latest").catch((e) => e);
    expect(err.kind).toBe("notFound");
    expect(err.message).toMatch(/pack [0-9a-f]{64} is missing from the repository/);
  });
});

void writeFileSync;
void packKey;

describe("push and deletion marks", () => {
  it("notices a reused pack marked while it ran, also after re-reading the index for a late reference", async () => {
    const storage = await openStorage(`file://${mkdtempSync(join(tmpdir(), "cairn-push-"))}/repo`);
    dirs.push(storage.url.replace("file://", "").replace(/\/repo$/, ""));
    await createConfig(storage, newConfig({ keyset: KEYSET, packSize: 64 * 1024 }));
    const chunks = randomChunks(5, 1000);
    const first = fixtureSnapshot(chunks, { keyset: KEYSET });
    await push(frames(fixtureFrames(first)), [storage], { cache: false });
    const [pack] = (await keys(storage, PACKS_PREFIX)).map((k) => k.split("/").pop()!);
    // The next snapshot reuses the first's chunks (dropped as present), then refers to an object
    // the first push stored: that reference makes push re-read the index, after prune's mark.
    const extra = fixtureSnapshot(randomChunks(1, 1000), { keyset: KEYSET, label: "extra" });
    const next = fixtureSnapshot([...chunks, ...extra.objects.slice(1, 2).map((o) => o.bytes)], { keyset: KEYSET, label: "next" });
    const lateRef = new Set([Buffer.from(extra.objects[1].id).toString("hex")]);
    async function* markThenRefer(): AsyncGenerator<Frame> {
      let n = 0;
      for (const f of fixtureFrames(next, { known: lateRef })) {
        if (n++ === 6) {
          // Meanwhile another host commits `extra`, and prune marks the first pack.
          await push(frames(fixtureFrames(extra)), [storage], { cache: false });
          await storage.put(markKey(pack), new Uint8Array(0));
        }
        yield f;
      }
    }
    const err = await push(markThenRefer(), [storage], { cache: false }).catch((e) => e);
    expect(err.kind).toBe("staleKnown");
    expect(err.message).toContain(pack);
    expect((await keys(storage, SNAPSHOTS_PREFIX)).length).toBe(2);
  });
});
