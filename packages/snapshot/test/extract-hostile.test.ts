// snapshot -x against hostile streams and a hostile local user (the restore-side review of
// session 8): a directory swapped for a symlink mid-restore, existing directories, names whose
// raw bytes disagree with their display form, malformed metadata, tar output that an
// extractor following symlinks would write through.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CairnError } from "@cairn/errors";
import type { Frame } from "@cairn/protocol";
import { extractToDir, extractToTar } from "../src/index.js";
import { START, END, entry, endOf, file, dirEntry } from "./plain-frames.js";

let dir: string;
let out: string;
let outside: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cairn-hostile-"));
  out = join(dir, "out");
  outside = join(dir, "outside");
  mkdirSync(outside);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));


/** The frames, running `between` once the frame at index `at` has been taken (the restore has acted on those before it). */
async function* framesWith(frames: Frame[], at: number, between: () => void): AsyncGenerator<Frame> {
  for (let i = 0; i < frames.length; i++) {
    if (i === at) between();
    yield frames[i];
  }
}

const failure = async (p: Promise<unknown>): Promise<CairnError> => {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(CairnError);
  return err as CairnError;
};

describe("a directory swapped for a symlink while the restore runs", () => {
  it("redirects no file and no directory's metadata outside DIR", async () => {
    const frames = [START, ...dirEntry("d", { mode: 0o750 }), ...dirEntry("d/sub", { mode: 0o751 }), ...file("d/sub/f1", "one"), ...file("d/sub/f2", "two", { mode: 0o4755 }), ...file("z", "last"), END];
    // After f1 is in place (the ENTRY of f2 is next), d/sub becomes a symlink to `outside`.
    const f2 = frames.findIndex((f) => f.meta?.path === "d/sub/f2");
    const swap = () => {
      renameSync(join(out, "d/sub"), join(out, "d/sub.old"));
      symlinkSync(outside, join(out, "d/sub"));
    };
    await extractToDir(framesWith(frames, f2, swap), out, { warn: () => {} });
    expect(readdirSync(outside)).toEqual([]);
    // f2 went where the restore's own directory went; that directory got its mode, outside did not.
    expect(readFileSync(join(out, "d/sub.old/f2"), "utf8")).toBe("two");
    expect(lstatSync(join(out, "d/sub.old")).mode & 0o7777).toBe(0o751);
    expect(lstatSync(outside).mode & 0o7777).toBe(0o755);
    expect(readFileSync(join(out, "z"), "utf8")).toBe("last");
  });

  it("(and, as before, refuses a later entry whose parent is now that symlink)", async () => {
    const frames = [START, ...dirEntry("d"), ...file("d/f1", "one"), ...file("e", "x"), ...file("d/f2", "two"), END];
    const f2 = frames.findIndex((f) => f.meta?.path === "d/f2");
    const swap = () => {
      renameSync(join(out, "d"), join(out, "d.old"));
      symlinkSync(outside, join(out, "d"));
    };
    const err = await failure(extractToDir(framesWith(frames, f2, swap), out, { warn: () => {} }));
    expect(err.kind).toBe("refused");
    expect(err.message).toBe("refusing to write d/f2: d is a symlink, and cairn never writes through one");
    expect(readdirSync(outside)).toEqual([]);
  });
});

describe("existing directories", () => {
  it("keep their mode without --overwrite, and take the stream's with it", async () => {
    mkdirSync(join(out, "d"), { recursive: true });
    chmodSync(join(out, "d"), 0o700);
    await extractToDir((async function* () { yield* [START, ...dirEntry("d", { mode: 0o1777 }), ...file("d/f", "x"), END]; })(), out, { warn: () => {} });
    expect(lstatSync(join(out, "d")).mode & 0o7777).toBe(0o700);
    rmSync(join(out, "d/f"));
    await extractToDir((async function* () { yield* [START, ...dirEntry("d", { mode: 0o750 }), ...file("d/f", "x"), END]; })(), out, { warn: () => {}, overwrite: true });
    expect(lstatSync(join(out, "d")).mode & 0o7777).toBe(0o750);
  });
});

describe("a directory entry after its contents (find -depth, tar --no-recursion d/f d)", () => {
  it("still gets its mode and mtime: this run made it, so it is not an existing directory", async () => {
    await extractToDir((async function* () { yield* [START, ...file("d/sub/f", "x"), ...dirEntry("d/sub", { mode: 0o750 }), ...dirEntry("d", { mode: 0o710 }), END]; })(), out, { warn: () => {} });
    expect(lstatSync(join(out, "d/sub")).mode & 0o7777).toBe(0o750);
    expect(lstatSync(join(out, "d")).mode & 0o7777).toBe(0o710);
    expect(Math.floor(lstatSync(join(out, "d")).mtimeMs)).toBe(1700000000123);
  });
});

