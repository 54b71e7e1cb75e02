// push end to end: interrupted uploads, concurrent pushes from several hosts, per-target failures.
// The sealed streams here come from test/helpers/sealed-fixture.ts (push never opens a sealed
// object, so their payloads can be any bytes); real seal output is exercised in repo.test.ts.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cairnAsync } from "./helpers/cli.js";
import { cairnA, shA } from "./helpers/async-cli.js";
import { pushKeys } from "./helpers/push-keys.js";
import { fixtureSnapshot, fixtureStream, randomChunks } from "./helpers/sealed-fixture.js";
import { s3Available, withBucket } from "./helpers/s3.js";
import { startDeadServer, startFaultProxy } from "./helpers/fault-proxy.js";

const keys = pushKeys("cairn-push-e2e-");
const { dir, at, env } = keys;

async function newRepo(name: string, packSize = 64 * 1024): Promise<string> {
  const url = `file://${at(name)}`;
  expect((await cairnA(["init", url, "--writer-key", at("writer.key"), "--pack-size", String(packSize)], { env })).status).toBe(0);
  return url;
}

const count = (path: string) => {
  try {
    return readdirSync(path).length;
  } catch {
    return 0;
  }
};
/** Finished packs in a folder repository (packs/xx/<id>; temporary files start with a dot). */
const packs = (repo: string) => {
  try {
    return readdirSync(join(repo, "packs"), { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && /^[0-9a-f]{64}$/.test(e.name)).length;
  } catch {
    return 0;
  }
};

describe("cairn push", () => {
  it("after kill -9 mid-upload commits nothing, and the re-run uploads only what no finished pack holds", async () => {
    const repo = await newRepo("killed", 64 * 1024);
    const snap = fixtureSnapshot(randomChunks(60, 32 * 1024), { keyset: keys.keyset });
    const stream = await fixtureStream(snap);
    writeFileSync(at("killed.stream"), stream);
    const child = cairnAsync(["push", repo, "--jobs", "2"], { env });
    child.stdin.on("error", () => {}); // EPIPE once it is killed
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
    child.stdin.write(stream.subarray(0, Math.floor(stream.length * 0.7)));
    // Wait (without a deadline) until some packs are finished, then kill.
    while (packs(at("killed")) < 5) await new Promise((r) => setTimeout(r, 20));
    child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");
    expect(count(at("killed/snapshots"))).toBe(0);
    const finished = packs(at("killed"));

    const rerun = await shA(`cairn push ${repo} --json < ${at("killed.stream")}`, { env });
    expect(rerun.stderr).toBe("");
    expect(rerun.status).toBe(0);
    const stats = JSON.parse(rerun.stdout.toString()).targets[0];
    // Every finished pack (two 32 KiB chunks each, found by its trailer if no index file lists it
    // yet) is reused, not uploaded again.
    expect(stats.reusedObjects).toBeGreaterThanOrEqual(finished * 2 - 1);
    expect(stats.newObjects + stats.reusedObjects).toBe(snap.objects.length);
    expect(stats.bytesOut).toBeLessThan(stream.length - finished * 60 * 1024);
    expect((await shA(`cairn pull --raw ${repo} latest | cairn inspect > /dev/null`, { env })).status).toBe(0);
  });

  it("lets several hosts push into one repository at once; every snapshot is whole and shared chunks are stored once", async () => {
    const repo = await newRepo("shared", 32 * 1024);
    const shared = randomChunks(30, 8 * 1024);
    const hosts = ["a", "b", "c", "d"];
    for (const h of hosts) {
      writeFileSync(at(`host-${h}.stream`), await fixtureStream(fixtureSnapshot([...shared, ...randomChunks(10, 8 * 1024)], { keyset: keys.keyset, host: h })));
    }
    const r = await shA(hosts.map((h) => `cairn push ${repo} --json < ${at(`host-${h}.stream`)} > ${at(`host-${h}.json`)} &`).join("\n") + "\nwait", { env });
    expect(r.status).toBe(0);
    const ids = hosts.map((h) => JSON.parse(readFileSync(at(`host-${h}.json`), "utf8")).targets[0].snapshot);
    expect(new Set(ids).size).toBe(4);
    for (const id of ids) {
      const pull = await shA(`cairn pull --raw ${repo} ${id} | cairn inspect | grep -c '"type":"SEALED"'`, { env });
      expect(pull.status).toBe(0);
      expect(Number(pull.stdout.toString())).toBe(44); // 40 data chunks, manifest chunk and root, refs block and root
    }
    // A later push from any host finds the shared chunks, whoever uploaded them.
    writeFileSync(at("late.stream"), await fixtureStream(fixtureSnapshot(shared, { keyset: keys.keyset, host: "e" })));
    const late = JSON.parse((await shA(`cairn push ${repo} --json < ${at("late.stream")}`, { env })).stdout.toString()).targets[0];
    expect(late.reusedObjects).toBe(30);
  });

  it("commits to each of several repositories and reports the one that fails, exit code of its failure", async () => {
    const a = await newRepo("multi-a");
    const b = await newRepo("multi-b");
    writeFileSync(at("multi.stream"), await fixtureStream(fixtureSnapshot(randomChunks(5, 4096), { keyset: keys.keyset })));
    const r = await shA(`cairn push ${a} file://${at("missing")} ${b} --known-out ${at("multi.known")} < ${at("multi.stream")}`, { env });
    expect(r.status).toBe(15);
    expect(r.stderr.trim()).toMatch(/^cairn-push: file:\/\/.*missing: no cairn repository at/);
    const lines = r.stdout.toString().trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0].split(" ")[0]).toBe(lines[1].split(" ")[0]);
    for (const repo of [a, b]) expect((await cairnA(["ls", repo, "--json"], { env })).stdout.toString().split("\n").filter(Boolean)).toHaveLength(1);
  });

  it("a known-ids file that cannot be written after the commit: exit 19, one line saying the snapshot is committed, its id still printed", async () => {
    const repo = await newRepo("known-fail");
    writeFileSync(at("known-fail.stream"), await fixtureStream(fixtureSnapshot(randomChunks(3, 4096), { keyset: keys.keyset })));
    writeFileSync(at("not-a-dir"), "");
    const r = await shA(`cairn push ${repo} --known-out ${at("not-a-dir")}/known < ${at("known-fail.stream")}`, { env });
    expect(r.status).toBe(19);
    expect(r.stderr).toMatch(new RegExp(`^cairn-push: the snapshot is committed, but the known-ids file ${at("not-a-dir")}/known could not be written: [^\\n]*ENOTDIR[^\\n]*\\n$`));
    const id = r.stdout.toString().trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse((await cairnA(["ls", repo, "--json"], { env })).stdout.toString()).id).toBe(id);
    // Written, then not renamed into place (its name is a directory that is not empty): the
    // temporary file goes too, so a full disk does not collect them.
    mkdirSync(at("known-dir/blocker"), { recursive: true });
    const again = await shA(`cairn push ${repo} --known-out ${at("known-dir")} < ${at("known-fail.stream")}`, { env });
    expect(again.status).toBe(19);
    expect(readdirSync(dir.path).filter((n) => n.startsWith("known-dir."))).toEqual([]);
  });

  it("exits 3 for a partial snapshot and 4 for an unverified one, after committing", async () => {
    const repo = await newRepo("flags");
    writeFileSync(at("partial.stream"), await fixtureStream(fixtureSnapshot(randomChunks(2, 100), { keyset: keys.keyset, partial: 2 })));
    writeFileSync(at("unverified.stream"), await fixtureStream(fixtureSnapshot(randomChunks(2, 100), { keyset: keys.keyset, unverified: true })));
    expect((await shA(`cairn push ${repo} < ${at("partial.stream")}`, { env })).status).toBe(3);
    expect((await shA(`cairn push ${repo} < ${at("unverified.stream")}`, { env })).status).toBe(4);
    const ls = (await cairnA(["ls", repo], { env })).stdout.toString();
    expect(ls).toMatch(/\(partial\)/);
    expect(ls).toMatch(/\(unverified\)/);
  });

  it("refuses a truncated stream with exit 10 and commits nothing", async () => {
    const repo = await newRepo("truncated");
    const stream = await fixtureStream(fixtureSnapshot(randomChunks(4, 4096), { keyset: keys.keyset }));
    writeFileSync(at("truncated.stream"), stream.subarray(0, stream.length - 30));
    const r = await shA(`cairn push ${repo} < ${at("truncated.stream")}`, { env });
    expect(r.status).toBe(10);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(count(at("truncated/snapshots"))).toBe(0);
  });
});

