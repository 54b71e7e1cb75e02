// The repository end to end: real binaries in real shell pipelines, on a folder and on Ceph RGW.
// snapshot | chunk | seal | push to back up; pull -i | seal -d | chunk -d | snapshot -x to restore;
// pull --raw | push to replicate without keys.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "./helpers/cli.js";
import { cairnA, shA } from "./helpers/async-cli.js";
import { newBucketUrl, s3Available, type TestBucket } from "./helpers/s3.js";

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** Deterministic pseudo-random bytes (SHA-256 in counter mode). */
function bytes(seed: string, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0, at = 0; at < length; i++, at += 32) createHash("sha256").update(`${seed}/${i}`).digest().copy(out, at);
  return out;
}

interface Backend {
  name: string;
  setup: () => Promise<{ url: (name: string) => string; env: Record<string, string>; cleanup: () => Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: "a folder",
    setup: async () => {
      const d = tempDir("cairn-repo-store-");
      return { url: (name) => `file://${d.path}/${name}`, env: {}, cleanup: async () => d.cleanup() };
    },
  },
];
if (s3Available()) {
  backends.push({
    name: "Ceph RGW",
    setup: async () => {
      const b: TestBucket = await newBucketUrl({ tag: "repo" });
      return { url: (name) => `${b.url}/${name}`, env: b.env, cleanup: b.cleanup };
    },
  });
}

