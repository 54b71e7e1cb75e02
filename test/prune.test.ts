// cairn prune and cairn forget on a small real repository (two snapshots A and B, small packs; B
// shares A's big file): retention removes A, garbage collection (marks, then deletion after the
// grace period) removes only what A alone needed, and `cairn verify --read-data` plus a restore
// test of B prove nothing B needs was lost, also on repositories damaged in the ways a disk or an
// attacker can. Untrusted and future-dated snapshots are reported, not counted, never removed.
import { createHash, randomBytes } from "node:crypto";
import { readdirSync, statSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INDEX_PREFIX, MARKS_PREFIX, ObjectKind, PACKS_PREFIX, PackBuilder, SNAPSHOTS_PREFIX, encodeIndexFile, indexKey, packKey } from "@cairn/repository";
import { openStorage, type Storage } from "@cairn/storage";
import { cairnA, shA } from "./helpers/async-cli.js";
import { PACK_SIZE, addPack, buildFixture, copyRepo, dataPackOfB, flipByte, keys, plantChunkCopies, plantShadowPack, trailer, plantSnapshot, readSnapshot, resign, signByStranger, swap, truncate, type Fixture } from "./helpers/damage.js";

let f: Fixture;
beforeAll(async () => {
  f = await buildFixture();
});
afterAll(() => f?.cleanup());

async function copy(name: string): Promise<{ url: string; storage: Storage }> {
  const url = `file://${copyRepo(f, name)}`;
  return { url, storage: await openStorage(url) };
}

async function prune(url: string, ...flags: string[]) {
  const r = await cairnA(["prune", url, "--json", ...flags], { env: f.env, cwd: f.dir });
  let report: any;
  try {
    report = JSON.parse(r.stdout.toString());
  } catch {
    report = undefined;
  }
  return { status: r.status, report, stderr: r.stderr };
}

/** prune twice with no grace: the first run marks, the second deletes. */
async function pruneFully(url: string, ...flags: string[]) {
  const first = await prune(url, "--grace", "0s", ...flags);
  const second = await prune(url, "--grace", "0s", ...flags);
  return { first, second };
}

async function verify(url: string, ...flags: string[]) {
  const r = await cairnA(["verify", url, "--json", "--no-cache", ...flags], { env: f.env, cwd: f.dir });
  return { status: r.status, report: JSON.parse(r.stdout.toString()) };
}

/** What verify says is wrong with snapshot B (objects named), keyless with --read-data. */
async function problemsOfB(url: string): Promise<string[]> {
  const { report } = await verify(url, "--read-data");
  return report.problems
    .filter((p: any) => p.snapshots.includes(f.snapB) || p.kind === "index" || p.kind === "pack")
    .map((p: any) => p.object)
    .sort();
}

/** Moves the LastModified of everything in a folder store back by `ms` (as if that much time had passed). */
function age(dir: string, ms: number): void {
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    const t = (statSync(path).mtimeMs - ms) / 1000;
    utimesSync(path, t, t);
  }
}

/** Dates one pack of a folder store (ms since the epoch). */
function datePack(dir: string, id: string, ms: number): void {
  utimesSync(join(dir, packKey(id)), ms / 1000, ms / 1000);
}

async function everything(storage: Storage): Promise<string[]> {
  const out: string[] = [];
  for await (const o of storage.list("")) out.push(`${o.key} ${o.size}`);
  return out;
}