describe("the temporary name", () => {
  it("is gone after a hard link to the entry itself (GNU tar's repeated member) with --overwrite", async () => {
    await extractToDir((async function* () { yield* [START, ...file("f", "x"), entry({ kind: "hardlink", path: "f", target: "f" }), END]; })(), out, { warn: () => {}, overwrite: true });
    expect(readdirSync(out)).toEqual(["f"]);
  });

  it("is never removed or reused when it was there before: the next free name is taken", async () => {
    // What a run killed with SIGKILL leaves, met again by a rerun with the same PID (a container's
    // PID 1) at the same entry: the rerun failed with EEXIST every time, until removed by hand.
    mkdirSync(join(out, "d"), { recursive: true });
    const mine = join(out, `.cairn-${process.pid}-1.tmp`);
    const left = join(out, "d", `.cairn-${process.pid}-3.tmp`);
    writeFileSync(mine, "user data");
    writeFileSync(left, "left by a killed run");
    const frames = [START, ...file("new", "x"), ...dirEntry("d"), { ...entry({ kind: "symlink", path: "d/l", target: "t" }) }, ...file("d/f", "y"), END];
    await extractToDir((async function* () { yield* frames; })(), out, { warn: () => {} });
    expect(readFileSync(join(out, "new"), "utf8")).toBe("x");
    expect(readFileSync(join(out, "d/f"), "utf8")).toBe("y");
    expect(lstatSync(join(out, "d/l")).isSymbolicLink()).toBe(true);
    expect(readFileSync(mine, "utf8")).toBe("user data");
    expect(readFileSync(left, "utf8")).toBe("left by a killed run");
    expect(readdirSync(join(out, "d")).sort()).toEqual([`.cairn-${process.pid}-3.tmp`, "f", "l"]);
  });
});

describe("entries a writer never emits are refused as a malformed stream (exit 10)", () => {
  const cases: [string, Frame[]][] = [
    ["a pathB64 that is not the raw form of the path", file("docs/readme", "x", { pathB64: Buffer.from(".bashrc").toString("base64") })],
    ["a pathB64 for a UTF-8 name", file("ok", "x", { pathB64: Buffer.from("ok").toString("base64") })],
    ["a pathB64 that is not a string", file("ok", "x", { pathB64: 123 })],
    ["a path that is not a string", [entry({ kind: "file", path: 123 }), endOf("")]],
    ["a mode of -1", file("m", "x", { mode: -1 })],
    ["a mode with file-type bits", file("m", "x", { mode: 0o100644 })],
    ["a negative size (--tar wrote it into the header: a tar no reader takes)", file("s", "", { size: -3 })],
    ["a size that is not a whole number", file("s", "x", { size: 1.5 })],
    ["a size given as a string", file("s", "x", { size: "1" })],
    ["a uid given as a string", file("u", "x", { uid: "0", gid: 0 })],
    ["a uid out of range", file("u", "x", { uid: 2 ** 32, gid: 0 })],
    ["an mtime beyond 10^21 nanoseconds", file("t", "x", { mtime: "1000000000000000000000" })],
    ["an empty symlink target", [entry({ kind: "symlink", path: "l", target: "" })]],
    ["a symlink target with a NUL byte", [entry({ kind: "symlink", path: "l", target: "a\u0000b" })]],
    ["a targetB64 that disagrees with the target", [entry({ kind: "symlink", path: "l", target: "x", targetB64: Buffer.from("/etc").toString("base64") })]],
  ];
  for (const [what, frames] of cases) {
    it(what, async () => {
      const err = await failure(extractToDir((async function* () { yield* [START, ...frames, END]; })(), out, { warn: () => {} }));
      expect(err.kind).toBe("stream");
      expect(existsSync(join(out, ".bashrc"))).toBe(false);
    });
  }

  it("--tar refuses a bad size before it writes the member's header (a negative one went into a header no tar reads, then failed with 1 or 13)", async () => {
    const parts: Uint8Array[] = [];
    const err = await failure((async () => {
      for await (const c of extractToTar((async function* () { yield* [START, ...file("s", "", { size: -3 }), END]; })(), { warn: () => {} })) parts.push(c);
    })());
    expect(err.kind).toBe("stream");
    expect(Buffer.concat(parts).length).toBe(0);
  });

  it("(while what snapshot writes passes: dates after 2262 and before 1970, uid 2^32-1 from a tar header)", async () => {
    const y2300 = "10413792000000000000"; // 2300-01-01T00:00:00Z
    const frames = [START, ...file("future", "x", { mtime: y2300 }), ...file("past", "y", { mtime: "-315619200000000000" }), ...file("nobody", "z", { uid: 2 ** 32 - 1, gid: 0 }), END];
    await extractToDir((async function* () { yield* frames; })(), out, { warn: () => {} });
    expect(new Date(lstatSync(join(out, "future")).mtimeMs).toISOString()).toBe("2300-01-01T00:00:00.000Z");
    expect(readFileSync(join(out, "past"), "utf8")).toBe("y");
    // To the microsecond (Node used to take a negative time for "now").
    const floorUs = (ns: bigint) => -((-ns + 999n) / 1000n);
    expect(floorUs(lstatSync(join(out, "past"), { bigint: true }).mtimeNs)).toBe(-315619200000000n);
    // Rounded down to the microsecond, as after 1970: -1.5 µs is -2 µs, not -1.
    await extractToDir((async function* () { yield* [START, ...file("epoch", "e", { mtime: "-1500" }), END]; })(), join(dir, "epoch"), { warn: () => {} });
    expect(floorUs(lstatSync(join(dir, "epoch/epoch"), { bigint: true }).mtimeNs)).toBe(-2n);
  });

  it("a name with control characters is shown escaped, never sent to the terminal", async () => {
    const err = await failure(extractToDir((async function* () { yield* [START, ...file("x\u001b[31m/..", "x"), END]; })(), out, { warn: () => {} }));
    expect(err.kind).toBe("refused");
    expect(err.message).toBe('refusing entry "x\\x1b[31m/..": it has a ".." component');
  });
});

