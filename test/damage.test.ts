// A repository damaged in each way a disk or an attacker can (issue 5, "Done means"): verify names
// each damaged object and what it affects (exit 22), `pull | seal -d | chunk -d` fails loudly
// instead of restoring wrong data, and the snapshots the damage does not touch still restore.
// Every case works on its own copy of one small real repository (two snapshots, small packs).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INDEX_PREFIX, indexKey, packKey, snapshotKey } from "@cairn/repository";
import { openStorage, type Storage } from "@cairn/storage";
import { readTrustedWriters } from "@cairn/keys";
import { verifyRepository, type VerifyOptions } from "@cairn/verify";
import { cairnA, shA } from "./helpers/async-cli.js";
import {
  buildFixture,
  copyRepo,
  dataPackOfB,
  flipByte,
  keys,
  objectBytes,
  plantShadowPack,
  plantSnapshot,
  readSnapshot,
  refsSet,
  replaceChunk,
  replaceObjects,
  resign,
  signByStranger,
  storeRefs,
  swap,
  trailer,
  truncate,
  type Fixture,
} from "./helpers/damage.js";

let f: Fixture;
beforeAll(async () => {
  f = await buildFixture();
});
afterAll(() => f?.cleanup());

interface Damaged {
  url: string;
  storage: Storage;
}

async function damaged(name: string): Promise<Damaged> {
  const url = `file://${copyRepo(f, name)}`;
  return { url, storage: await openStorage(url) };
}

/** cairn verify --json: the report and the exit code. */
async function verifyCli(url: string, ...flags: string[]) {
  const r = await cairnA(["verify", url, "--json", ...flags], { env: f.env, cwd: f.dir });
  let report: any;
  try {
    report = JSON.parse(r.stdout.toString());
  } catch {
    throw new Error(`verify printed no JSON (exit ${r.status}): ${r.stderr}`);
  }
  return { status: r.status, report, stderr: r.stderr };
}

/** The same check in-process (the library the CLI calls): the report as --json prints it. */
async function verify(url: string, opts: Partial<VerifyOptions> & { key?: boolean } = {}) {
  const { key, ...rest } = opts;
  const report = await verifyRepository(await openStorage(url), {
    trusted: readTrustedWriters(f.env.CAIRN_WRITERS),
    cache: false,
    ...(key ? { identity: [join(f.dir, "owner.key")] } : {}),
    ...rest,
  });
  return { status: report.ok ? 0 : 22, report: JSON.parse(JSON.stringify(report)) };
}

/** An unaffected snapshot restores: the restore stages in-process, every file's digest checked. */
async function expectRestores(url: string, snapshot: string) {
  const { report } = await verify(url, { key: true, restoreTest: snapshot });
  expect(report.problems.filter((p: any) => p.kind === "restore")).toEqual([]);
  expect(report.stats.filesRestored).toBeGreaterThan(0);
}

const named = (report: any, object: string) => report.problems.find((p: any) => p.object === object);

/** The restore pipeline into a fresh folder: its status and stderr. */
async function restore(url: string, snapshot: string, out: string, pullFlags = "") {
  const dir = join(f.dir, out);
  const r = await shA(`cairn pull ${pullFlags} -i owner.key ${url} ${snapshot} | cairn seal -d -i owner.key | cairn chunk -d -i owner.key | cairn snapshot -x ${dir}`, { env: f.env, cwd: f.dir });
  return { status: r.status, stderr: r.stderr, dir };
}

async function expectRestoreFails(url: string, snapshot: string, out: string, message: RegExp, pullFlags = "") {
  const r = await restore(url, snapshot, out, pullFlags);
  // The stage that finds the damage exits with its code; the ones after it say the stream broke
  // off upstream (12) or ended early (10), and pipefail reports the last of them. Every stage that
  // fails says so in one line of its own: no stack trace, nothing else.
  expect([10, 12, 13, 15]).toContain(r.status);
  expect(r.stderr).toMatch(message);
  for (const line of r.stderr.trim().split("\n")) expect(line).toMatch(/^cairn-(pull|seal|chunk|snapshot): \S/);
}

