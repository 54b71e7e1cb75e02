// push and prune's deletion marks (docs/repository.md, "Garbage collection"): a push that runs
// long enough for prune to mark one of its packs — one it reuses, or one it wrote itself before
// any snapshot referred to it — must not commit a snapshot that depends on that pack.
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cairnAsync } from "./helpers/cli.js";
import { cairnA } from "./helpers/async-cli.js";
import { pushKeys } from "./helpers/push-keys.js";
import { fixtureSnapshot, fixtureStream, randomChunks } from "./helpers/sealed-fixture.js";

const keys = pushKeys("cairn-push-marks-");
const { dir, at, env } = keys;

const packIds = (repo: string) =>
  readdirSync(join(repo, "packs"), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /^[0-9a-f]{64}$/.test(e.name))
    .map((e) => e.name);

describe("push and deletion marks", () => {
  it("refuses to commit (exit 17, no snapshot) when prune marks a pack the push itself wrote", async () => {
    const repo = at("own");
    expect((await cairnA(["init", `file://${repo}`, "--writer-key", at("writer.key"), "--pack-size", String(64 * 1024)], { env })).status).toBe(0);
    const stream = await fixtureStream(fixtureSnapshot(randomChunks(40, 32 * 1024), { keyset: keys.keyset }));
    const child = cairnAsync(["push", `file://${repo}`, "--jobs", "1"], { env });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    child.stdin.write(stream.subarray(0, Math.floor(stream.length / 2)));
    // Once a pack of this push is stored, mark it as prune would (an empty object under marks/).
    let first: string | undefined;
    while (!first) {
      first = (() => {
        try {
          return packIds(repo)[0];
        } catch {
          return undefined;
        }
      })();
      if (!first) await new Promise((r) => setTimeout(r, 20));
    }
    mkdirSync(join(repo, "marks"), { recursive: true });
    writeFileSync(join(repo, "marks", first), "");
    child.stdin.end(stream.subarray(Math.floor(stream.length / 2)));
    expect(await exited).toBe(17);
    expect(stderr).toContain(`pack ${first}, which this snapshot wrote, was marked for deletion`);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    let snapshots: string[] = [];
    try {
      snapshots = readdirSync(join(repo, "snapshots"));
    } catch {
      snapshots = [];
    }
    expect(snapshots).toEqual([]);
  });

  it("commits the same stream when no pack is marked", async () => {
    const repo = at("clean");
    expect((await cairnA(["init", `file://${repo}`, "--writer-key", at("writer.key"), "--pack-size", String(64 * 1024)], { env })).status).toBe(0);
    const stream = await fixtureStream(fixtureSnapshot(randomChunks(40, 32 * 1024), { keyset: keys.keyset }));
    const r = await cairnA(["push", `file://${repo}`], { env, input: stream });
    expect(r.status).toBe(0);
    expect(readdirSync(join(repo, "snapshots"))).toHaveLength(1);
  });
});