describe("tar output never holds a member below or in place of a symlink it holds", () => {
  const tarOf = async (frames: Frame[]) => {
    const parts: Uint8Array[] = [];
    for await (const p of extractToTar((async function* () { yield* frames; })(), { warn: () => {} })) parts.push(p);
    return Buffer.concat(parts);
  };
  for (const [what, tail] of [
    ["a file below it", file("a/x", "pwned")],
    ["a file in its place", file("a", "pwned")],
    ["a hard link through it", [entry({ kind: "hardlink", path: "h", target: "a/x" })]],
  ] as [string, Frame[]][]) {
    it(what, async () => {
      const err = await failure(tarOf([START, entry({ kind: "symlink", path: "a", target: outside }), ...tail, END]));
      expect(err.kind).toBe("refused");
      expect(err.message).toMatch(/^refusing to write (a\/x|a|h) to the tar: a is a symlink in it/);
    });
  }

  it("(a symlink beside other members is fine)", async () => {
    const tar = await tarOf([START, entry({ kind: "symlink", path: "a", target: outside }), ...file("ab", "fine"), END]);
    expect(tar.length).toBeGreaterThan(1024);
  });

  it("a hard link to a symlink (`ln -P`) goes out as a symlink with its target, and nothing may go below or over it", async () => {
    const tar = await tarOf([START, entry({ kind: "symlink", path: "a", target: outside }), entry({ kind: "hardlink", path: "h", target: "a" }), END]);
    const members = spawnSync("tar", ["-tvf", "-"], { input: tar, encoding: "utf8" }).stdout;
    expect(members).toMatch(new RegExp(`^l.* h -> ${outside}$`, "m"));
    expect(members).not.toMatch(/link to/);
    for (const tail of [file("h", "pwned"), file("h/x", "pwned")]) {
      const err = await failure(tarOf([START, entry({ kind: "symlink", path: "a", target: outside }), entry({ kind: "hardlink", path: "h", target: "a" }), ...tail, END]));
      expect(err.message).toMatch(/^refusing to write h(\/x)? to the tar: h is a symlink in it/);
    }
  });
});

describe("--no-same-owner", () => {
  it("keeps the restoring user as owner and drops setuid/setgid, even as root", async () => {
    const frames = [START, ...file("suid", "#!/bin/sh\n", { mode: 0o6755, uid: 4242, gid: 4242 }), entry({ kind: "symlink", path: "l", target: "suid", uid: 4242, gid: 4242 }), END];
    await extractToDir((async function* () { yield* frames; })(), join(dir, "mine"), { warn: () => {}, noSameOwner: true });
    const st = lstatSync(join(dir, "mine/suid"));
    expect(st.mode & 0o7777).toBe(0o755);
    expect(st.uid).toBe(process.getuid!());
    expect(lstatSync(join(dir, "mine/l")).uid).toBe(process.getuid!());
    // (Without it, root restores the stream's owner and bits.)
    if (process.getuid!() === 0) {
      await extractToDir((async function* () { yield* frames; })(), join(dir, "theirs"), { warn: () => {} });
      const theirs = lstatSync(join(dir, "theirs/suid"));
      expect([theirs.mode & 0o7777, theirs.uid]).toEqual([0o6755, 4242]);
    }
  });
});

