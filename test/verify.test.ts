// cairn verify's own behaviour: --read-data subsets that rotate, --max-duration that resumes,
// the human summary and exit codes, and `verify -` on every kind of stream.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FrameType, encodeFrames, type Frame } from "@cairn/protocol";
import { openStorage } from "@cairn/storage";
import { readTrustedWriters } from "@cairn/keys";
import { verifyRepository, type VerifyOptions } from "@cairn/verify";
import { cairnA, shA } from "./helpers/async-cli.js";
import { buildFixture, type Fixture } from "./helpers/damage.js";

let f: Fixture;
let url: string;
beforeAll(async () => {
  f = await buildFixture();
  url = `file://${f.repo}`;
});
afterAll(() => f?.cleanup());

async function verify(opts: Partial<VerifyOptions>) {
  return verifyRepository(await openStorage(url), { trusted: readTrustedWriters(f.env.CAIRN_WRITERS), cache: false, ...opts });
}

async function collect(frames: Frame[]): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const b of encodeFrames(frames)) parts.push(b);
  return Buffer.concat(parts);
}

describe("reading data in parts", () => {
  it("--read-data n/t: t runs with n = 1…t read every pack exactly once", async () => {
    const all = (await verify({})).stats.packs;
    let read = 0;
    for (let n = 1; n <= 3; n++) {
      const r = await verify({ readData: { kind: "group", n, t: 3 } });
      expect(r.ok).toBe(true);
      read += r.stats.packsRead;
    }
    expect(read).toBe(all);
  });

  it("--read-data p% with a cache that cannot be written says so in the report, and leaves no temporary file", async () => {
    const cache = mkdtempSync(join(f.dir, "stuck-"));
    await verify({ readData: { kind: "percent", p: 25 }, cache });
    const [state] = readdirSync(cache, { recursive: true }).map(String).filter((p) => p.endsWith("verify-state.json"));
    // The state's name is taken by a directory that is not empty: writing it fails every time.
    rmSync(join(cache, state));
    mkdirSync(join(cache, state, "blocker"), { recursive: true });
    const notes: string[][] = [];
    const windows: string[] = [];
    for (let k = 0; k < 2; k++) {
      const r = await verify({ readData: { kind: "percent", p: 25 }, cache });
      notes.push(r.notes);
      windows.push(r.readData!);
    }
    expect(windows[0]).toBe(windows[1]);
    for (const n of notes) expect(n).toContain("verify could not save its state in the local cache (none given, or it cannot be written): the next --read-data 25% run checks this same window again");
    expect(readdirSync(cache, { recursive: true }).map(String).filter((p) => p.endsWith(".tmp"))).toEqual([]);
  });

  it("--read-data p%: the window moves on each finished run (counter in the local cache), so ⌈100/p⌉ runs read everything", async () => {
    const cache = mkdtempSync(join(f.dir, "state-"));
    const all = (await verify({})).stats.packs;
    let read = 0;
    const windows: string[] = [];
    for (let k = 0; k < 4; k++) {
      const r = await verify({ readData: { kind: "percent", p: 25 }, cache });
      read += r.stats.packsRead;
      windows.push(r.readData!);
    }
    expect(read).toBe(all);
    expect(windows).toEqual([0, 1, 2, 3].map((k) => expect.stringMatching(new RegExp(`25% window ${k + 1} `))));
  });

  it("--max-duration stops between packs and the next run resumes where it stopped", async () => {
    const cache = mkdtempSync(join(f.dir, "state-"));
    const all = (await verify({})).stats.packs;
    let runs = 0;
    let read = 0;
    for (;;) {
      // A budget already spent: each run checks one pack (always at least one) and stops.
      const r = await verify({ readData: { kind: "all" }, maxDurationMs: 0, jobs: 1, cache });
      runs++;
      read += r.stats.packsRead;
      expect(r.ok).toBe(true);
      if (r.complete) break;
      if (runs > all) throw new Error("verify does not make progress");
    }
    expect(runs).toBe(all);
    expect(read).toBe(all);
    // The state is spent: the next run starts from the beginning.
    expect((await verify({ readData: { kind: "all" }, cache })).stats.packsRead).toBe(all);
  });

  it("the CLI says when --max-duration stopped it, and exits 0", async () => {
    const r = await cairnA(["verify", url, "--read-data", "--max-duration", "1ms", "--jobs", "1", "--cache", join(f.dir, "cli-state")], { env: f.env });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout.toString()).toMatch(/read 1 packs .*\n.*stopped by --max-duration .* the next run resumes/s);
    // Without a cache its place is lost, and it says so instead of promising to resume.
    const lost = await cairnA(["verify", url, "--read-data", "--max-duration", "1ms", "--jobs", "1", "--no-cache"], { env: f.env });
    expect(lost.stdout.toString()).toMatch(/stopped by --max-duration before every pack was checked: its place could not be saved in the local cache, so the next run starts over\n/);
    expect(lost.stdout.toString()).not.toMatch(/resumes/);
  });
});

