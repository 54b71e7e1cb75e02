// cairn repair: the index rebuilt from the packs alone, and damage dropped so that the next
// backup re-uploads what was lost, which heals the older snapshots that share it.
import { createHash } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INDEX_PREFIX, indexKey, packKey } from "@cairn/repository";
import { openStorage } from "@cairn/storage";
import { cairnA, shA } from "./helpers/async-cli.js";
import { buildFixture, bytes, copyRepo, dataPackOfB, flipByte, keys, type Fixture } from "./helpers/damage.js";

let f: Fixture;
beforeAll(async () => {
  f = await buildFixture();
});
afterAll(() => f?.cleanup());

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

async function verifyJson(url: string, ...flags: string[]) {
  const r = await cairnA(["verify", url, "--json", "--no-cache", ...flags], { env: f.env, cwd: f.dir });
  return { status: r.status, report: JSON.parse(r.stdout.toString()) };
}

describe.concurrent("cairn repair", () => {
  it("repair index: rebuilds the index from pack trailers alone, superseding and deleting the old files", async () => {
    const dir = copyRepo(f, "rebuild");
    const url = `file://${dir}`;
    const storage = await openStorage(url);
    const before = await keys(storage, INDEX_PREFIX);
    expect(before.length).toBeGreaterThan(1);
    for (const name of before) await storage.delete(indexKey(name));
    expect((await verifyJson(url)).status).toBe(22);

    const r = await cairnA(["repair", "index", url], { env: f.env });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout.toString()).toMatch(new RegExp(`^rebuilt the index from ${f.packsA.length + f.packsB.length} packs \\(\\d+ objects\\): wrote 1 index file, removed 0\\n$`));
    const after = await keys(storage, INDEX_PREFIX);
    expect(after).toHaveLength(1);
    const v = await verifyJson(url, "--read-data", "-i", "owner.key");
    expect(v.report.problems).toEqual([]);
    expect(v.status).toBe(0);

    // Again: the new file supersedes the previous one, which is then deleted.
    const again = await cairnA(["repair", "index", url, "--json"], { env: f.env });
    expect(again.status).toBe(0);
    expect(JSON.parse(again.stdout.toString())).toMatchObject({ superseded: after });
    expect(await keys(storage, INDEX_PREFIX)).toHaveLength(1);
    expect((await verifyJson(url)).status).toBe(0);
  });

  it("repair -i after a flipped byte: keeps the good objects, drops the bad chunk, and the next backup heals the older snapshot", async () => {
    const dir = copyRepo(f, "heal");
    const url = `file://${dir}`;
    const storage = await openStorage(url);
    const { pack, entry } = await dataPackOfB(storage, f);
    await flipByte(storage, packKey(pack), entry.offset + entry.length - 20);

    const r = await cairnA(["repair", url, "-i", "owner.key"], { env: f.env, cwd: f.dir });
    expect(r.status).toBe(22);
    expect(r.stderr).toMatch(new RegExp(`^cairn-repair: repacked pack ${pack} without its 1 damaged object as [0-9a-f]{64}$`, "m"));
    expect(r.stdout.toString()).toMatch(new RegExp(`^1 snapshot stays damaged until a backup uploads the dropped chunks again:\\n  ${f.snapB} \\S+ \\S+ data\\n$`));
    expect(readdirSync(join(dir, "damaged"))).toEqual([pack]);
    const damaged = await verifyJson(url, "--read-data");
    expect(damaged.status).toBe(22);
    expect(damaged.report.problems).toEqual([expect.objectContaining({ object: `object ${Buffer.from(entry.id).toString("hex")}`, snapshots: [f.snapB] })]);

    // The same data backed up again: the dropped chunk goes up again, and B is whole once more.
    const backup = await shA(`cd ${f.dir} && cairn backup -k writer.key --pack-size 200000 ${url} data`, { env: f.env });
    expect(backup.status).toBe(0);
    const healed = await verifyJson(url, "--read-data", "-i", "owner.key");
    expect(healed.report.problems).toEqual([]);
    expect(healed.status).toBe(0);
    const out = join(f.dir, "healed-b");
    const restore = await shA(`cairn pull -i owner.key ${url} ${f.snapB} | cairn seal -d -i owner.key | cairn chunk -d -i owner.key | cairn snapshot -x ${out}`, { env: f.env, cwd: f.dir });
    expect(restore.stderr).toBe("");
    expect(restore.status).toBe(0);
    expect(sha(readFileSync(join(out, "data/onlyB.bin")))).toBe(sha(bytes("onlyB", 300_000)));
    expect(readFileSync(join(out, "data/conf.txt"), "utf8")).toBe("version = 2\n");
  });

  it("repair without a key moves a pack whose bytes do not hash to its name aside and names what stays damaged", async () => {
    const dir = copyRepo(f, "keyless");
    const url = `file://${dir}`;
    const storage = await openStorage(url);
    const { pack, entry } = await dataPackOfB(storage, f);
    await flipByte(storage, packKey(pack), entry.offset + 10);
    const r = await cairnA(["repair", url, "--json"], { env: f.env });
    expect(r.status).toBe(22);
    const result = JSON.parse(r.stdout.toString());
    expect(result.moved).toEqual([pack]);
    expect(result.damagedSnapshots).toEqual([f.snapB]);
    expect(readdirSync(join(dir, "damaged"))).toEqual([pack]);
    const v = await verifyJson(url, "--read-data");
    expect(v.report.problems.every((p: any) => p.kind === "object" && p.snapshots.join() === f.snapB)).toBe(true);
    expect(v.report.snapshots.find((s: any) => s.id === f.snapA).status).toBe("ok");
    // No push resurrects it: the pack is no longer under packs/.
    expect((await storage.head(packKey(pack))) === undefined).toBe(true);
  });

  it("a file named like a pack that no index lists and that has no trailer stops prune (22) until repair moves it aside", async () => {
    const dir = copyRepo(f, "junk-pack");
    const url = `file://${dir}`;
    const storage = await openStorage(url);
    const junk = sha(Buffer.from("not a pack"));
    await storage.put(packKey(junk), Buffer.from("not a pack"));
    const prune = () => cairnA(["prune", url, "--grace", "0s", "--json", "--no-cache"], { env: f.env });
    const blocked = await prune();
    expect(blocked.status).toBe(22);
    expect(JSON.parse(blocked.stdout.toString()).problems).toEqual([expect.stringMatching(new RegExp(`^pack ${junk} is not indexed and its trailer cannot be read: .*\\(cairn repair moves it aside\\)$`))]);
    // A push, which indexes packs no index lists from their trailers, says so and goes on.
    const again = await shA(`cairn pull --raw ${url} ${f.snapB} | cairn push ${url}`, { env: f.env, cwd: f.dir });
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(new RegExp(`^cairn-push: warning: ${url}: pack ${junk} is in no index file and its trailer cannot be read \\(.*\\): left out; cairn repair moves it aside\n$`));
    const r = await cairnA(["repair", url, "--json"], { env: f.env });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.toString()).moved).toEqual([junk]);
    expect(readdirSync(join(dir, "damaged"))).toEqual([junk]);
    expect((await prune()).status).toBe(0);
    expect((await verifyJson(url, "--read-data")).report.problems).toEqual([]);
  });

  it("a pack or index file of a later format is not damage: repair, verify and prune stop with 11 and move or delete nothing", async () => {
    const dir = copyRepo(f, "later-format");
    const url = `file://${dir}`;
    const storage = await openStorage(url);
    const bytes = Buffer.from(await storage.get(packKey(f.packsB[0])));
    const trailerAt = bytes.length - 4 - bytes.readUInt32BE(bytes.length - 4);
    bytes[trailerAt + 7] = 2; // "cairnpk" 0x02
    const later = sha(bytes);
    await storage.put(packKey(later), bytes);
    for (const args of [["repair", url], ["prune", url, "--grace", "0s", "--no-cache"]]) {
      const r = await cairnA(args, { env: f.env });
      expect(r.status, r.stderr).toBe(11);
      expect(r.stderr).toMatch(new RegExp(`pack ${later} has trailer format 2; this build reads 1 \\(a newer cairn wrote it: use that\\)`));
    }
    expect((await storage.head(packKey(later)))?.size).toBe(bytes.length);
    expect(await keys(storage, "damaged/")).toEqual([]);
    // An index file of a later format: read by no tool of this build, superseded by none.
    await storage.delete(packKey(later));
    const [name] = await keys(storage, INDEX_PREFIX);
    const index = Buffer.from(await storage.get(indexKey(name)));
    index[7] = 2; // "cairnix" 0x02
    await storage.delete(indexKey(name));
    await storage.put(indexKey(sha(index)), index);
    for (const args of [["repair", "index", url], ["verify", url, "--no-cache"], ["prune", url, "--no-cache"]]) {
      const r = await cairnA(args, { env: f.env });
      expect(r.status, `${args.join(" ")}: ${r.stderr}`).toBe(11);
      expect(r.stderr).toMatch(new RegExp(`index file ${sha(index)} has format 2; this build reads 1`));
    }
    expect(await keys(storage, INDEX_PREFIX)).toContain(sha(index));
  });

  it("the same byte damaged, the name kept: damage, which verify names (22) and repair mends, not a later format", async () => {
    const dir = copyRepo(f, "format-byte-damaged");
    const url = `file://${dir}`;
    const storage = await openStorage(url);
    const pack = f.packsB[0];
    const bytes = Buffer.from(await storage.get(packKey(pack)));
    bytes[bytes.length - 4 - bytes.readUInt32BE(bytes.length - 4) + 7] = 2;
    await storage.put(packKey(pack), bytes); // under its old name: it no longer hashes to it
    const v = await verifyJson(url, "--read-data");
    expect(v.status).toBe(22);
    expect(v.report.problems.map((p: any) => p.object)).toContain(`pack ${pack}`);
    const r = await cairnA(["repair", url, "--json"], { env: f.env });
    expect(r.status, r.stderr).toBe(22); // B stays damaged: its data went with the pack
    expect(JSON.parse(r.stdout.toString()).moved).toEqual([pack]);
    // An index file damaged in its format byte: repair index rebuilds the index (0).
    const [name] = await keys(storage, INDEX_PREFIX);
    const index = Buffer.from(await storage.get(indexKey(name)));
    index[7] = 2;
    await storage.put(indexKey(name), index);
    const ri = await cairnA(["repair", "index", url], { env: f.env });
    expect(ri.status, ri.stderr).toBe(0);
    expect(await keys(storage, INDEX_PREFIX)).not.toContain(name);
  });

  it("refuses what it cannot do: no repository (15), stray arguments (2)", async () => {
    const none = await cairnA(["repair", "index", `file://${f.dir}/nothing`], { env: f.env });
    expect(none.status).toBe(15);
    expect(none.stderr).toMatch(/^cairn-repair: no cairn repository/);
    const stray = await cairnA(["repair", `file://${f.repo}`, "extra"], { env: f.env });
    expect(stray.status).toBe(2);
  });
});
