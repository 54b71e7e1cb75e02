// What only a folder store does: a full disk, temporary files left by killed writers, no Object Lock.
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { CairnError } from "@cairn/errors";
import { openStorage } from "@cairn/storage";
import { tempDir } from "./helpers/cli.js";

async function caught(p: Promise<unknown>): Promise<CairnError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(CairnError);
    return err as CairnError;
  }
  throw new Error("expected a CairnError, got success");
}

/** Mounting a small tmpfs (so the disk really fills) needs root; CI runs as root. */
const canMount = process.getuid?.() === 0;

function smallDisk(dir: string): () => void {
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir]);
  if (r.status !== 0) throw new Error(`mount tmpfs failed: ${r.stderr}`);
  return () => void spawnSync("umount", [dir]);
}

describe("folder storage", () => {
  it.skipIf(!canMount)("reports a full disk as an io error naming the object, and keeps what was there", async () => {
    const dir = tempDir("cairn-full-");
    const unmount = smallDisk(dir.path);
    try {
      const s = await openStorage(pathToFileURL(dir.path).href);
      await s.put("config", new TextEncoder().encode("original"));
      const e = await caught(s.put("packs/00/big", new Uint8Array(2 * 1024 * 1024)));
      expect(e.kind).toBe("io");
      expect(e.exitCode).toBe(19);
      expect(e.message).toBe(`disk full writing packs/00/big in ${s.url}`);
      const e2 = await caught(s.put("config", new Uint8Array(2 * 1024 * 1024)));
      expect(e2.message).toBe(`disk full writing config in ${s.url}`);
      // nothing half-written is visible, and no temporary file is left behind
      expect(Buffer.from(await s.get("config")).toString()).toBe("original");
      expect(await s.head("packs/00/big")).toBeUndefined();
      expect(readdirSync(dir.path).sort()).toEqual(["config", "packs"]);
      expect(readdirSync(join(dir.path, "packs/00"))).toEqual([]);
    } finally {
      unmount();
      dir.cleanup();
    }
  });

  it("hides temporary files from listings and removes those older than a given time", async () => {
    const dir = tempDir("cairn-tmpfiles-");
    try {
      const s = await openStorage(pathToFileURL(dir.path).href);
      await s.put("packs/00/a", new Uint8Array(3));
      mkdirSync(join(dir.path, "packs/01"), { recursive: true });
      const old = join(dir.path, "packs/01/.cairn-tmp-0123456789abcdef");
      const fresh = join(dir.path, "packs/00/.cairn-tmp-fedcba9876543210");
      writeFileSync(old, "left by a killed push");
      writeFileSync(fresh, "being written right now");
      utimesSync(old, new Date(Date.now() - 7_200_000), new Date(Date.now() - 7_200_000));
      const keys: string[] = [];
      for await (const o of s.list("")) keys.push(o.key);
      expect(keys).toEqual(["packs/00/a"]);
      expect(await s.abortStaleMultipartUploads!(new Date(Date.now() - 3_600_000))).toBe(1);
      expect(readdirSync(join(dir.path, "packs/01"))).toEqual([]);
      expect(readdirSync(join(dir.path, "packs/00")).sort()).toEqual([".cairn-tmp-fedcba9876543210", "a"]);
    } finally {
      dir.cleanup();
    }
  });

  it("says it has no Object Lock, so nobody claims immutability on a folder", async () => {
    const dir = tempDir("cairn-nolock-");
    try {
      const s = await openStorage(dir.path);
      expect(s.url).toBe(pathToFileURL(dir.path).href);
      expect(await s.lockInfo!()).toBeUndefined();
      expect(s.listVersions).toBeUndefined();
      expect(s.deleteVersion).toBeUndefined();
    } finally {
      dir.cleanup();
    }
  });

  it("reports a repository folder that does not exist as notFound on read", async () => {
    const s = await openStorage("file:///nonexistent/cairn/repo");
    const e = await caught(s.get("config"));
    expect(e.kind).toBe("notFound");
    expect(e.message).toBe("object config not found in file:///nonexistent/cairn/repo");
    const keys: string[] = [];
    for await (const o of s.list("")) keys.push(o.key);
    expect(keys).toEqual([]);
  });
});
