import { createHash, randomBytes } from "node:crypto";
import { appendFileSync, linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FrameType, type Frame } from "@cairn/protocol";
import { snapshotPaths, storedRoot } from "../src/index.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cairn-walk-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the walk, calling `during` on each frame as it is produced (before the next is read). */
async function walk(paths: string[], opts: Parameters<typeof snapshotPaths>[1] = {}, during?: (f: Frame) => void): Promise<{ frames: Frame[]; warnings: string[] }> {
  const warnings: string[] = [];
  const frames: Frame[] = [];
  for await (const f of snapshotPaths(paths, { warn: (m) => warnings.push(m), host: "test", ...opts })) {
    frames.push(f);
    during?.(f);
  }
  return { frames, warnings };
}

const entries = (frames: Frame[]) => frames.filter((f) => f.type === FrameType.ENTRY).map((f) => f.meta!);

describe("snapshotPaths", () => {
  it("stores paths as tar does: relative, normalised", () => {
    expect(storedRoot("/srv/data/")).toBe("srv/data");
    expect(storedRoot("./a/./b")).toBe("a/b");
    expect(storedRoot("../../x")).toBe("x");
    expect(storedRoot(".")).toBe("");
    expect(storedRoot("/")).toBe("");
  });

  it("walks depth-first in byte order, ENTRY_END after every entry, DATA of at most 1 MiB", async () => {
    mkdirSync(join(dir, "t/b"), { recursive: true });
    writeFileSync(join(dir, "t/c"), randomBytes(2_500_000));
    writeFileSync(join(dir, "t/a"), "a");
    writeFileSync(join(dir, "t/b/x"), "x");
    const { frames } = await walk([join(dir, "t")], { label: "L", tags: ["n"] });
    expect(frames[0].meta).toMatchObject({ stream: "plain", host: "test", label: "L", tags: ["n"] });
    const base = storedRoot(join(dir, "t"));
    expect(entries(frames).map((e) => e.path)).toEqual([base, `${base}/a`, `${base}/b`, `${base}/b/x`, `${base}/c`].map(String));
    expect(frames.filter((f) => f.type === FrameType.ENTRY_END)).toHaveLength(5);
    const data = frames.filter((f) => f.type === FrameType.DATA);
    expect(data.map((f) => f.data!.length)).toEqual([1, 1, 1 << 20, 1 << 20, 2_500_000 - 2 * (1 << 20)]);
    expect(frames.at(-1)!.meta).toEqual({ entries: 5, partial: 0, unverified: false });
  });

  it("sends a second link of an inode as a hard link to the first path", async () => {
    mkdirSync(join(dir, "h"));
    writeFileSync(join(dir, "h/one"), "same");
    linkSync(join(dir, "h/one"), join(dir, "h/two"));
    const { frames } = await walk(["h"].map((p) => join(dir, p)));
    const e = entries(frames);
    expect(e[2]).toMatchObject({ kind: "hardlink", target: e[1].path });
    expect(frames.filter((f) => f.type === FrameType.DATA)).toHaveLength(1);
  });

  it("keeps a name that is not UTF-8 as base64 next to a display form", async () => {
    const raw = Buffer.concat([Buffer.from(`${dir}/`), Buffer.from([0x62, 0xe9])]);
    writeFileSync(raw, "x");
    symlinkSync(Buffer.from([0x74, 0xff]) as unknown as string, Buffer.concat([Buffer.from(`${dir}/`), Buffer.from("l")]));
    const { frames } = await walk([dir]);
    const e = entries(frames);
    const file = e.find((x) => x.pathB64);
    expect(Buffer.from(file!.pathB64, "base64").subarray(-2)).toEqual(Buffer.from([0x62, 0xe9]));
    expect(e.find((x) => x.kind === "symlink")!.targetB64).toBe(Buffer.from([0x74, 0xff]).toString("base64"));
  });

  it("marks a file that grows while it is read as partial, and still completes", async () => {
    const big = join(dir, "growing");
    writeFileSync(big, randomBytes(3 << 20));
    let appended = false;
    const { frames, warnings } = await walk([big], {}, (f) => {
      if (f.type === FrameType.DATA && !appended) {
        appendFileSync(big, "more");
        appended = true;
      }
    });
    const end = frames.find((f) => f.type === FrameType.ENTRY_END)!.meta!;
    expect(end.partial).toBe("changed while it was read");
    expect(end.size).toBe(3 << 20);
    expect(warnings).toEqual([`${storedRoot(big)}: changed while it was read`]);
    expect(frames.at(-1)!.meta).toMatchObject({ entries: 1, partial: 1 });
  });

  it("counts a file that vanishes during the walk as partial", async () => {
    mkdirSync(join(dir, "v"));
    writeFileSync(join(dir, "v/a"), "a");
    writeFileSync(join(dir, "v/b"), "b");
    const { frames, warnings } = await walk([join(dir, "v")], {}, (f) => {
      if (f.type === FrameType.ENTRY && f.meta!.path.endsWith("/a")) unlinkSync(join(dir, "v/b"));
    });
    expect(entries(frames).map((e) => e.path.split("/").pop())).toEqual(["v", "a"]);
    expect(warnings).toEqual([`${storedRoot(join(dir, "v"))}/b: vanished before it could be read`]);
    expect(frames.at(-1)!.meta).toMatchObject({ entries: 2, partial: 1 });
  });

  it("records each file's SHA-256 after its data", async () => {
    const content = randomBytes(1_500_000);
    writeFileSync(join(dir, "f"), content);
    const { frames } = await walk([join(dir, "f")]);
    const end = frames.find((f) => f.type === FrameType.ENTRY_END)!.meta!;
    expect(end).toEqual({ size: content.length, sha256: createHash("sha256").update(content).digest("hex") });
  });

  it("does not descend into an excluded directory", async () => {
    mkdirSync(join(dir, "e/node_modules/x"), { recursive: true });
    writeFileSync(join(dir, "e/node_modules/x/y.js"), "");
    writeFileSync(join(dir, "e/keep.js"), "");
    writeFileSync(join(dir, "e/drop.log"), "");
    const { frames } = await walk([join(dir, "e")], { exclude: ["node_modules/", "*.log"] });
    expect(entries(frames).map((e) => e.path.split("/").pop())).toEqual(["e", "keep.js"]);
  });

  it("refuses a path that does not exist before writing anything", async () => {
    await expect(walk([join(dir, "missing")])).rejects.toMatchObject({ kind: "notFound" });
  });
});