describe.concurrent("cairn prune and forget", () => {
  it("--keep-last 1 removes A, then only what A alone needed: B verifies with --read-data and restores", async () => {
    const { url, storage } = await copy("keep-last");
    const { first, second } = await pruneFully(url, "--keep-last", "1");
    expect(first.status).toBe(0);
    expect(first.report.removed).toEqual([f.snapA]);
    expect(first.report.snapshots.find((s: any) => s.id === f.snapB)).toMatchObject({ action: "keep", reasons: ["last 1"] });
    expect(first.report.gc.marked.length).toBeGreaterThan(0);
    expect(first.report.gc.deleted).toEqual([]);
    expect(second.status).toBe(0);
    expect(second.report.gc.deleted.sort()).toEqual([...first.report.gc.marked].sort());
    for (const p of second.report.gc.deleted) expect(f.packsA).toContain(p); // only packs A's push wrote
    expect((await keys(storage, MARKS_PREFIX)).sort()).toEqual([...second.report.gc.deleted].sort()); // until a later run
    await prune(url, "--grace", "0s", "--keep-last", "1");
    expect(await keys(storage, MARKS_PREFIX)).toEqual([]);
    expect(await keys(storage, SNAPSHOTS_PREFIX)).toEqual([f.snapB]);
    const v = await verify(url, "--read-data", "-i", "owner.key", "--restore-test", f.snapB);
    expect(v.report.problems).toEqual([]);
    expect(v.status).toBe(0);
    expect(v.report.stats.filesRestored).toBe(3);
  });

  it("--dry-run prints what would go and why each snapshot stays, and changes nothing", async () => {
    const { url, storage } = await copy("dry-run");
    await prune(url, "--grace", "0s", "--keep-last", "1"); // leaves marks, so a dry run has deletions to show
    const before = await everything(storage);
    const r = await cairnA(["prune", url, "--dry-run", "--grace", "0s", "--keep-daily", "1"], { env: f.env, cwd: f.dir });
    expect(r.status).toBe(0);
    expect(r.stdout.toString()).toMatch(new RegExp(`keep +${f.snapB.slice(0, 12)} .*\\(daily \\d{4}-\\d{2}-\\d{2}\\)`));
    expect(r.stdout.toString()).toMatch(/would delete [1-9]\d* /);
    expect(await everything(storage)).toEqual(before);
  });

  it("untrusted, forged and future-dated snapshots are reported, not counted for --keep-last, never removed", async () => {
    const { url, storage } = await copy("untrusted");
    const b = (await readSnapshot(storage, f.snapB)).commit;
    const later = new Date(Date.parse(b.time) + 60_000).toISOString();
    const stranger = await plantSnapshot(storage, signByStranger({ ...b, time: later }));
    const forged = await plantSnapshot(storage, { ...b, time: later, host: "elsewhere" });
    const future = await plantSnapshot(storage, await resign(f, { ...b, time: "2099-01-01T00:00:00.000Z" }));
    const { first, second } = await pruneFully(url, "--keep-last", "1");
    expect(first.status).toBe(0);
    const line = (id: string) => first.report.snapshots.find((s: any) => s.id === id);
    expect(line(stranger)).toMatchObject({ standing: "unsigned", action: "report" });
    expect(line(forged)).toMatchObject({ standing: "forged", action: "report" });
    expect(line(future)).toMatchObject({ standing: "future", action: "report" });
    expect(line(f.snapB)).toMatchObject({ action: "keep", reasons: ["last 1"] }); // the real newest stays newest
    expect(first.report.removed).toEqual([f.snapA]);
    expect(second.status).toBe(0);
    expect((await keys(storage, SNAPSHOTS_PREFIX)).sort()).toEqual([f.snapB, stranger, forged, future].sort());
    const v = await verify(url, "-i", "owner.key", "--restore-test", f.snapB);
    expect(v.report.problems.filter((p: any) => p.snapshots.includes(f.snapB))).toEqual([]);
    expect(v.report.stats.filesRestored).toBe(3);
    // The human report says why each one was left alone.
    const text = await cairnA(["prune", url, "--dry-run", "--keep-last", "1"], { env: f.env, cwd: f.dir });
    expect(text.stdout.toString()).toMatch(new RegExp(`ignored ${future.slice(0, 12)} .*future: dated 2099`));
    expect(text.stdout.toString()).toMatch(new RegExp(`ignored ${stranger.slice(0, 12)} .*unsigned: .*not pinned`));
  });

  it("refuses a rule that keeps nothing (--keep-last 0, --keep-within 0s), which alone would remove every snapshot", async () => {
    const { url, storage } = await copy("keep-zero");
    for (const rule of [["--keep-last", "0"], ["--keep-daily", "0"], ["--keep-within", "0s"]]) {
      const r = await cairnA(["prune", url, ...rule], { env: f.env, cwd: f.dir });
      expect(r.status, rule.join(" ")).toBe(2);
      expect(r.stderr).toMatch(/keeps nothing by that rule/);
    }
    expect((await keys(storage, SNAPSHOTS_PREFIX)).sort()).toEqual([f.snapA, f.snapB].sort());
  });

  it("forget removes named snapshots by unique prefix; --prune collects their garbage; bad names exit 2 or 15", async () => {
    const { url, storage } = await copy("forget");
    expect((await cairnA(["forget", url, "zz"], { env: f.env })).status).toBe(2);
    const none = await cairnA(["forget", url, "0000000000"], { env: f.env });
    expect(none.status).toBe(15);
    expect(none.stderr).toMatch(/^cairn-forget: no snapshot with id 0000000000\n$/);
    const r = await cairnA(["forget", url, f.snapA.slice(0, 8), "--json"], { env: f.env });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout.toString()).removed).toEqual([f.snapA]);
    expect(await keys(storage, SNAPSHOTS_PREFIX)).toEqual([f.snapB]);
    await cairnA(["forget", url, f.snapB.slice(0, 8), "--dry-run"], { env: f.env });
    expect(await keys(storage, SNAPSHOTS_PREFIX)).toEqual([f.snapB]);
    const packsBefore = (await keys(storage, PACKS_PREFIX)).length;
    const { first, second } = await pruneFully(url);
    expect([first.status, second.status], `${first.stderr}${second.stderr}`).toEqual([0, 0]);
    expect((await keys(storage, PACKS_PREFIX)).length, JSON.stringify([first.report.gc, second.report.gc])).toBeLessThan(packsBefore);
    expect((await verify(url, "--read-data")).status).toBe(0);
  });

  it("bad flags, a missing repository and a bad trust file: one line each, documented exit codes", async () => {
    const cases: [string[], number, RegExp][] = [
      [["--keep-last", "x"], 2, /--keep-last needs a whole number ≥ 1, got x/],
      [["--keep-within", "30"], 2, /--keep-within needs a duration like 90s, 20min, 12h, 30d/],
      [["--group-by", "path"], 2, /--group-by takes host, label and tags, got path/],
      [["--grace", "soon"], 2, /--grace needs a duration/],
    ];
    for (const [flags, code, message] of cases) {
      const r = await cairnA(["prune", `file://${f.repo}`, "--dry-run", ...flags], { env: f.env });
      expect(r.status).toBe(code);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
    const missing = await cairnA(["prune", `file://${f.dir}/no-such-repo`, "--keep-last", "1"], { env: f.env });
    expect(missing.status).toBe(15);
    expect(missing.stderr).toMatch(/^cairn-prune: no cairn repository at .*no-such-repo.*\n$/);
    const badTrust = await cairnA(["prune", `file://${f.repo}`, "--dry-run", "--writers", join(f.dir, "owner.key")], { env: f.env });
    expect(badTrust.status).toBe(14);
    expect(badTrust.stderr).toMatch(/^cairn-prune: trusted writers file .* line \d+: not a hex Ed25519 public key\n$/);
  });

  it("repacks a partly-garbage pack: live objects copied into a new pack, the old one marked, then deleted; B intact", async () => {
    const { url, storage } = await copy("repack");
    // C: B's tree with one small file changed, so B's packs (onlyB.bin, still used) also hold
    // garbage once A and B go (B's conf.txt, manifest and refs).
    const c = await shA(`rm -rf data-c && cp -r data data-c && echo "version = 3" > data-c/conf.txt && cairn backup -k writer.key --pack-size ${PACK_SIZE} --label data --json ${url} data-c`, { env: f.env, cwd: f.dir });
    expect(c.status, c.stderr).toBe(0);
    const snapC = JSON.parse(c.stdout.toString()).targets[0].snapshot;
    const { first, second } = await pruneFully(url, "--keep-last", "1", "--repack-threshold", "0.01");
    expect(first.report.removed.sort()).toEqual([f.snapA, f.snapB].sort());
    expect(first.status).toBe(0);
    expect(first.report.gc.repacked.length).toBeGreaterThan(0);
    expect(first.report.gc.repackedInto.length).toBeGreaterThan(0);
    for (const p of first.report.gc.repacked) expect(first.report.gc.marked).toContain(p);
    for (const p of first.report.gc.repackedInto) expect(await storage.head(packKey(p))).toBeDefined();
    expect(second.status).toBe(0);
    for (const p of first.report.gc.repacked) expect(second.report.gc.deleted).toContain(p);
    const v = await verify(url, "--read-data", "-i", "owner.key", "--restore-test", snapC);
    expect(v.report.problems).toEqual([]);
    expect(v.report.stats.filesRestored).toBe(3);
  });

  it("a repack copies objects where the pack's trailer says: an index file planted to list them elsewhere stops it for that pack (22), and no id gets other bytes", async () => {
    const { url, storage } = await copy("repack-planted-offsets");
    const c = await shA(`rm -rf data-d && cp -r data data-d && echo "version = 4" > data-d/conf.txt && cairn backup -k writer.key --pack-size ${PACK_SIZE} --label data --json ${url} data-d`, { env: f.env, cwd: f.dir });
    expect(c.status, c.stderr).toBe(0);
    const snapD = JSON.parse(c.stdout.toString()).targets[0].snapshot;
    // Every pack listed again as its trailer says, but in each pack the first two data chunks
    // swap places (offset and length): an index file claims what a pack holds, its trailer is the pack's own.
    const packs = [];
    for (const id of await keys(storage, PACKS_PREFIX)) {
      const entries = (await trailer(storage, id)).map((e) => ({ ...e }));
      const data = entries.filter((e) => e.kind === ObjectKind.data);
      if (data.length >= 2) [data[0].offset, data[0].length, data[1].offset, data[1].length] = [data[1].offset, data[1].length, data[0].offset, data[0].length];
      packs.push({ id, size: (await storage.head(packKey(id)))!.size, entries });
    }
    const first = (await keys(storage, INDEX_PREFIX)).sort()[0];
    // Named to sort before the real index files (the pack order changes the name), so its listing is the one kept.
    let planted = encodeIndexFile(packs);
    while (planted.id > first) planted = encodeIndexFile(packs.sort(() => Math.random() - 0.5));
    await storage.put(indexKey(planted.id), planted.bytes);
    const packsBefore = (await keys(storage, PACKS_PREFIX)).sort();

    const run = await prune(url, "--grace", "0s", "--keep-last", "1", "--repack-threshold", "0.01");
    expect(run.status, run.stderr).toBe(22);
    expect(JSON.stringify(run.report)).toMatch(/whose trailer does not list it there \(a planted or damaged index file\): not repacked \(run cairn repair index\)/);
    // What it did repack (packs whose listings agree with their trailers) holds each object's own bytes.
    const held = new Map<string, Buffer>();
    for (const id of packsBefore) {
      const bytesOf = await storage.get(packKey(id));
      for (const e of await trailer(storage, id)) held.set(Buffer.from(e.id).toString("hex"), Buffer.from(bytesOf.subarray(e.offset, e.offset + e.length)));
    }
    for (const id of run.report.gc.repackedInto) {
      const bytesOf = await storage.get(packKey(id));
      for (const e of await trailer(storage, id)) expect(Buffer.from(bytesOf.subarray(e.offset, e.offset + e.length)).equals(held.get(Buffer.from(e.id).toString("hex"))!)).toBe(true);
    }

    // repair index drops the planted listing; prune then repacks from the real bytes, and D restores.
    expect((await cairnA(["repair", "index", url], { env: f.env, cwd: f.dir })).status).toBe(0);
    const { first: one, second: two } = await pruneFully(url, "--keep-last", "1", "--repack-threshold", "0.01");
    expect([one.status, two.status], `${one.stderr}${two.stderr}`).toEqual([0, 0]);
    expect(one.report.gc.repacked.length).toBeGreaterThan(0);
    const v = await verify(url, "--read-data", "-i", "owner.key", "--restore-test", snapD);
    expect(v.report.problems).toEqual([]);
    expect(v.report.stats.filesRestored).toBe(3);
  });
});