// A push of NAME.stream into the folder repository NAME that stops after HALF bytes until ACT has
// run. ACT runs once the push has written a pack (so it has read the config and is mid-way),
// not after a fixed sleep, which a loaded machine outran.
function midPush(name: string, half: number, act: string): string {
  const go = at(`${name}.go`);
  const producer = `head -c ${half} ${at(`${name}.stream`)}; until [ -e ${go} ]; do sleep 0.05; done; tail -c +${half + 1} ${at(`${name}.stream`)}`;
  const written = `until [ -n "$(find ${at(`${name}/packs`)} -type f 2>/dev/null | head -n 1)" ]; do sleep 0.05; done; sleep 0.5`;
  return `(${producer}) | cairn push --no-cache file://${at(name)} & ${written}; ${act}; touch ${go}; wait $!`;
}

describe("a folder repository that vanishes during a push (a USB disk or NFS mount that dropped out)", () => {
  it("is not made anew: the push fails with 15, one line, and nothing appears where the repository was", async () => {
    await newRepo("vanishing", 16 * 1024);
    const stream = await fixtureStream(fixtureSnapshot(randomChunks(40, 8 * 1024), { keyset: keys.keyset }));
    writeFileSync(at("vanishing.stream"), stream);
    const half = Math.floor(stream.length / 2);
    const r = await shA(midPush("vanishing", half, `rm -rf ${at("vanishing")}`), { env });
    expect(r.status, r.stderr).toBe(15);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^cairn-push: .*the repository folder .*vanishing of file:\/\/.* is gone \(removed, or its disk unmounted\?\)/);
    expect(existsSync(at("vanishing"))).toBe(false);
  });

  it("a folder that is there again but empty (an unmounted disk's mount point) gets no commit either", async () => {
    await newRepo("remounted", 16 * 1024);
    const stream = await fixtureStream(fixtureSnapshot(randomChunks(40, 8 * 1024), { keyset: keys.keyset }));
    writeFileSync(at("remounted.stream"), stream);
    const half = Math.floor(stream.length / 2);
    const r = await shA(midPush("remounted", half, `rm -rf ${at("remounted")}; mkdir ${at("remounted")}`), { env });
    expect(r.status, r.stderr).toBe(15);
    expect(r.stderr).toMatch(/^cairn-push: .*holds no config any more \(removed, or its disk unmounted during the push\?\); nothing committed\n$/);
    expect(existsSync(at("remounted/snapshots"))).toBe(false);
  });
});