describe("held-open directories", () => {
  it("one fd per level: a tree 200 deep restores with 300 descriptors (two per level would need 400)", async () => {
    const deep = Array.from({ length: 200 }, () => "d").join("/");
    const frames: Frame[] = [START];
    for (let i = 1; i <= 200; i++) frames.push(...dirEntry(Array.from({ length: i }, () => "d").join("/")));
    frames.push(...file(`${deep}/f`, "deep"), END);
    // In a child process with the limit lowered: the fds the restore holds at the bottom of the tree.
    const script = `
      import { extractToDir } from ${JSON.stringify(new URL("../dist/index.js", import.meta.url).href)};
      const frames = ${JSON.stringify(frames.map((f) => ({ ...f, data: f.data ? Buffer.from(f.data).toString("base64") : undefined })))};
      async function* gen() { for (const f of frames) yield { ...f, data: f.data === undefined ? undefined : Buffer.from(f.data, "base64") }; }
      await extractToDir(gen(), ${JSON.stringify(out)}, { warn: () => {} });
    `;
    writeFileSync(join(dir, "deep.mjs"), script);
    const r = spawnSync("bash", ["-c", `ulimit -n 300 && exec ${JSON.stringify(process.execPath)} ${JSON.stringify(join(dir, "deep.mjs"))}`], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(readFileSync(join(out, deep, "f"), "utf8")).toBe("deep");
  });

  it.runIf(process.getuid?.() === 0)("a non-root user restores into and links within directories it may search but not read (0300)", async () => {
    mkdirSync(out);
    chmodSync(dir, 0o755);
    // w is left (its 0300 set) before the hard link into it comes.
    const frames = [START, ...dirEntry("w", { mode: 0o300 }), ...file("w/f", "x"), ...file("z", "z"), entry({ kind: "hardlink", path: "h", target: "w/f" }), END];
    writeFileSync(join(dir, "stream.json"), JSON.stringify(frames.map((f) => ({ ...f, data: f.data ? Buffer.from(f.data).toString("base64") : undefined }))));
    const script = `
      import { readFileSync } from "node:fs";
      import { extractToDir } from ${JSON.stringify(new URL("../dist/index.js", import.meta.url).href)};
      const frames = JSON.parse(readFileSync(${JSON.stringify(join(dir, "stream.json"))}, "utf8"));
      async function* gen() { for (const f of frames) yield { ...f, data: f.data === undefined ? undefined : Buffer.from(f.data, "base64") }; }
      await extractToDir(gen(), ${JSON.stringify(out)}, { warn: () => {} });
    `;
    writeFileSync(join(dir, "nonroot.mjs"), script);
    spawnSync("chown", ["-R", "nobody", out, join(dir, "nonroot.mjs"), join(dir, "stream.json")]);
    const r = spawnSync("runuser", ["-u", "nobody", "--", process.execPath, join(dir, "nonroot.mjs")], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(lstatSync(join(out, "h")).ino).toBe(lstatSync(join(out, "w/f")).ino);
    expect(lstatSync(join(out, "w")).mode & 0o7777).toBe(0o300);
  });
});

describe("restoring some paths (--include, restore PATH…)", () => {
  it("skips a hard link whose target the paths leave out, with a warning, and restores the rest", async () => {
    const warnings: string[] = [];
    const frames = [START, ...file("other/f", "content"), entry({ kind: "hardlink", path: "docs/h", target: "other/f" }), ...file("docs/g", "g"), END];
    await extractToDir((async function* () { yield* frames; })(), out, { warn: (m) => warnings.push(m), include: ["docs"] });
    expect(readdirSync(join(out, "docs"))).toEqual(["g"]);
    expect(warnings).toEqual(["docs/h: not restored: a hard link to other/f, which the paths asked for leave out"]);
    // (A whole restore still refuses a hard link to nothing: the stream is wrong then.)
    const err = await failure(extractToDir((async function* () { yield* [START, entry({ kind: "hardlink", path: "h", target: "nothing" }), END]; })(), join(dir, "whole"), { warn: () => {} }));
    expect(err.kind).toBe("notFound");
  });

  it("--tar skips it too: it wrote a link member to a file the tar does not hold, and tar -x failed on it", async () => {
    const warnings: string[] = [];
    const frames = [START, ...file("other/f", "content"), entry({ kind: "hardlink", path: "docs/h", target: "other/f" }), ...file("docs/g", "g"), entry({ kind: "hardlink", path: "docs/i", target: "docs/g" }), END];
    const parts: Uint8Array[] = [];
    for await (const c of extractToTar((async function* () { yield* frames; })(), { warn: (m) => warnings.push(m), include: ["docs"] })) parts.push(c);
    writeFileSync(join(dir, "some.tar"), Buffer.concat(parts));
    const listed = spawnSync("tar", ["tf", join(dir, "some.tar")], { encoding: "utf8" });
    expect(listed.stdout.split("\n").filter(Boolean)).toEqual(["docs/g", "docs/i"]);
    expect(warnings).toEqual(["docs/h: not restored: a hard link to other/f, which the paths asked for leave out"]);
  });
});