describe.each(backends)("the repository on $name", (backend) => {
  const dir = tempDir("cairn-repo-");
  const at = (name: string) => join(dir.path, name);
  let store: Awaited<ReturnType<Backend["setup"]>>;
  let env: Record<string, string>;
  let repo: string;

  beforeAll(async () => {
    store = await backend.setup();
    env = { ...store.env, CAIRN_WRITERS: at("writers"), CAIRN_CACHE: at("cache"), CAIRN_PASSPHRASE: "", CAIRN_WRITER_KEY: "", CAIRN_OWNER_KEY: "" };
    repo = store.url("main");
    mkdirSync(at("data/docs"), { recursive: true });
    writeFileSync(at("data/docs/app.conf"), "version = 1\n");
    writeFileSync(at("data/big.bin"), bytes("big", 800_000));
    writeFileSync(at("data/docs/notes.txt"), bytes("notes", 50_000).toString("base64"));
    const init = await cairnA(["init", repo, "--owner-key", at("owner.key"), "--writer-key", at("writer.key")], { env });
    expect(init.stderr).toMatch(/created repository/);
    expect(init.status).toBe(0);
  });
  afterAll(async () => {
    await store?.cleanup();
    dir.cleanup();
  });

  const backup = (label: string, extra = "") =>
    shA(`cd ${dir.path} && cairn snapshot --label ${label} data | cairn chunk -k writer.key | cairn seal -k writer.key ${extra} | cairn push ${repo} --json --known-out main.known`, { env });
  const restore = (selector: string, out: string, from = repo) =>
    shA(`cd ${dir.path} && cairn pull -i owner.key ${from} ${selector} | cairn seal -d -i owner.key | cairn chunk -d -i owner.key | cairn snapshot -x ${out}`, { env });

  it("backs up twice, lists both, and restores a file as it was in the older snapshot", async () => {
    const first = await backup("daily");
    expect(first.stderr).toBe("");
    expect(first.status).toBe(0);
    const s1 = JSON.parse(first.stdout.toString()).targets[0];
    writeFileSync(at("data/docs/app.conf"), "version = 2\n");
    const second = await backup("daily");
    expect(second.status).toBe(0);
    const s2 = JSON.parse(second.stdout.toString()).targets[0];
    // The big file is unchanged: its chunks are not uploaded again.
    expect(s2.reusedObjects).toBeGreaterThan(0);
    expect(s2.bytesOut).toBeLessThan(s1.bytesOut / 10);

    const ls = await cairnA(["ls", repo, "--json"], { env });
    expect(ls.status).toBe(0);
    const rows = ls.stdout.toString().trim().split("\n").map((l) => JSON.parse(l));
    expect(rows.map((r) => r.id)).toEqual([s1.snapshot, s2.snapshot]);
    expect(rows[0]).toMatchObject({ label: "daily", signer: expect.stringMatching(/^[0-9a-f]{64}$/) });

    const r = await restore(s1.snapshot.slice(0, 10), "old");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(readFileSync(at("old/data/docs/app.conf"), "utf8")).toBe("version = 1\n");
    expect(sha(readFileSync(at("old/data/big.bin")))).toBe(sha(bytes("big", 800_000)));
    // One file from the older snapshot: only its data travels.
    const one = await shA(`cd ${dir.path} && cairn pull -i owner.key ${repo} ${s1.snapshot} data/docs/app.conf --stats 2> one.stats | cairn seal -d -i owner.key | cairn chunk -d -i owner.key | cairn snapshot -x one`, { env });
    expect(one.stderr).toBe("");
    expect(one.status).toBe(0);
    expect(readFileSync(at("one/data/docs/app.conf"), "utf8")).toBe("version = 1\n");
    expect(readdirSync(at("one/data"))).toEqual(["docs"]);
    expect(readdirSync(at("one/data/docs"))).toEqual(["app.conf"]);
    expect(JSON.parse(readFileSync(at("one.stats"), "utf8")).bytesIn).toBeLessThan(200_000);
    const none = await shA(`cd ${dir.path} && cairn pull -i owner.key ${repo} latest no/such/path > /dev/null`, { env });
    expect(none.status).toBe(15);
    expect(none.stderr).toMatch(/cairn-pull: no entry of the snapshot is or lies under the PATHs given/);
    const latest = await restore("latest", "new");
    expect(latest.status).toBe(0);
    expect(readFileSync(at("new/data/docs/app.conf"), "utf8")).toBe("version = 2\n");
  });

  it("lists the files of a snapshot with the owner key, like ls -l, and refuses without it", async () => {
    const r = await cairnA(["ls", "-i", at("owner.key"), repo, "latest", "data/docs"], { env });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const lines = r.stdout.toString().trim().split("\n");
    expect(lines[0]).toMatch(/^drwx.* data\/docs$/);
    expect(lines.some((l) => /^-rw-.*\s12 \d{4}-\d\d-\d\d \d\d:\d\d data\/docs\/app\.conf$/.test(l))).toBe(true);
    expect(lines.some((l) => l.includes("big.bin"))).toBe(false);
    const json = await cairnA(["ls", "-i", at("owner.key"), repo, "latest", "--json"], { env });
    const rows = json.stdout.toString().trim().split("\n").map((l) => JSON.parse(l));
    expect(rows.find((x) => x.path === "data/big.bin")).toMatchObject({ kind: "file", size: 800_000 });
    const byLabel = await cairnA(["ls", repo, "--label", "daily", "--json"], { env });
    expect(byLabel.stdout.toString().trim().split("\n")).toHaveLength(2);
    const byTags = await cairnA(["ls", repo, "--tag", "daily", "--tag", "nope", "--json"], { env });
    expect(byTags.status).toBe(0);
    expect(byTags.stdout.toString()).toBe("");
    const keyless = await cairnA(["ls", repo, "latest"], { env });
    expect(keyless.status).toBe(2);
    expect(keyless.stderr).toMatch(/give the owner key with -i/);
  });

  it("replicates a snapshot to a second repository without a key, the same snapshot id on both", async () => {
    const mirror = store.url("mirror");
    // The mirror belongs to the same owner: its config carries the same key set.
    expect((await cairnA(["init", mirror, "--writer-key", at("writer.key")], { env })).status).toBe(0);
    const known = at("mirror.known");
    const first = await shA(`cairn pull --raw ${repo} latest | cairn push ${mirror} --json --known-out ${known}`, { env });
    expect(first.stderr).toBe("");
    expect(first.status).toBe(0);
    const latestId = (await cairnA(["ls", repo, "--json"], { env })).stdout.toString().trim().split("\n").pop()!;
    expect(JSON.parse(first.stdout.toString()).targets[0].snapshot).toBe(JSON.parse(latestId).id);
    // The older snapshot shares most objects: with the mirror's known file, pull sends references for them.
    const older = JSON.parse((await cairnA(["ls", repo, "--json"], { env })).stdout.toString().split("\n")[0]).id;
    const second = await shA(`cairn pull --raw ${repo} ${older} --have ${known} | cairn push ${mirror} --json`, { env });
    expect(second.status).toBe(0);
    const stats = JSON.parse(second.stdout.toString()).targets[0];
    expect(stats.bytesIn).toBeLessThan(100_000);
    expect(stats.snapshot).toBe(older);
    // Naming the destination repository works the same, without a known file.
    const third = await shA(`cairn pull --raw ${repo} ${older} --have ${mirror} | cairn push ${mirror} --json`, { env });
    expect(third.status).toBe(0);
    expect(JSON.parse(third.stdout.toString()).targets[0]).toMatchObject({ newObjects: 0, snapshot: older });
    expect(JSON.parse(third.stdout.toString()).targets[0].bytesIn).toBe(0);
    const r = await restore(older, "from-mirror", mirror);
    expect(r.status).toBe(0);
    expect(readFileSync(at("from-mirror/data/docs/app.conf"), "utf8")).toBe("version = 1\n");
  });

  it("keeps index files and snapshot objects in the local cache: a later run fetches only what is new", async () => {
    const stats = async (cache: string, selector: string) => {
      const r = await shA(`cairn pull --raw --stats ${repo} ${selector} > /dev/null`, { env: { ...env, CAIRN_CACHE: at(cache) } });
      expect(r.status).toBe(0);
      return JSON.parse(r.stderr) as { snapshot: string; requests: number };
    };
    expect((await backup("cache-first")).status).toBe(0); // at least one snapshot, whatever ran before
    const cold = await stats("cache-new", "latest");
    const warm = await stats("cache-new", cold.snapshot);
    const held = await shA(`cairn verify --json ${repo}`, { env });
    const { snapshots, indexFiles } = JSON.parse(held.stdout.toString()).stats;
    expect(indexFiles).toBeGreaterThan(0);
    // Every index file and snapshot object came from the cache the second time: one GET each
    // fewer; and a snapshot named by its full id is read alone, without a LIST of snapshots/.
    expect(cold.requests - warm.requests).toBe(indexFiles + snapshots + 1);
    // One more backup adds an index file and a snapshot: only the index file is fetched again
    // (the new snapshot is not the one named).
    writeFileSync(at("data/docs/cache-note.txt"), "new\n");
    expect((await backup("cache")).status).toBe(0);
    const after = await stats("cache-new", cold.snapshot);
    expect(after.requests - warm.requests).toBe(1);
    const latest = await stats("cache-new", "latest");
    expect(latest.requests - warm.requests).toBe(2); // the LIST and the new snapshot (its index file is cached now)
  });

  it("refuses to initialise over an existing repository", async () => {
    const r = await cairnA(["init", repo, "--writer-key", at("writer.key")], { env });
    expect(r.status).toBe(18);
    expect(r.stderr).toMatch(/already holds a repository/);
  });

  it("refuses a stream sealed for another owner's key set, committing nothing", async () => {
    const other = store.url("other");
    expect((await cairnA(["init", other, "--owner-key", at("other-owner.key"), "--writer-key", at("other-writer.key")], { env })).status).toBe(0);
    const r = await shA(`cd ${dir.path} && cairn snapshot data | cairn chunk -k writer.key | cairn seal -k writer.key | cairn push ${other}`, { env });
    expect(r.status).toBe(14);
    // One line from push (seal upstream then reports the closed pipe).
    const pushLines = r.stderr.split("\n").filter((l) => l.startsWith("cairn-push:"));
    expect(pushLines).toHaveLength(1);
    expect(pushLines[0]).toMatch(/sealed for key set .* belongs to key set/);
    expect((await cairnA(["ls", other, "--json"], { env })).stdout.toString()).toBe("");
  });

  it("refuses a stale known file: exit 17 and nothing committed", async () => {
    const known = at("main.known"); // written by the last backup's push
    const fresh = store.url("fresh");
    expect((await cairnA(["init", fresh, "--writer-key", at("writer.key")], { env })).status).toBe(0);
    const r = await shA(`cd ${dir.path} && cairn snapshot data | cairn chunk -k writer.key | cairn seal -k writer.key --known ${known} | cairn push ${fresh}`, { env });
    expect(r.status).toBe(17);
    expect(r.stderr).toMatch(/does not hold .* \(a stale known file\?\); nothing committed/);
    expect((await cairnA(["ls", fresh, "--json"], { env })).stdout.toString()).toBe("");
    // With the known file of the repository itself, the next backup sends references and commits.
    const ok = await backup("k", `--known ${known}`);
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout.toString()).targets[0].bytesIn).toBeLessThan(100_000);
  });

  it("pull fails with one line naming a missing pack (exit 15)", async () => {
    const victim = store.url("victim");
    expect((await cairnA(["init", victim, "--writer-key", at("writer.key")], { env })).status).toBe(0);
    expect((await shA(`cairn pull --raw ${repo} latest | cairn push ${victim}`, { env })).status).toBe(0);
    // Delete one pack through the storage layer's own URL, whatever the backend.
    const del = await shA(`node -e '
      const { openStorage } = await import("@cairn/storage");
      const s = await openStorage(process.argv[1]);
      for await (const o of s.list("packs/")) { await s.delete(o.key); console.log(o.key); break; }
    ' ${victim}`, { env, cwd: join(__dirname, "..", "packages", "storage") });
    expect(del.status).toBe(0);
    const r = await shA(`cairn pull --raw ${victim} latest > /dev/null`, { env });
    expect(r.status).toBe(15);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/pack [0-9a-f]{64} is missing from the repository/);
  });
});