describe("a pipeline whose first stage fails or whose stream is damaged at its first byte", () => {
  it("commits nothing: chunk refuses no input and a damaged magic with 10 instead of backing them up as raw bytes", async () => {
    const repo = await newRepo("first-stage");
    mkdirSync(at("src"), { recursive: true });
    writeFileSync(at("src/a"), "some data\n".repeat(1000));
    const tail = `cairn chunk -k ${at("writer.key")} | cairn seal -k ${at("writer.key")} | cairn push ${repo}; echo "\${PIPESTATUS[*]}"`;
    // A usage error, and a first stage killed before it wrote a byte.
    for (const first of [`cairn snapshot --bogus ${at("src")}`, `timeout -s KILL 0.01 cairn snapshot ${at("src")}`]) {
      const r = await shA(`${first} | ${tail}`, { env });
      const codes = r.stdout.toString().trim().split(" ").map(Number);
      expect(codes.slice(1), r.stderr).toEqual([10, 12, 12]);
      expect(r.stderr).toMatch(/cairn-chunk: empty input: expected a cairn stream or raw bytes, and the stage before wrote nothing/);
    }
    // One flipped bit in the magic.
    const plain = (await shA(`cairn snapshot ${at("src")}`, { env })).stdout;
    plain[0] ^= 1;
    writeFileSync(at("flipped.stream"), plain);
    const r = await shA(`cat ${at("flipped.stream")} | ${tail}`, { env });
    expect(r.stdout.toString().trim()).toBe("0 10 12 12");
    expect(r.stderr).toMatch(/^cairn-chunk: not a cairn stream: it begins with 88636169726e0d0a, close to the magic 89636169726e0d0a/m);
    expect(count(at("first-stage/snapshots"))).toBe(0);
  });
});