// Each damage case: prune --keep-last 1 twice (mark, delete), and what verify says about B is the
// same before and after: prune never turns damage into more damage. Where the damage makes the
// repository unable to say what B needs, prune changes nothing at all and exits 22 (or 13).
describe.concurrent("snapshot objects that storage can damage or copy", () => {
  it("a damaged snapshot object stops the collection (its data is unknown, not garbage) until forget removes it", async () => {
    const { url, storage } = await copy("damaged-snapshot");
    await flipByte(storage, `${SNAPSHOTS_PREFIX}${f.snapA}`, 12);
    const before = await everything(storage);
    const { first, second } = await pruneFully(url, "--no-cache"); // (the local cache holds a good copy)
    for (const run of [first, second]) {
      expect(run.status, run.stderr).toBe(22);
      expect(run.report.problems).toEqual([expect.stringMatching(new RegExp(`^snapshot ${f.snapA} is damaged \\(.*\\), so the data it names is unknown: nothing is collected until it is restored from a copy or removed with cairn forget ${f.snapA.slice(0, 12)}$`))]);
      expect(run.report.gc.marked).toEqual([]);
    }
    expect(await everything(storage)).toEqual(before); // A's packs are all still there
    // forget can name the damaged object (and says so); then the collection takes what only A used.
    const dry = await cairnA(["forget", url, f.snapA.slice(0, 12), "--dry-run", "--no-cache"], { env: f.env, cwd: f.dir });
    expect(dry.stdout.toString()).toMatch(new RegExp(`^would remove damaged snapshot ${f.snapA}: `, "m"));
    const forgot = await cairnA(["forget", url, f.snapA.slice(0, 12), "--json", "--no-cache"], { env: f.env, cwd: f.dir });
    expect(forgot.status, forgot.stderr).toBe(0);
    expect(JSON.parse(forgot.stdout.toString()).removed).toEqual([f.snapA]);
    const after = await pruneFully(url);
    expect(after.second.status).toBe(0);
    expect(after.second.report.gc.deleted.length).toBeGreaterThan(0);
    for (const p of after.second.report.gc.deleted) expect(f.packsA).toContain(p);
    expect((await verify(url, "--read-data", "-i", "owner.key", "--restore-test", f.snapB)).report.problems).toEqual([]);
  });

  it("a pack planted to claim every object is the garbage, not the real packs, also under planted marks", async () => {
    const { url, storage } = await copy("shadow-pack");
    const real = (await everything(storage)).filter((k) => k.startsWith(PACKS_PREFIX));
    const realIds = await keys(storage, PACKS_PREFIX);
    // Of two copies the older pack's counts: the planted one, put there later, is collected.
    const shadow = await plantShadowPack(storage);
    const quiet = await pruneFully(url);
    expect(quiet.first.report.gc.marked).toEqual([shadow]);
    expect(quiet.second.report.gc.deleted).toEqual([shadow]);
    expect((await everything(storage)).filter((k) => k.startsWith(PACKS_PREFIX))).toEqual(real);
    // Again, with a mark planted on every real pack too (old enough at once, with no grace): a
    // marked pack whose objects have copies elsewhere goes only if a copy came first or is the
    // same bytes. The planted one is neither: each real pack is kept and its mark dropped.
    const again = await plantShadowPack(storage);
    for (const id of realIds) await storage.put(`${MARKS_PREFIX}${id}`, new Uint8Array(0));
    const first = await prune(url, "--grace", "0s");
    expect(first.status, first.stderr).toBe(0);
    expect(first.report.gc.deleted).toEqual([]);
    expect([...first.report.gc.unmarked].sort()).toEqual([...realIds].sort());
    expect(await keys(storage, MARKS_PREFIX)).toEqual([]);
    const after = await pruneFully(url);
    expect(after.first.status).toBe(0);
    expect(after.first.report.gc.marked).toEqual([again]);
    expect(after.second.report.gc.deleted).toEqual([again]);
    expect((await everything(storage)).filter((k) => k.startsWith(PACKS_PREFIX))).toEqual(real);
    expect((await verify(url, "--read-data", "-i", "owner.key", "--restore-test", f.snapB)).report.problems).toEqual([]);
  });

  // S: A's pack with big.bin's chunk, which B shares, and A's manifest chunk: garbage once A goes,
  // so with a low threshold prune repacks S into a new pack R and marks S. A pack P planted to
  // claim that chunk and older than R would count once S goes (the oldest copy), and R would go
  // as the later copy: B's data lost, every prune exiting 0. Prunes with the default grace of an
  // hour, two hours apart (store time, staged with utimes).
  async function prunePlantedNextToRepack(name: string, when: "before" | "during") {
    const dir = copyRepo(f, name);
    const url = `file://${dir}`;
    const storage = await openStorage(url);
    let source = "";
    for (const p of f.packsA) if ((await trailer(storage, p)).some((e) => e.kind === ObjectKind.data && e.length > 400_000)) source = p;
    age(dir, 86_400_000);
    let planted = "";
    if (when === "before") {
      planted = await plantChunkCopies(storage, source);
      datePack(dir, planted, Date.now() - 600_000); // younger than the grace period: not marked yet
    }
    const runs = [];
    for (let i = 0; i < 7; i++) {
      const run = await prune(url, "--keep-last", "1", "--grace", "1h", "--repack-threshold", "0.01");
      expect(run.status, run.stderr).toBe(0);
      runs.push(run.report.gc);
      if (when === "during" && i === 0) {
        // The prune that repacked S listed the store before P came, and P came before R.
        expect(run.report.gc.repacked).toContain(source);
        planted = await plantChunkCopies(storage, source);
        datePack(dir, planted, statSync(join(dir, packKey(run.report.gc.repackedInto[0]))).mtimeMs - 1000);
      }
      age(dir, 7_200_000);
    }
    const v = await verify(url, "--read-data", "-i", "owner.key", "--restore-test", f.snapB);
    expect(v.report.problems).toEqual([]);
    expect(v.status).toBe(0);
    const left = await keys(storage, PACKS_PREFIX);
    expect(left).not.toContain(planted);
    expect(left).not.toContain(source); // repacked once the planted copy was gone, then deleted
    expect(runs.at(-1)).toMatchObject({ marked: [], unmarked: [], deleted: [], repacked: [] }); // settled
    return runs;
  }

  it("a pack planted to claim a chunk of a pack that prune would repack is collected before the repack, and B restores", async () => {
    const runs = await prunePlantedNextToRepack("planted-before-repack", "before");
    expect(runs[0].repacked).toEqual([]); // its live chunk has another copy: the repack waits
  });

  it("a pack planted while prune repacks (older than the repack's copy) never outlives the repack's source, and B restores", async () => {
    const runs = await prunePlantedNextToRepack("planted-during-repack", "during");
    expect(runs[1].unmarked).toEqual(runs[0].repacked); // the source is the oldest copy again
  });

  it("two real copies of a chunk with other bytes settle: the later one goes first (its pack repacked without it), then the older one's pack is repacked; nothing lost", async () => {
    const { url, storage } = await copy("real-copies");
    // Q: B's pack with conf.txt's chunk and onlyB.bin's. With a mark on Q, a backup C (conf.txt
    // and a new file, no onlyB.bin) uploads conf.txt's chunk again, with other bytes (age seals
    // with a random key), into a pack T next to the new file's chunk.
    let q = "";
    for (const p of f.packsB) if ((await trailer(storage, p)).some((e) => e.kind === ObjectKind.data && e.length < 1000)) q = p;
    await storage.put(`${MARKS_PREFIX}${q}`, new Uint8Array(0));
    const c = await shA(`rm -rf data-d && cp -r data data-d && rm data-d/onlyB.bin && head -c 300000 /dev/urandom > data-d/new.bin && cairn backup -k writer.key --pack-size ${PACK_SIZE} --label data --json ${url} data-d`, { env: f.env, cwd: f.dir });
    expect(c.status, c.stderr).toBe(0);
    const snapC = JSON.parse(c.stdout.toString()).targets[0].snapshot;
    const conf = (await trailer(storage, q)).find((e) => e.kind === ObjectKind.data && e.length < 1000)!.id;
    const copies = async () => {
      const holders = [];
      for (const p of await keys(storage, PACKS_PREFIX)) if ((await trailer(storage, p)).some((e) => Buffer.from(e.id).equals(conf))) holders.push(p);
      return holders;
    };
    const [t] = (await copies()).filter((p) => p !== q);
    expect(await copies()).toHaveLength(2);
    // B still needs Q: its mark goes. Then, with only C kept, Q is mostly garbage (onlyB.bin).
    expect((await prune(url, "--grace", "0s")).report.gc.unmarked).toEqual([q]);
    const runs = [];
    for (let i = 0; i < 6; i++) {
      const run = await prune(url, "--keep-last", "1", "--grace", "0s");
      expect(run.status, run.stderr).toBe(0);
      runs.push(run.report.gc);
    }
    expect(runs[0].repacked).toEqual([t]); // T first, though mostly live: the later copy goes
    expect(runs[2].repacked).toEqual([q]); // then Q, once T is gone
    expect(runs.at(-1)).toMatchObject({ marked: [], unmarked: [], deleted: [], repacked: [] });
    expect(await keys(storage, PACKS_PREFIX)).not.toContain(q);
    expect(await copies()).toHaveLength(1);
    const v = await verify(url, "--read-data", "-i", "owner.key", "--restore-test", snapC);
    expect(v.report.problems).toEqual([]);
    expect(v.status).toBe(0);
  });

  it("a pack planted to claim a snapshot's refs root with other bytes (its index file sorting first) is garbage: prune does not take it for damage", async () => {
    const { url, storage } = await copy("planted-refs");
    const real = (await everything(storage)).filter((k) => k.startsWith(PACKS_PREFIX));
    const refs = Buffer.from((await readSnapshot(storage, f.snapB)).refs, "hex");
    let length = 0;
    for (const p of await keys(storage, PACKS_PREFIX)) for (const e of await trailer(storage, p)) if (refs.equals(e.id)) length = e.length;
    const first = (await keys(storage, INDEX_PREFIX)).sort()[0];
    // Its index file sorts before the real ones: an index that keeps the first copy listed takes it.
    let planted = "";
    for (;;) {
      const builder = new PackBuilder();
      builder.add(ObjectKind.refsRoot, refs, randomBytes(length));
      const pack = builder.finish();
      const index = encodeIndexFile([{ id: pack.id, size: pack.bytes.length, entries: pack.entries }]);
      if (index.id > first) continue;
      await storage.put(packKey(pack.id), pack.bytes);
      await storage.put(indexKey(index.id), index.bytes);
      planted = pack.id;
      break;
    }
    const { first: marking, second: deleting } = await pruneFully(url);
    expect(marking.status, marking.stderr).toBe(0);
    expect(marking.report.gc.problems).toEqual([]);
    expect(marking.report.gc.marked).toEqual([planted]);
    expect(deleting.report.gc.deleted).toEqual([planted]);
    expect((await everything(storage)).filter((k) => k.startsWith(PACKS_PREFIX))).toEqual(real);
    expect((await verify(url, "--read-data", "-i", "owner.key", "--restore-test", f.snapB)).report.problems).toEqual([]);
  });

  it("an index file planted to claim a newer pack's objects are in an older one stops prune until repair index, and loses nothing", async () => {
    const { url, storage } = await copy("planted-index");
    const { pack: victim } = await dataPackOfB(storage, f);
    const host = f.packsA[0];
    const hostSize = (await storage.head(packKey(host)))!.size;
    const claimed = (await trailer(storage, victim)).filter((e) => e.kind === ObjectKind.data).map((e) => ({ ...e, offset: 0, length: Math.min(e.length, hostSize) }));
    const planted = encodeIndexFile([{ id: host, size: hostSize, entries: claimed }]);
    await storage.put(indexKey(planted.id), planted.bytes);
    const before = await everything(storage);
    const { first, second } = await pruneFully(url, "--no-cache");
    for (const run of [first, second]) {
      expect(run.status, run.stderr).toBe(22);
      expect(run.report.problems.length).toBeGreaterThan(0);
      for (const p of run.report.problems) expect(p).toMatch(new RegExp(`^an index file lists data chunk [0-9a-f]{64} in pack ${host}, whose trailer does not \\(a planted or damaged index file\\): run cairn repair index$`));
    }
    expect(await everything(storage)).toEqual(before);
    expect((await cairnA(["repair", "index", url], { env: f.env, cwd: f.dir })).status).toBe(0);
    const after = await pruneFully(url, "--no-cache");
    expect(after.second.status, after.second.stderr).toBe(0);
    expect(await keys(storage, PACKS_PREFIX)).toContain(victim);
    expect((await verify(url, "--read-data", "-i", "owner.key", "--restore-test", f.snapB)).report.problems).toEqual([]);
  });

  it("index files a prune left when it stopped while deleting them never come back into use, so no deleted pack does", async () => {
    const { url, storage } = await copy("stopped-compaction");
    expect((await prune(url, "--keep-last", "1", "--grace", "0s")).status).toBe(0); // A removed, its packs marked
    const before = new Map<string, Uint8Array>();
    for (const name of await keys(storage, INDEX_PREFIX)) before.set(name, await storage.get(indexKey(name)));
    const second = await prune(url, "--keep-last", "1", "--grace", "0s"); // packs deleted, index compacted, old files deleted
    expect(second.report.gc.deleted.length).toBeGreaterThan(0);
    expect(second.report.gc.indexFilesDeleted).toBe(before.size);
    // The state a kill -9 (or a failed DELETE) between the packs and the old index files leaves.
    for (const [name, bytes] of before) await storage.put(indexKey(name), bytes);
    await prune(url, "--grace", "0s"); // (drops the deleted packs' marks)
    await prune(url, "--grace", "0s");
    // Any later compaction: here one that deletes a pack of garbage.
    await addPack(storage, [{ kind: ObjectKind.data, id: randomBytes(32), bytes: randomBytes(1000) }]);
    const third = await pruneFully(url, "--grace", "0s");
    expect(third.second.report.gc.deleted).toHaveLength(1);
    expect(await keys(storage, MARKS_PREFIX)).not.toContain(second.report.gc.deleted[0]);
    for (const name of before.keys()) expect(await keys(storage, INDEX_PREFIX)).not.toContain(name);
    const v = await verify(url, "--read-data", "-i", "owner.key", "--restore-test", f.snapB);
    expect(v.report.problems).toEqual([]);
    expect(v.status).toBe(0);
  });

  it("a clock probe a prune killed between its PUT and its DELETE left is removed by a later prune once a day old", async () => {
    const { url, storage } = await copy("stale-probe");
    const dir = url.slice("file://".length);
    // What a kill -9 between storeNow's PUT and DELETE leaves: an empty marks/clock-<random>, ignored
    // by every reader. One a day old is nobody's; a young one may be a concurrent prune's.
    await storage.put(`${MARKS_PREFIX}clock-0123456789abcdef`, new Uint8Array(0));
    await storage.put(`${MARKS_PREFIX}clock-fedcba9876543210`, new Uint8Array(0));
    const dayAgo = new Date(Date.now() - 25 * 3_600_000);
    utimesSync(join(dir, `${MARKS_PREFIX}clock-0123456789abcdef`), dayAgo, dayAgo);
    expect((await prune(url, "--grace", "0s")).status).toBe(0);
    expect(readdirSync(join(dir, MARKS_PREFIX))).toEqual(["clock-fedcba9876543210"]);
  });

  it("a pinned writer's snapshot of a later COMMIT version stops prune and verify (11); an unsigned one is only reported", async () => {
    const { url, storage } = await copy("later-commit");
    const b = await readSnapshot(storage, f.snapB);
    const stranger = await plantSnapshot(storage, signByStranger({ ...b.commit, v: 2, time: new Date(Date.parse(b.commit.time) + 1000).toISOString() }));
    const quiet = await prune(url, "--keep-last", "1", "--dry-run");
    expect(quiet.status, quiet.stderr).toBe(0);
    expect(quiet.report.snapshots.find((s: any) => s.id === stranger)).toMatchObject({ action: "report", standing: "unsigned" });
    const v1 = await verify(url);
    expect(v1.report.problems.find((p: any) => p.object === `snapshot ${stranger}`)).toMatchObject({ kind: "unsigned" });
    const later = await plantSnapshot(storage, await resign(f, { ...b.commit, v: 2, time: new Date(Date.parse(b.commit.time) + 2000).toISOString() }));
    const r = await prune(url, "--keep-last", "1");
    expect(r.status, r.stderr).toBe(11);
    expect(r.stderr).toBe(`cairn-prune: snapshot ${later} has COMMIT version 2; this build reads 1 (a pinned writer signed it with a newer cairn: prune with that)\n`);
    const v = await cairnA(["verify", url, "--no-cache"], { env: f.env, cwd: f.dir });
    expect(v.status, v.stderr).toBe(11);
    expect(v.stderr).toMatch(new RegExp(`^cairn-verify: snapshot ${later}: COMMIT version 2 is not supported .*a pinned writer signed it with a newer cairn: verify with that\n$`));
    expect((await keys(storage, SNAPSHOTS_PREFIX)).length).toBe(4); // nothing removed
  });

  it("copies of one signed COMMIT under other names count once: they cannot push a real snapshot out of --keep-last", async () => {
    const { url, storage } = await copy("duplicate-commit");
    const b = Buffer.from(await storage.get(`${SNAPSHOTS_PREFIX}${f.snapB}`));
    const copies: string[] = [];
    for (const spelled of [Buffer.concat([Buffer.from(" "), b]), Buffer.concat([b, Buffer.from("\n")])]) {
      const id = createHash("sha256").update(spelled).digest("hex");
      await storage.put(`${SNAPSHOTS_PREFIX}${id}`, spelled);
      copies.push(id);
    }
    const r = await prune(url, "--keep-last", "2", "--dry-run");
    expect(r.status, r.stderr).toBe(0);
    expect(r.report.removed).toEqual([]); // A is the second newest backup, whatever the copies
    const line = (id: string) => r.report.snapshots.find((s: any) => s.id === id);
    expect(line(f.snapA)).toMatchObject({ action: "keep", reasons: ["last 2"] });
    const all = [f.snapB, ...copies].sort();
    expect(line(all[0])).toMatchObject({ action: "keep", reasons: ["last 1"] });
    for (const id of all.slice(1)) {
      expect(line(id)).toMatchObject({ action: "report", standing: "duplicate", message: `the same signed COMMIT as snapshot ${all[0].slice(0, 12)}, stored under another name` });
    }
  });
});