describe("the report and exit codes", () => {
  it("a clean repository: a human summary and exit 0", async () => {
    const r = await cairnA(["verify", url, "-i", "owner.key", "--restore-test", "latest"], { env: f.env, cwd: f.dir });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const out = r.stdout.toString();
    expect(out).toMatch(/2 snapshots \(2 signed by pinned writers\)/);
    expect(out).toMatch(/2 manifests, restored 3 files to nowhere/);
    expect(out).toMatch(/no problems found\n$/);
  });

  it("could not run: no repository (15), bad flags (2), the store down (16), a key that opens nothing (14)", async () => {
    const missing = await cairnA(["verify", `file://${f.dir}/nothing-here`], { env: f.env });
    expect(missing.status).toBe(15);
    expect(missing.stderr).toMatch(/^cairn-verify: no cairn repository at .*nothing-here/);
    expect(missing.stderr.trim().split("\n")).toHaveLength(1);

    const subset = await cairnA(["verify", url, "--read-data", "8/7"], { env: f.env });
    expect(subset.status).toBe(2);
    expect(subset.stderr).toMatch(/--read-data 8\/7: n\/t needs 1 ≤ n ≤ t/);
    const noKey = await cairnA(["verify", url, "--restore-test", "latest"], { env: f.env });
    expect(noKey.status).toBe(2);
    expect(noKey.stderr).toMatch(/--restore-test needs the owner key/);

    const down = await cairnA(["verify", "s3://nobucket/repo"], { env: { ...f.env, CAIRN_S3_ENDPOINT: "http://127.0.0.1:9", CAIRN_S3_MAX_ATTEMPTS: "1", AWS_ACCESS_KEY_ID: "x", AWS_SECRET_ACCESS_KEY: "y" } });
    expect(down.status).toBe(16);
    expect(down.stderr.trim().split("\n")).toHaveLength(1);

    expect((await cairnA(["key", "new", "-o", join(f.dir, "stranger.key")], { env: f.env })).status).toBe(0);
    const wrong = await cairnA(["verify", url, "-i", join(f.dir, "stranger.key")], { env: f.env });
    expect(wrong.stderr).toMatch(/^cairn-verify: /);
    expect(wrong.status).toBe(14);
  });

  it("snapshots signed by nobody pinned are problems (exit 22) when the trust file pins no one", async () => {
    writeFileSync(join(f.dir, "nobody"), "# no writers\n");
    const r = await cairnA(["verify", url, "--writers", join(f.dir, "nobody"), "--json"], { env: f.env });
    expect(r.status).toBe(22);
    const report = JSON.parse(r.stdout.toString());
    expect(report.problems.map((p: any) => p.kind)).toEqual(["unsigned", "unsigned"]);
    expect(report.snapshots.every((s: any) => s.status === "untrusted")).toBe(true);
  });
});

describe("verify - (a stream on stdin)", () => {
  const stream = (stages: string) => `cd ${f.dir} && cairn snapshot data ${stages}`;

  it("checks plain, chunked and sealed streams, more with the owner key", async () => {
    const cases: [string, string, RegExp][] = [
      ["", "", /a plain stream/],
      ["| cairn chunk -k writer.key", "", /chunk ids need the id key/],
      ["| cairn chunk -k writer.key", "-i owner.key", /a chunked stream/],
      ["| cairn chunk -k writer.key | cairn seal -k writer.key", "", /sealed objects need the owner key/],
      ["| cairn chunk -k writer.key | cairn seal -k writer.key", "-i owner.key", /a sealed stream/],
    ];
    for (const [stages, flags, note] of cases) {
      const r = await shA(`${stream(stages)} | cairn verify - ${flags}`, { env: f.env });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      expect(r.stdout.toString()).toMatch(note);
      expect(r.stdout.toString()).toMatch(/no problems found/);
    }
  });

  it("a file whose content does not match its digest: 22, naming the file", async () => {
    const bytes = await collect([
      { type: FrameType.START, meta: { stream: "plain", host: "h", time: new Date().toISOString(), label: "l", tags: [] } },
      { type: FrameType.ENTRY, meta: { kind: "file", path: "a.txt", mode: 0o644, mtime: "0" } },
      { type: FrameType.DATA, data: new TextEncoder().encode("abc") },
      { type: FrameType.ENTRY_END, meta: { size: 3, sha256: "00".repeat(32) } },
      { type: FrameType.END, meta: { entries: 1 } },
    ]);
    const r = await cairnA(["verify", "-", "--json"], { env: f.env, input: bytes });
    expect(r.status).toBe(22);
    expect(JSON.parse(r.stdout.toString()).problems).toEqual([expect.objectContaining({ object: "file a.txt", message: expect.stringMatching(/does not match its ENTRY_END/) })]);
  });

  it("a cut-off stream is 10, an upstream failure 12, a sealed stream by an unpinned writer 22", async () => {
    const cut = await shA(`${stream("")} | head -c 2000 | cairn verify -`, { env: f.env });
    expect(cut.status).toBe(10);
    const failed = await shA(`cairn snapshot --from-command --name x -- false | cairn verify -`, { env: f.env });
    expect(failed.status).toBe(12);
    expect(failed.stderr).toMatch(/^cairn-verify: cairn-snapshot failed: false exited/m);
    writeFileSync(join(f.dir, "nobody"), "# no writers\n");
    const unpinned = await shA(`${stream("| cairn chunk -k writer.key | cairn seal -k writer.key")} | cairn verify - --writers nobody --json`, { env: f.env });
    expect(unpinned.status).toBe(22);
    expect(JSON.parse(unpinned.stdout.toString()).problems[0]).toMatchObject({ kind: "unsigned", message: expect.stringMatching(/not pinned/) });
  });
});