describe.skipIf(!s3Available())("cairn push to Ceph RGW", () => {
  it("lets several hosts push into one bucket at once; every snapshot is whole", () =>
    withBucket(async ({ url, env: s3 }) => {
      const e = { ...env, ...s3 };
      expect((await cairnA(["init", url, "--writer-key", at("writer.key"), "--pack-size", String(32 * 1024)], { env: e })).status).toBe(0);
      const shared = randomChunks(20, 8 * 1024);
      const hosts = ["a", "b", "c"];
      for (const h of hosts) {
        writeFileSync(at(`s3-${h}.stream`), await fixtureStream(fixtureSnapshot([...shared, ...randomChunks(6, 8 * 1024)], { keyset: keys.keyset, host: h })));
      }
      const r = await shA(hosts.map((h) => `cairn push ${url} --json < ${at(`s3-${h}.stream`)} > ${at(`s3-${h}.json`)} &`).join("\n") + "\nwait", { env: e });
      expect(r.status).toBe(0);
      for (const h of hosts) {
        const id = JSON.parse(readFileSync(at(`s3-${h}.json`), "utf8")).targets[0].snapshot;
        const pull = await shA(`cairn pull --raw ${url} ${id} | cairn inspect | grep -c '"type":"SEALED"'`, { env: e });
        expect(pull.status).toBe(0);
        expect(Number(pull.stdout.toString())).toBe(30);
      }
    }, { tag: "push" }));
});

describe.skipIf(!s3Available())("cairn push and pull through a faulty network", () => {
  it("lose nothing when RGW answers 503s and connections reset, and fail with one line when the server is dead", () =>
    withBucket(async ({ url, env: s3 }) => {
      const direct = { ...env, ...s3 };
      expect((await cairnA(["init", url, "--writer-key", at("writer.key"), "--pack-size", String(16 * 1024)], { env: direct })).status).toBe(0);
      const proxy = await startFaultProxy({ target: process.env.CAIRN_S3_ENDPOINT!, seed: 7, slowDown: 0.15, resetRequest: 0.1, resetResponse: 0.1 });
      try {
        const faulty = { ...direct, CAIRN_S3_ENDPOINT: proxy.url };
        const snap = fixtureSnapshot(randomChunks(24, 6 * 1024), { keyset: keys.keyset });
        writeFileSync(at("faulty.stream"), await fixtureStream(snap));
        const r = await shA(`cairn push ${url} --json < ${at("faulty.stream")}`, { env: faulty });
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        const id = JSON.parse(r.stdout.toString()).targets[0].snapshot;
        // --json counts HTTP requests, every attempt: what the proxy saw (nothing else used it yet).
        expect(JSON.parse(r.stdout.toString()).targets[0].requests).toBe(proxy.stats.requests);
        const sums = async (e: Record<string, string>) => {
          const out = await shA(`cairn pull --raw ${url} ${id} | cairn inspect | grep '"type":"SEALED"' | sort | sha256sum`, { env: e });
          expect(out.status).toBe(0);
          return out.stdout.toString();
        };
        expect(await sums(faulty)).toBe(await sums(direct));
        expect(proxy.stats.slowDowns + proxy.stats.requestResets + proxy.stats.responseResets).toBeGreaterThan(0);
      } finally {
        await proxy.close();
      }
      // Every answer to the snapshot PUT lost, the PUT itself done: the snapshot is committed, and
      // push finds it there (one HEAD) instead of reporting a failure.
      const lossy = await startFaultProxy({ target: process.env.CAIRN_S3_ENDPOINT!, loseAnswers: { method: "PUT", path: /\/snapshots\// } });
      try {
        const again = fixtureSnapshot(randomChunks(3, 2048), { keyset: keys.keyset, label: "lost-answer" });
        writeFileSync(at("lost.stream"), await fixtureStream(again));
        const r = await shA(`cairn push ${url} < ${at("lost.stream")}`, { env: { ...direct, CAIRN_S3_ENDPOINT: lossy.url, CAIRN_S3_MAX_ATTEMPTS: "2" } });
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        expect(lossy.stats.responseResets).toBeGreaterThan(0);
        const listed = await shA(`cairn ls ${url} --json`, { env: direct });
        expect(listed.stdout.toString()).toContain(r.stdout.toString().trim());
      } finally {
        await lossy.close();
      }
      const dead = await startDeadServer();
      try {
        const r = await shA(`cairn push ${url} < ${at("faulty.stream")}`, { env: { ...direct, CAIRN_S3_ENDPOINT: dead.url } });
        expect(r.status).toBe(16);
        expect(r.stderr.trim().split("\n")).toHaveLength(1);
      } finally {
        await dead.close();
      }
    }, { tag: "faults" }));
});