describe.concurrent("prune on a damaged repository deletes nothing a real snapshot needs", () => {
  const cases: { name: string; damage: (s: Storage) => Promise<void>; exit?: number }[] = [
    { name: "a flipped byte in a pack B needs", damage: async (s) => { const { pack, entry } = await dataPackOfB(s, f); await flipByte(s, packKey(pack), entry.offset + 5); } },
    { name: "a truncated pack B needs", damage: async (s) => { const { pack } = await dataPackOfB(s, f); await truncate(s, packKey(pack)); } },
    { name: "a deleted pack B needs", damage: async (s) => { const { pack } = await dataPackOfB(s, f); await s.delete(packKey(pack)); }, exit: 22 },
    { name: "a deleted index file (its packs are indexed again from their trailers)", damage: async (s) => { await s.delete(indexKey(f.indexB[0])); }, exit: 0 },
    { name: "an altered index file", damage: async (s) => { await flipByte(s, indexKey(f.indexB[0]), 20); }, exit: 13 },
    { name: "two swapped packs", damage: async (s) => { await swap(s, packKey(f.packsB[0]), packKey(f.packsA[0])); } },
    { name: "a pack of B's deleted (whatever it held)", damage: async (s) => { await s.delete(packKey(f.packsB[f.packsB.length - 1])); }, exit: 22 },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const { url, storage } = await copy(`damage-${c.name.replace(/\W+/g, "-")}`);
      await c.damage(storage);
      const before = await problemsOfB(url);
      const untouched = (await everything(storage)).filter((k) => !k.startsWith(SNAPSHOTS_PREFIX));
      const { first, second } = await pruneFully(url, "--keep-last", "1", "--no-cache");
      if (c.exit !== undefined) expect(first.status, first.stderr).toBe(c.exit);
      expect([0, 13, 22]).toContain(first.status);
      expect(second.status).toBe(first.status);
      // A prune that found damage changed nothing but the snapshots its policy removed.
      if (first.status !== 0) expect((await everything(storage)).filter((k) => !k.startsWith(SNAPSHOTS_PREFIX))).toEqual(untouched);
      // Whatever verify says about B afterwards, it said before: prune added no damage.
      const after = await problemsOfB(url);
      for (const p of after) expect(before).toContain(p);
    });
  }
});

