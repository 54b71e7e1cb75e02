// The valid plain vector is a stream cairn itself accepts end to end, not only at the framing
// level: `cairn snapshot -x` (the built CLI in dist) restores plain-one-file.hex.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseHex } from "./helpers.js";

const root = join(import.meta.dirname, "../../..");
const cairnBin = join(root, "packages/cairn/bin/cairn.js");
const tmp = mkdtempSync(join(tmpdir(), "cairn-vector-restore-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("protocol v1 test vectors, restored by cairn", () => {
  it("cairn snapshot -x restores plain-one-file.hex: the file, its content and its mode", () => {
    const bytes = parseHex(readFileSync(join(import.meta.dirname, "vectors/plain-one-file.hex"), "utf8"));
    const out = join(tmp, "x");
    const r = spawnSync(process.execPath, [cairnBin, "snapshot", "-x", out], { input: bytes, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const file = join(out, "srv/data/hello.txt");
    expect(readFileSync(file, "utf8")).toBe("hello, cairn\n");
    expect(statSync(file).mode & 0o7777).toBe(0o644);
    expect(statSync(file, { bigint: true }).mtimeNs / 1000n).toBe(1795773600123456n);
  });
});