describe.concurrent("damage that verify names", () => {
  it("the undamaged repository verifies clean, with and without the key and --read-data", async () => {
    const keyless = await verifyCli(`file://${f.repo}`, "--read-data");
    expect(keyless.report.problems).toEqual([]);
    expect(keyless.status).toBe(0);
    expect(keyless.report.stats).toMatchObject({ snapshots: 2, trusted: 2 });
    const keyed = await verifyCli(`file://${f.repo}`, "--read-data", "-i", "owner.key", "--restore-test", f.snapB);
    expect(keyed.report.problems).toEqual([]);
    expect(keyed.status).toBe(0);
    expect(keyed.report.stats.filesRestored).toBe(3);
  });

  it("a flipped byte in a pack: found by --read-data without a key, pinned to the chunk and file with it", async () => {
    const d = await damaged("flip");
    const { pack, entry } = await dataPackOfB(d.storage, f);
    await flipByte(d.storage, packKey(pack), entry.offset + entry.length - 20);
    expect((await verify(d.url)).status).toBe(0); // the trailer and sizes are intact: only reading the data shows it
    const keyless = await verifyCli(d.url, "--read-data");
    expect(keyless.status).toBe(22);
    expect(named(keyless.report, `pack ${pack}`)).toMatchObject({ kind: "pack", snapshots: [f.snapB], message: expect.stringMatching(/do not hash to its name/) });
    const keyed = await verify(d.url, { readData: { kind: "all" }, key: true });
    expect(keyed.status).toBe(22);
    const chunk = named(keyed.report, `data chunk ${Buffer.from(entry.id).toString("hex")}`);
    expect(chunk.snapshots).toEqual([f.snapB]);
    expect(chunk.files).toHaveLength(1); // the one file (of those only B has) whose content needs it
    expect(["data/conf.txt", "data/onlyB.bin"]).toContain(chunk.files[0].path);
    await expectRestoreFails(d.url, f.snapB, "flip-b", /cairn-seal: .*data chunk/);
    await expectRestores(d.url, f.snapA);
  });

  it("a flipped byte in a pack is not replicated: pull --raw checks each pack it reads whole against its name", async () => {
    const d = await damaged("flip-raw");
    const mirror = `file://${join(f.dir, "mirror-flip-raw")}`;
    expect((await cairnA(["init", mirror, "--writer-key", "writer.key"], { env: f.env, cwd: f.dir })).status).toBe(0);
    // Undamaged, every pack B needs is read whole and checked: A's snapshot copies and counts them.
    const clean = await shA(`cairn pull --raw --stats ${d.url} ${f.snapA} | cairn push ${mirror}`, { env: f.env, cwd: f.dir });
    expect(clean.status).toBe(0);
    expect(JSON.parse(clean.stderr.trim())).toMatchObject({ packsChecked: f.packsA.length, packsUnchecked: 0 });
    const { pack, entry } = await dataPackOfB(d.storage, f);
    await flipByte(d.storage, packKey(pack), entry.offset + entry.length - 20);
    const r = await shA(`cairn pull --raw ${d.url} ${f.snapB} | cairn push ${mirror}; echo "\${PIPESTATUS[*]}"`, { env: f.env, cwd: f.dir });
    expect(r.stdout.toString().trim()).toBe("13 12"); // pull: damaged (13); push: its input broke off upstream (12)
    const lines = r.stderr.trim().split("\n");
    // (pull and push write stderr at once: the lines may come in either order.)
    expect(lines).toContain(`cairn-pull: pack ${pack} is damaged: its bytes do not hash to its name (none of its objects was passed on)`);
    for (const line of lines) expect(line).toMatch(/^cairn-(pull|push): \S/);
    // Nothing was committed: the mirror still holds A's snapshot alone.
    const ls = await cairnA(["ls", mirror, "--json"], { env: f.env, cwd: f.dir });
    expect(ls.stdout.toString().trim().split("\n").map((l) => JSON.parse(l).id)).toEqual([f.snapA]);
  });

  it("a truncated pack: its size no longer matches the index", async () => {
    const d = await damaged("truncate");
    const pack = f.packsB[0];
    await truncate(d.storage, packKey(pack), Math.floor((await d.storage.head(packKey(pack)))!.size / 2));
    const v = await verify(d.url);
    expect(v.status).toBe(22);
    expect(named(v.report, `pack ${pack}`)).toMatchObject({ snapshots: [f.snapB], message: expect.stringMatching(/bytes in the store, the index says/) });
    await expectRestoreFails(d.url, f.snapB, "trunc-b", /pack [0-9a-f]{64} is shorter than the index says/);
    await expectRestores(d.url, f.snapA);
  });

  it("a deleted pack", async () => {
    const d = await damaged("delete");
    const pack = f.packsB[0];
    await d.storage.delete(packKey(pack));
    const v = await verifyCli(d.url);
    expect(v.status).toBe(22);
    expect(named(v.report, `pack ${pack}`)).toMatchObject({ snapshots: [f.snapB], message: expect.stringMatching(/missing from the store/) });
    expect(v.report.snapshots.find((s: any) => s.id === f.snapA).status).toBe("ok");
    await expectRestoreFails(d.url, f.snapB, "del-b", /pack [0-9a-f]{64} is missing/);
    await expectRestores(d.url, f.snapA);
  });

  it("deleted index files: the objects they listed count as missing until repair index", async () => {
    const d = await damaged("noindex");
    for (const name of f.indexB) await d.storage.delete(indexKey(name));
    const v = await verify(d.url);
    expect(v.status).toBe(22);
    const missing = v.report.problems.filter((p: any) => p.snapshots.includes(f.snapB));
    expect(missing.length).toBeGreaterThan(0);
    expect(v.report.problems.every((p: any) => !p.snapshots.includes(f.snapA))).toBe(true);
    expect(v.report.notes.join(" ")).toMatch(/in no index file/);
    await expectRestores(d.url, f.snapA);
    const repaired = await cairnA(["repair", "index", d.url], { env: f.env });
    expect(repaired.status).toBe(0);
    expect((await verify(d.url, { readData: { kind: "all" } })).status).toBe(0);
    await expectRestores(d.url, f.snapB);
  });

  it("an altered index file is named; pull refuses it; repair index rebuilds it", async () => {
    const d = await damaged("altered-index");
    const name = f.indexB[0];
    await flipByte(d.storage, indexKey(name), 60);
    const v = await verify(d.url);
    expect(v.status).toBe(22);
    expect(named(v.report, `index file ${name}`)).toMatchObject({ kind: "index", message: expect.stringMatching(/do not hash to its name/) });
    // A host that cached the index file before the damage restores from its copy; a fresh one is refused.
    await expectRestoreFails(d.url, f.snapB, "altidx-b", new RegExp(`index file ${name} is damaged`), "--no-cache");
    expect((await cairnA(["repair", "index", d.url], { env: f.env })).status).toBe(0);
    expect((await verify(d.url)).status).toBe(0);
    await expectRestores(d.url, f.snapB);
  });

  it("two swapped packs are both named", async () => {
    const d = await damaged("swap");
    const [a, b] = [f.packsA[0], f.packsB[0]];
    await swap(d.storage, packKey(a), packKey(b));
    const v = await verify(d.url);
    expect(v.status).toBe(22);
    expect(named(v.report, `pack ${a}`)).toBeDefined();
    expect(named(v.report, `pack ${b}`)).toBeDefined();
    const withData = await verify(d.url, { readData: { kind: "all" } });
    expect(named(withData.report, `pack ${a}`).snapshots).toContain(f.snapA);
    await expectRestoreFails(d.url, f.snapB, "swap-b", /pack [0-9a-f]{64} is shorter than the index says|cannot open|not authentic|expects/);
  });

  it("a chunk replaced by one sealed to the same public recipient: invisible without the key, named with it", async () => {
    const d = await damaged("replace");
    const { pack, entry } = await dataPackOfB(d.storage, f);
    await replaceChunk(d.storage, f, pack, entry);
    const keyless = await verify(d.url, { readData: { kind: "all" } });
    expect(keyless.report.problems).toEqual([]); // every keyless check passes: the attacker kept everything consistent
    const keyed = await verify(d.url, { readData: { kind: "all" }, key: true });
    expect(keyed.status).toBe(22);
    const chunk = named(keyed.report, `data chunk ${Buffer.from(entry.id).toString("hex")}`);
    expect(chunk.message).toMatch(/not authentic/);
    expect(chunk.snapshots).toEqual([f.snapB]);
    expect(chunk.files).toHaveLength(1); // the one file (of those only B has) whose content needs it
    expect(["data/conf.txt", "data/onlyB.bin"]).toContain(chunk.files[0].path);
    await expectRestoreFails(d.url, f.snapB, "replace-b", /data chunk [0-9a-f]{64}(: its plaintext decompresses to more than| is not authentic| holds \d+ bytes; the manifest says)/);
    await expectRestores(d.url, f.snapA);
  });

  it("forged snapshots: an altered clear part, and one signed by a writer nobody pinned", async () => {
    const d = await damaged("forge");
    const b = await readSnapshot(d.storage, f.snapB);
    const altered = await plantSnapshot(d.storage, { ...b.commit, label: "evil" });
    const stranger = await plantSnapshot(d.storage, signByStranger({ ...b.commit, label: "stranger" }));
    const v = await verify(d.url);
    expect(v.status).toBe(22);
    expect(named(v.report, `snapshot ${altered}`)).toMatchObject({ kind: "forged", message: expect.stringMatching(/does not verify/) });
    expect(named(v.report, `snapshot ${stranger}`)).toMatchObject({ kind: "unsigned", message: expect.stringMatching(/not pinned/) });
    expect(v.report.snapshots.filter((s: any) => s.status === "untrusted").map((s: any) => s.id).sort()).toEqual([altered, stranger].sort());
    await expectRestoreFails(d.url, altered, "forge-x", /signature .* does not verify/);
    await expectRestoreFails(d.url, stranger, "forge-y", /not pinned/);
    await expectRestores(d.url, f.snapB);
  });

  it("a damaged snapshot object is named", async () => {
    const d = await damaged("snapobj");
    await flipByte(d.storage, snapshotKey(f.snapA), 10);
    const v = await verify(d.url);
    expect(v.status).toBe(22);
    expect(named(v.report, `snapshot ${f.snapA}`)).toMatchObject({ kind: "snapshot", message: expect.stringMatching(/do not hash to its name/) });
  });

  it("a real snapshot's clear reference set shrunk (and re-signed by the writer): named with the key, refused by seal -d", async () => {
    const d = await damaged("shrink");
    const b = await readSnapshot(d.storage, f.snapB);
    const set = await refsSet(d.storage, b.commit);
    // Drop one id that is not the manifest root: prune would then think that object unused.
    let drop = 0;
    while (Buffer.from(set.subarray(drop * 32, drop * 32 + 32)).toString("hex") === b.manifest) drop++;
    const shrunk = Buffer.concat([set.subarray(0, drop * 32), set.subarray(drop * 32 + 32)]);
    const refs = await storeRefs(d.storage, shrunk);
    const id = await plantSnapshot(d.storage, await resign(f, { ...b.commit, refs, stats: { ...b.commit.stats, refs: b.commit.stats.refs - 1 } }));
    const keyed = await verify(d.url, { key: true });
    expect(keyed.status).toBe(22);
    expect(named(keyed.report, `refs root ${refs}`)).toMatchObject({ kind: "refs", snapshots: [id], message: expect.stringMatching(/1 objects the manifest uses are not in it, 0/) });
    await expectRestoreFails(d.url, id, "shrink-x", /clear reference set .* disagrees with the manifest/);
    // Re-signed without fixing the stats, even keyless verify sees it.
    const sloppy = await plantSnapshot(d.storage, await resign(f, { ...b.commit, refs, time: new Date(Date.parse(b.commit.time) + 1000).toISOString() }));
    const keyless = await verify(d.url);
    expect(named(keyless.report, `refs root ${refs}`).snapshots).toContain(sloppy);
  });

  it("a COMMIT re-signed by the writer to name another snapshot's manifest: keyless verify sees the refs not listing it, keyed names the manifest", async () => {
    const d = await damaged("swapmanifest");
    const a = await readSnapshot(d.storage, f.snapA);
    const b = await readSnapshot(d.storage, f.snapB);
    const id = await plantSnapshot(d.storage, await resign(f, { ...b.commit, manifest: a.manifest }));
    const keyless = await verify(d.url);
    expect(keyless.status).toBe(22);
    expect(named(keyless.report, `refs root ${b.refs}`)).toMatchObject({ snapshots: [id], message: expect.stringMatching(/does not list the snapshot's manifest root/) });
    const keyed = await verify(d.url, { key: true });
    expect(named(keyed.report, `manifest of snapshot ${id}`)).toMatchObject({ kind: "manifest", message: expect.stringMatching(/a manifest from another snapshot/) });
    await expectRestoreFails(d.url, id, "swapm-x", /a manifest (from|swapped in from) another snapshot/);
    await expectRestores(d.url, f.snapA);
  });

  it("manifest roots swapped between two snapshots in storage, without the writer key: only the key tells, and it names both", async () => {
    const d = await damaged("swaproots");
    const a = await readSnapshot(d.storage, f.snapA);
    const b = await readSnapshot(d.storage, f.snapB);
    const [rootA, rootB] = [await objectBytes(d.storage, a.manifest), await objectBytes(d.storage, b.manifest)];
    await replaceObjects(d.storage, new Map([[a.manifest, rootB], [b.manifest, rootA]]));
    expect((await verify(d.url, { readData: { kind: "all" } })).report.problems).toEqual([]);
    const keyed = await verify(d.url, { key: true });
    expect(keyed.status).toBe(22);
    for (const s of [f.snapA, f.snapB]) {
      expect(named(keyed.report, `manifest of snapshot ${s}`)).toMatchObject({ kind: "manifest", snapshots: [s], message: expect.stringMatching(/manifest root [0-9a-f]{64} is not authentic/) });
    }
    await expectRestoreFails(d.url, f.snapA, "swaproots-a", /manifest root [0-9a-f]{64} is not authentic/);
  });

  it("future-dated snapshots, signed or planted, are flagged and not trusted", async () => {
    const d = await damaged("future");
    const b = await readSnapshot(d.storage, f.snapB);
    const later = new Date(Date.now() + 365 * 86400_000).toISOString();
    const signed = await plantSnapshot(d.storage, await resign(f, { ...b.commit, time: later }));
    const planted = await plantSnapshot(d.storage, signByStranger({ ...b.commit, time: later }));
    // 5 min ahead: inside the default 15 min bound, outside a 1 min one for minutes to come (a
    // minute ahead against a 10 s bound left the check below under a minute on a loaded machine).
    const soon = await plantSnapshot(d.storage, await resign(f, { ...b.commit, time: new Date(Date.now() + 300_000).toISOString() }));
    const v = await verify(d.url);
    expect(v.status).toBe(22);
    expect(named(v.report, `snapshot ${signed}`)).toMatchObject({ kind: "future", message: expect.stringMatching(/in the future/) });
    expect(named(v.report, `snapshot ${planted}`).message).toMatch(/not pinned.*in the future|in the future.*not pinned/);
    expect(named(v.report, `snapshot ${soon}`)).toBeUndefined(); // within the clock-skew bound
    expect((await verify(d.url, { clockSkewMs: 60_000 })).report.problems.some((p: any) => p.object === `snapshot ${soon}`)).toBe(true);
    await expectRestores(d.url, f.snapB);
    // `latest` skips the pinned writer's snapshot dated a year ahead (it would stay latest for a
    // year): the newest one within the bound is `soon`, B's content under a later time.
    const r = await shA(`cairn pull -i owner.key ${d.url} latest | cairn inspect | head -1`, { env: f.env, cwd: f.dir });
    expect(r.stdout.toString()).toContain(String((await readSnapshot(d.storage, soon)).commit.time));
    const warnings = r.stderr.trim().split("\n");
    expect(warnings.find((w) => w.includes(signed.slice(0, 12)))).toMatch(new RegExp(`^cairn-pull: warning: skipped the newer snapshot ${signed.slice(0, 12)}: it is dated ${later.replace(/\./g, "\\.")}, more than an hour ahead of this machine's clock$`));
  });
});

describe("ls -i checks what restore checks", () => {
  it("refuses a forged COMMIT named by id, a manifest of another snapshot, and an owner key with no id key to authenticate with", async () => {
    const d = await damaged("ls-checks");
    const a = await readSnapshot(d.storage, f.snapA);
    const b = await readSnapshot(d.storage, f.snapB);
    const ls = (args: string) => shA(`cairn ls -i owner.key ${d.url} ${args}`, { cwd: f.dir, env: f.env });
    expect((await ls(f.snapB.slice(0, 12))).status).toBe(0);
    // B's clear part under another host and time, its signature left as it was: the files of B under a lie.
    const forged = await plantSnapshot(d.storage, { ...b.commit, host: "forged-host", time: new Date(Date.parse(b.commit.time) - 60_000).toISOString() });
    const r1 = await ls(forged.slice(0, 12));
    expect(r1.status, r1.stderr).toBe(13);
    expect(r1.stderr).toMatch(/^cairn-ls: COMMIT signature by writer [0-9a-f]{16}… does not verify/);
    // Signed by the real writer, but naming A's manifest: its header is A's.
    const swapped = await plantSnapshot(d.storage, await resign(f, { ...b.commit, manifest: a.commit.manifest, time: new Date(Date.parse(b.commit.time) - 120_000).toISOString() }));
    const r2 = await ls(swapped.slice(0, 12));
    expect(r2.status, r2.stderr).toBe(13);
    expect(r2.stderr).toMatch(/the manifest header's time .* is not the signed COMMIT's .*: a manifest from another snapshot/);
    // A plain age identity has no id key: nothing to tell an authentic manifest by.
    writeFileSync(join(f.dir, "plain-identity.txt"), `${readFileSync(join(f.dir, "owner.key"), "utf8").split("\n").find((l) => l.startsWith("AGE-SECRET-KEY-"))}\n`, { mode: 0o600 });
    const r3 = await shA(`cairn ls -i plain-identity.txt ${d.url} ${f.snapB.slice(0, 12)}`, { cwd: f.dir, env: f.env });
    expect(r3.status, r3.stderr).toBe(14);
    expect(r3.stderr).toMatch(/carries no id key: give the repository's key file with --repo-key FILE/);
  });
});

describe("a pack planted next to the real ones, claiming their objects with other bytes", () => {
  // Its index file and its pack id both sort first, so neither the first copy listed nor the
  // lowest pack id is the real one: only the store's clock tells (docs/repository.md).
  it("restore, pull -i, ls -i and the restore test read the copy in the oldest pack, as prune counts it", async () => {
    const d = await damaged("shadow-read");
    await plantShadowPack(d.storage);
    const fused = await shA(`cairn restore -i owner.key ${d.url} ${f.snapB} -x out-shadow-fused`, { cwd: f.dir, env: f.env });
    expect(fused.stderr).toBe("");
    expect(fused.status).toBe(0);
    const piped = await restore(d.url, f.snapB, "out-shadow-piped");
    expect(piped.stderr).toBe("");
    expect(piped.status).toBe(0);
    for (const out of ["out-shadow-fused", "out-shadow-piped"]) {
      const diff = await shA(`diff -r data ${out}/data`, { cwd: f.dir, env: f.env });
      expect(diff.stdout.toString() + diff.stderr).toBe("");
      expect(diff.status).toBe(0);
    }
    const ls = await shA(`cairn ls -i owner.key ${d.url} ${f.snapB}`, { cwd: f.dir, env: f.env });
    expect(ls.stderr).toBe("");
    expect(ls.status).toBe(0);
    expect(ls.stdout.toString()).toContain("data/onlyB.bin");
    await expectRestores(d.url, f.snapB);
  });

  it("pull --raw passes on the copy in the oldest pack: the mirror restores", async () => {
    const d = await damaged("shadow-raw");
    await plantShadowPack(d.storage);
    const mirror = `file://${join(f.dir, "mirror-shadow-raw")}`;
    expect((await cairnA(["init", mirror, "--writer-key", "writer.key"], { env: f.env, cwd: f.dir })).status).toBe(0);
    const copied = await shA(`cairn pull --raw ${d.url} ${f.snapB} | cairn push ${mirror}`, { env: f.env, cwd: f.dir });
    expect(copied.stderr).toBe("");
    expect(copied.status).toBe(0);
    const back = await shA(`cairn restore -i owner.key ${mirror} ${f.snapB} -x out-shadow-mirror && diff -r data out-shadow-mirror/data`, { cwd: f.dir, env: f.env });
    expect(back.stdout.toString() + back.stderr).toBe("");
    expect(back.status).toBe(0);
  });
});

describe("choosing the snapshot to restore", () => {
  it("latest is the newest snapshot a pinned writer signed: planted newer ones are skipped with a warning", async () => {
    const d = await damaged("planted-latest");
    const b = await readSnapshot(d.storage, f.snapB);
    const later = new Date(Date.parse(b.commit.time) + 3600_000).toISOString();
    const stranger = await plantSnapshot(d.storage, signByStranger({ ...b.commit, time: later }));
    const forged = await plantSnapshot(d.storage, { ...b.commit, time: later }); // B's signature over another time
    for (const cmd of [
      `cairn restore -i owner.key ${d.url} latest -x out-latest-fused`,
      `cairn pull -i owner.key ${d.url} latest | cairn seal -d -i owner.key | cairn chunk -d -i owner.key | cairn snapshot -x out-latest-pipe`,
    ]) {
      const r = await shA(cmd, { cwd: f.dir, env: f.env });
      expect(r.status).toBe(0);
      const warnings = r.stderr.trim().split("\n");
      expect(warnings).toHaveLength(2);
      expect(warnings.find((w) => w.includes(stranger.slice(0, 12)))).toMatch(/^cairn-(restore|pull): warning: skipped the newer snapshot [0-9a-f]{12}: COMMIT is signed by writer [0-9a-f]{16}…, which is not pinned/);
      expect(warnings.find((w) => w.includes(forged.slice(0, 12)))).toMatch(/does not verify/);
    }
    // ls marks the two as not trusted, and only them.
    const ls = (await shA(`cairn ls ${d.url}`, { cwd: f.dir, env: f.env })).stdout.toString().trim().split("\n").slice(1);
    expect(ls.filter((l) => l.endsWith("(NOT TRUSTED)")).map((l) => l.slice(0, 12)).sort()).toEqual([stranger.slice(0, 12), forged.slice(0, 12)].sort());
    expect(ls).toHaveLength(4);
    // A transport host's pull --raw still takes the newest object.
    const raw = await shA(`cairn pull --raw ${d.url} latest | cairn inspect | head -1`, { cwd: f.dir, env: f.env });
    expect(raw.stdout.toString()).toContain(later);
    // No snapshot signed by a pinned writer at all: a key error that says why, not "no snapshot".
    const none = await shA(`cairn restore -i owner.key ${d.url} latest -x out-none`, { cwd: f.dir, env: { ...f.env, CAIRN_WRITERS: "/dev/null" } });
    expect(none.status).toBe(14);
    const lines = none.stderr.trim().split("\n");
    expect(lines.slice(0, -1)).toHaveLength(4); // one warning per snapshot skipped
    for (const w of lines.slice(0, -1)) expect(w).toMatch(/^cairn-restore: warning: skipped the newer snapshot [0-9a-f]{12}: /);
    expect(lines.at(-1)).toBe("cairn-restore: no snapshot in the repository signed by a pinned writer and not dated in the future (4 newer snapshot(s) skipped, each named in a warning above)");
    // A filter or date that matches nothing is still "no such snapshot" (15), whatever else the bucket holds.
    const nothing = await shA(`cairn restore -i owner.key ${d.url} 2001-01-01 -x out-nothing`, { cwd: f.dir, env: f.env });
    expect(nothing.status).toBe(15);
    expect(nothing.stderr).toBe("cairn-restore: no snapshot at or before 2001-01-01\n");
  });

  it("a damaged snapshot object named by its id is integrity (13), not 'no such snapshot'", async () => {
    const d = await damaged("damaged-snapshot");
    await flipByte(d.storage, snapshotKey(f.snapA), 10);
    // --no-cache: a good copy of the object in the local cache (same content id) would be used instead.
    const r = await shA(`cairn pull --no-cache -i owner.key ${d.url} ${f.snapA.slice(0, 12)} > /dev/null`, { cwd: f.dir, env: f.env });
    expect(r.status).toBe(13);
    expect(r.stderr).toBe(`cairn-pull: snapshot ${f.snapA} is damaged: its bytes do not hash to its name\n`);
    // Not named: listed and chosen past, with one warning line each.
    const skipped = `warning: snapshot ${f.snapA} is damaged: its bytes do not hash to its name (skipped)\n`;
    const latest = await shA(`cairn pull --no-cache -i owner.key ${d.url} latest > /dev/null`, { cwd: f.dir, env: f.env });
    expect(latest.status).toBe(0);
    expect(latest.stderr).toBe(`cairn-pull: ${skipped}`);
    const ls = await shA(`cairn ls --no-cache ${d.url}`, { cwd: f.dir, env: f.env });
    expect(ls.status).toBe(0);
    expect(ls.stderr).toBe(`cairn-ls: ${skipped}`);
  });
});

it("lists what the base repository holds (the cases above rely on B-only packs)", async () => {
  const storage = await openStorage(`file://${f.repo}`);
  expect(f.packsB.length).toBeGreaterThan(0);
  expect(f.indexB.length).toBeGreaterThan(0);
  expect((await keys(storage, INDEX_PREFIX)).length).toBeGreaterThan(f.indexB.length);
  for (const p of f.packsB) expect((await trailer(storage, p)).length).toBeGreaterThan(0);
});
