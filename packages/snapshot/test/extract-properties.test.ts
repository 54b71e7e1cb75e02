import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CairnError } from "@cairn/errors";
import { FrameType, type Frame } from "@cairn/protocol";
import { extractToDir } from "../src/index.js";

let base: string;
beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), "cairn-extract-prop-"));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const component = fc.constantFrom("a", "b", "..", ".", "", "victim", "outside");
const path = fc.oneof(
  fc.array(component, { minLength: 1, maxLength: 4 }).map((c) => c.join("/")),
  fc.constantFrom("/etc/x", "a/b", "a"),
);
// OUTSIDE stands for the absolute path of this run's outside directory (never a real system path).
const target = fc.constantFrom("..", "../outside", "../outside/victim", "a", "a/b", "OUTSIDE", "OUTSIDE/victim");
const entry = fc.oneof(
  // The classic attack, often enough to matter: a symlink out, then a write through it.
  fc.constantFrom("a", "b").chain((p) => fc.constant({ kind: "symlink", path: p, target: "OUTSIDE" })),
  fc.constantFrom("a/b", "a/victim", "b/victim").map((p) => ({ kind: "file", path: p, content: new Uint8Array([1]), corrupt: false })),
  fc.record({ kind: fc.constant("file"), path, content: fc.uint8Array({ maxLength: 64 }), corrupt: fc.boolean() }),
  fc.record({ kind: fc.constant("dir"), path }),
  fc.record({ kind: fc.constant("symlink"), path, target }),
  fc.record({ kind: fc.constant("hardlink"), path, target }),
);

interface Gen {
  kind: string;
  path: string;
  target?: string;
  content?: Uint8Array;
  corrupt?: boolean;
}

function framesOf(entries: Gen[], outside: string): Frame[] {
  const frames: Frame[] = [{ type: FrameType.START, meta: { stream: "plain", host: "h", time: "t", label: "l", tags: [] } }];
  for (const e of entries) {
    frames.push({ type: FrameType.ENTRY, meta: { kind: e.kind, path: e.path, target: e.target?.replace("OUTSIDE", outside), mode: 0o755, mtime: "1700000000000000000" } });
    if (e.kind === "file") {
      const content = e.content ?? new Uint8Array(0);
      frames.push({ type: FrameType.DATA, data: content });
      frames.push({ type: FrameType.ENTRY_END, meta: { size: content.length, sha256: e.corrupt ? sha(Buffer.from("x")) : sha(content) } });
    }
  }
  frames.push({ type: FrameType.END, meta: { entries: entries.length, partial: 0, unverified: false } });
  return frames;
}

describe("extractToDir on arbitrary streams", () => {
  it("never writes outside its directory and fails only with a CairnError", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(entry, { maxLength: 8 }), fc.boolean(), async (entries, overwrite) => {
        // Each run in its own jail: a restore directory and, beside it, what must stay untouched.
        const jail = join(base, `run-${run++}`);
        const outside = join(jail, "outside");
        mkdirSync(outside, { recursive: true });
        writeFileSync(join(outside, "victim"), "untouched");
        try {
          await extractToDir((async function* () { yield* framesOf(entries as Gen[], outside); })(), join(jail, "out"), { overwrite, warn: () => {} });
        } catch (err) {
          expect(err).toBeInstanceOf(CairnError);
        }
        expect(readdirSync(outside)).toEqual(["victim"]);
        expect(readFileSync(join(outside, "victim"), "utf8")).toBe("untouched");
        // Nothing beside them either ("out" is gone when the restore failed before writing anything).
        expect(readdirSync(jail).filter((n) => n !== "out")).toEqual(["outside"]);
        rmSync(jail, { recursive: true, force: true });
      }),
      { numRuns: 200 },
    );
  });
});