describe("roots that overlap", () => {
  it("are refused before anything is read: one inside another, or two stored under one name", async () => {
    const base = mkdtempSync(join(tmpdir(), "cairn-overlap-"));
    try {
      mkdirSync(join(base, "data/sub"), { recursive: true });
      writeFileSync(join(base, "data/sub/f"), "x");
      const refused = async (paths: string[]) => {
        const err = await (async () => {
          for await (const _ of snapshotPaths(paths, { warn: () => {} }));
        })().then(() => undefined, (e: { kind?: string; message?: string }) => e);
        return [err?.kind, err?.message];
      };
      expect(await refused([join(base, "data"), join(base, "data/sub")])).toEqual(["usage", `${join(base, "data/sub")} lies inside ${join(base, "data")}: give only one of them`]);
      expect(await refused([join(base, "data/sub"), join(base, "data")])).toEqual(["usage", `${join(base, "data/sub")} lies inside ${join(base, "data")}: give only one of them`]);
      expect(await refused([join(base, "data"), `${join(base, "data")}/`])).toEqual(["usage", `${join(base, "data")}/ is stored under the same name as ${join(base, "data")}: give only one of them`]);
      // (Siblings whose names share a prefix are fine.)
      mkdirSync(join(base, "data2"));
      expect(await refused([join(base, "data"), join(base, "data2")])).toEqual([undefined, undefined]);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
