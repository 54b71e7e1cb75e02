// End-to-end: the real `cairn snapshot` and `cairn snapshot -x` binaries in real shell pipelines.
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, chownSync, existsSync, linkSync, lstatSync, lutimesSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FrameType, decodeFrames, encodeFrames, type Frame } from "@cairn/protocol";
import { spawnSync } from "node:child_process";
import { cairn, cairnAsync, sh, tempDir } from "./helpers/cli.js";

const asRoot = process.getuid?.() === 0;

/** Mounts a small tmpfs (needs root and a kernel that lets us); returns its unmount, or undefined. */
function mountTmpfs(at: string, size: string): (() => void) | undefined {
  if (!asRoot) return undefined;
  mkdirSync(at, { recursive: true });
  if (spawnSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "none", at]).status !== 0) return undefined;
  return () => void spawnSync("umount", [at]);
}
const canMount = (() => {
  const t = tempDir("cairn-mount-probe-");
  const un = mountTmpfs(join(t.path, "m"), "1m");
  un?.();
  t.cleanup();
  return un !== undefined;
})();
const NON_UTF8 = Buffer.from([0x6e, 0xff, 0xfe, 0x2e, 0x74, 0x78, 0x74]); // "n\xff\xfe.txt"

/** One line per entry of a tree, everything a restore must reproduce (mtime to the microsecond). */
function describeTree(root: string): string[] {
  const lines: string[] = [];
  const firstPathOfInode = new Map<number, string>();
  const visit = (abs: Buffer, rel: string) => {
    const st = lstatSync(abs, { bigint: true });
    const mtimeUs = (st.mtimeNs / 1000n).toString();
    const owner = asRoot ? ` owner=${st.uid}:${st.gid}` : "";
    const mode = (st.mode & 0o7777n).toString(8);
    if (st.isDirectory()) {
      lines.push(`dir ${rel} mode=${mode} mtime=${mtimeUs}${owner}`);
      const names = readdirSync(abs, { encoding: "buffer" }).sort(Buffer.compare);
      for (const n of names) visit(Buffer.concat([abs, Buffer.from("/"), n]), `${rel}/${n.toString("base64")}`);
    } else if (st.isSymbolicLink()) {
      lines.push(`symlink ${rel} -> ${readlinkSync(abs, { encoding: "buffer" }).toString("base64")} mtime=${mtimeUs}${owner}`);
    } else {
      const sha = createHash("sha256").update(readFileSync(abs)).digest("hex");
      const first = firstPathOfInode.get(Number(st.ino));
      if (first === undefined) firstPathOfInode.set(Number(st.ino), rel);
      const link = st.nlink > 1n ? ` links=${first ?? rel}` : "";
      lines.push(`file ${rel} mode=${mode} size=${st.size} sha=${sha} mtime=${mtimeUs}${owner}${link}`);
    }
  };
  visit(Buffer.from(root), ".");
  return lines;
}

/** A tree holding every kind of entry snapshot handles. */
function makeTree(src: string): void {
  mkdirSync(join(src, "docs/empty"), { recursive: true });
  mkdirSync(join(src, "readonly"));
  writeFileSync(join(src, "docs/hello.txt"), "hello, cairn\n");
  writeFileSync(join(src, "zero"), "");
  writeFileSync(join(src, "big.bin"), randomBytes(3 * 1024 * 1024 + 123));
  writeFileSync(join(src, "readonly/inside"), "in a read-only directory\n");
  writeFileSync(Buffer.concat([Buffer.from(`${src}/`), NON_UTF8]), "bytes under a name that is not UTF-8\n");
  linkSync(join(src, "docs/hello.txt"), join(src, "hardlink"));
  symlinkSync("/etc/hostname", join(src, "abs-link"));
  symlinkSync("docs/hello.txt", join(src, "rel-link"));
  chmodSync(join(src, "zero"), 0o4751);
  chmodSync(join(src, "docs/hello.txt"), 0o640);
  chmodSync(join(src, "docs/empty"), 0o1777);
  if (asRoot) {
    writeFileSync(join(src, "no-permissions"), "only root reads this\n");
    chmodSync(join(src, "no-permissions"), 0);
    chownSync(join(src, "big.bin"), 1234, 5678);
    chownSync(join(src, "docs"), 65534, 65534);
  }
  // Times with nanoseconds that are not whole microseconds: the restore keeps the microseconds.
  utimesSync(join(src, "big.bin"), 1_600_000_000.25, 1_600_000_000.123456);
  lutimesSync(join(src, "abs-link"), 1_500_000_000, 1_500_000_000.654321);
  chmodSync(join(src, "readonly"), 0o555);
}

let work: { path: string; cleanup: () => void };
let src: string;
let expected: string[];

beforeAll(() => {
  work = tempDir("cairn-snapshot-e2e-");
  chmodSync(work.path, 0o755);
  src = join(work.path, "src");
  mkdirSync(src);
  makeTree(src);
  utimesSync(src, 1_400_000_000, 1_400_000_000.5);
  expected = describeTree(src);
});
afterAll(() => work.cleanup());

function fresh(name: string): string {
  const p = join(work.path, name);
  mkdirSync(p);
  return p;
}

/** Encodes frames to stream bytes, as an upstream tool would. */
async function streamBytes(frames: Frame[]): Promise<Buffer> {
  const out: Uint8Array[] = [];
  for await (const piece of encodeFrames(frames)) out.push(piece);
  return Buffer.concat(out);
}

async function framesOf(bytes: Uint8Array): Promise<Frame[]> {
  const out: Frame[] = [];
  for await (const f of decodeFrames((async function* () { yield bytes; })())) out.push(f);
  return out;
}

const START: Frame = { type: FrameType.START, meta: { stream: "plain", host: "h", time: "2026-11-27T00:00:00.000Z", label: "x", tags: [] } };
const sha = (b: Uint8Array | string) => createHash("sha256").update(b).digest("hex");
function fileFrames(path: string, content: string, extra: Record<string, unknown> = {}): Frame[] {
  return [
    { type: FrameType.ENTRY, meta: { kind: "file", path, mode: 0o644, mtime: "1700000000000000000", ...extra } },
    { type: FrameType.DATA, data: Buffer.from(content) },
    { type: FrameType.ENTRY_END, meta: { size: Buffer.byteLength(content), sha256: sha(content) } },
  ];
}
const END: Frame = { type: FrameType.END, meta: { entries: 1, partial: 0, unverified: false } };

describe("snapshot DIR | snapshot -x OUT", () => {
  it("reproduces every kind of entry byte for byte and metadata for metadata", () => {
    const out = fresh("out-plain");
    const r = sh(`cd ${work.path} && cairn snapshot src | cairn snapshot -x ${out}`);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(describeTree(join(out, "src"))).toEqual(expected);
  });

  it("reproduces the tree through its own tar output and tar input", () => {
    const out = fresh("out-tar");
    const r = sh(`cd ${work.path} && cairn snapshot src | cairn snapshot -x --tar | cairn snapshot --tar | cairn snapshot -x ${out}`);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(describeTree(join(out, "src"))).toEqual(expected);
  });

  it("writes a tar that GNU tar extracts to the same tree", () => {
    const out = fresh("out-gnutar");
    const r = sh(`cd ${work.path} && cairn snapshot src | cairn snapshot -x --tar | tar -x -C ${out}`);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(describeTree(join(out, "src"))).toEqual(expected);
  });

  it("reads GNU tar's output: tar -c | snapshot --tar | snapshot -x --tar | tar -t lists the same entries, and the content survives", () => {
    const listed = sh(`cd ${work.path} && tar -c src | cairn snapshot --tar | cairn snapshot -x --tar | tar -t`);
    expect(listed.stderr).toBe("");
    expect(listed.status).toBe(0);
    const direct = sh(`cd ${work.path} && tar -c src | tar -t`);
    expect(listed.stdout.toString().split("\n").sort()).toEqual(direct.stdout.toString().split("\n").sort());

    const out = fresh("out-from-gnutar");
    const r = sh(`cd ${work.path} && tar -c src | cairn snapshot --tar | cairn snapshot -x --tar | tar -x -C ${out}`);
    expect(r.status).toBe(0);
    // GNU tar's default format keeps whole seconds: compare everything but the sub-second part.
    const seconds = (lines: string[]) => lines.map((l) => l.replace(/mtime=(\d+)/, (_, us: string) => `mtime=${us.slice(0, -6)}`));
    expect(seconds(describeTree(join(out, "src")))).toEqual(seconds(expected));
  });

  it("takes the owner from a pax record (an id above 07777777, a name longer than 32 bytes), where it stored uid 0 and no name", async () => {
    const d = fresh("paxowner");
    const longName = "u".repeat(40);
    const r = sh(`cd ${d} && echo x > f && tar --format=posix --owner=${longName}:3000000000 --group=g:3000000001 -cf o.tar f && cairn snapshot --tar < o.tar > o.stream`);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const entry = (await framesOf(readFileSync(join(d, "o.stream")))).find((f) => f.type === FrameType.ENTRY)!;
    expect(entry.meta).toMatchObject({ path: "f", uid: 3000000000, gid: 3000000001, uname: longName, gname: "g" });
  });

  it("-x --tar writes an owner the ustar header cannot hold in pax records: an id above 0777777, a name longer than 32 bytes", () => {
    const d = fresh("paxowner-out");
    const [u, g] = ["u".repeat(40), "g".repeat(70)];
    const r = sh(`cd ${d} && echo x > f && tar --format=posix --owner=${u}:3000000000 --group=${g}:300000 -cf o.tar f && cairn snapshot --tar < o.tar | cairn snapshot -x --tar | tar -tv`);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout.toString()).toMatch(new RegExp(`^-rw-r--r-- ${u}/${g} 2 .* f\n$`));
    const ids = sh(`cd ${d} && cairn snapshot --tar < o.tar | cairn snapshot -x --tar | tar -tv --numeric-owner`);
    expect(ids.stdout.toString()).toMatch(/^-rw-r--r-- 3000000000\/300000 2 .* f\n$/);
  });

  it("-x --tar writes an mtime after 2038 that GNU tar reads without a word: the header holds what it can, the pax record the exact time", () => {
    const d = fresh("future-out");
    for (const date of ["2100-01-01", "9999-12-31"]) {
      const r = sh(`cd ${d} && echo x > f && tar --format=posix --mtime=${date} -cf o.tar f && cairn snapshot --tar < o.tar | cairn snapshot -x --tar | tar -tv --full-time`);
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      expect(r.stdout.toString()).toContain(` ${date} 00:00:00 f\n`);
    }
  });

  it("restores only what --include names, with the directories above it", () => {
    const out = fresh("out-include");
    const r = sh(`cd ${work.path} && cairn snapshot src | cairn snapshot -x ${out} --include 'src/docs/' --include '*.bin'`);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const got = describeTree(join(out, "src")).map((l) => l.split(" ")[1]);
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    expect(got.sort()).toEqual([".", `./${b64("big.bin")}`, `./${b64("docs")}`, `./${b64("docs")}/${b64("empty")}`, `./${b64("docs")}/${b64("hello.txt")}`].sort());
  });

  it("leaves out what --exclude matches", () => {
    const r = sh(`cd ${work.path} && cairn snapshot src --exclude '*.bin' --exclude '/readonly/' | cairn inspect`);
    expect(r.status).toBe(0);
    const text = r.stdout.toString();
    expect(text).toContain("src/docs/hello.txt");
    expect(text).not.toContain("big.bin");
    expect(text).not.toContain("readonly");
  });

  it("labels and tags the snapshot", async () => {
    const r = sh(`cd ${work.path} && cairn snapshot src/docs --label nightly-docs --tag a --tag=b`);
    expect(r.status).toBe(0);
    const frames = await framesOf(r.stdout);
    expect(frames[0].meta).toMatchObject({ stream: "plain", label: "nightly-docs", tags: ["a", "b"] });
    expect(frames.at(-1)!.meta).toMatchObject({ entries: 3, partial: 0, unverified: false });
  });
});

describe("snapshot -x refuses what is unsafe", () => {
  it("never writes through a symlink: a -> outside, then a/passwd, leaves the outside untouched", () => {
    const outside = fresh("victim");
    writeFileSync(join(outside, "passwd"), "original\n");
    const evil = fresh("evil-src");
    symlinkSync(outside, join(evil, "a"));
    const tarFile = join(work.path, "evil.tar");
    // A real tar holding the symlink `a` and then a file `a/passwd`.
    const build = sh(`cd ${evil} && tar -cf ${tarFile} a && rm a && mkdir a && echo pwned > a/passwd && tar -rf ${tarFile} a/passwd`);
    expect(build.status).toBe(0);
    const out = fresh("out-evil");
    const r = sh(`cairn snapshot --tar < ${tarFile} | cairn snapshot -x ${out}`);
    expect(r.status).toBe(18);
    expect(r.stderr.trim()).toBe("cairn-snapshot: refusing to write a/passwd: a is a symlink, and cairn never writes through one");
    expect(readFileSync(join(outside, "passwd"), "utf8")).toBe("original\n");
    expect(readdirSync(outside)).toEqual(["passwd"]);
    expect(readlinkSync(join(out, "a"))).toBe(outside);
  });

  it("refuses an absolute entry path", async () => {
    const out = fresh("out-abs");
    const r = cairn(["snapshot", "-x", out], { input: await streamBytes([START, ...fileFrames("/etc/cairn-test", "x"), END]) });
    expect(r.stderr.trim()).toBe('cairn-snapshot: refusing entry "/etc/cairn-test": it is absolute');
    expect(r.status).toBe(18);
    expect(readdirSync(out)).toEqual([]);
  });

  it('refuses a ".." component', async () => {
    const out = fresh("out-dotdot");
    const r = cairn(["snapshot", "-x", out], { input: await streamBytes([START, ...fileFrames("a/../../escape", "x"), END]) });
    expect(r.stderr.trim()).toBe('cairn-snapshot: refusing entry "a/../../escape": it has a ".." component');
    expect(r.status).toBe(18);
    expect(existsSync(join(work.path, "escape"))).toBe(false);
  });

  it("refuses to overwrite an existing file unless --overwrite", async () => {
    const out = fresh("out-exists");
    writeFileSync(join(out, "f"), "mine\n");
    const input = await streamBytes([START, ...fileFrames("f", "theirs\n"), END]);
    const r = cairn(["snapshot", "-x", out], { input });
    expect(r.stderr.trim()).toBe("cairn-snapshot: refusing to overwrite existing f (use --overwrite)");
    expect(r.status).toBe(18);
    expect(readFileSync(join(out, "f"), "utf8")).toBe("mine\n");
    const again = cairn(["snapshot", "-x", out, "--overwrite"], { input });
    expect(again.status).toBe(0);
    expect(readFileSync(join(out, "f"), "utf8")).toBe("theirs\n");
  });

  it("refuses a file whose content does not match its SHA-256, and leaves nothing under its name", async () => {
    const out = fresh("out-integrity");
    const bad: Frame[] = [START, ...fileFrames("good", "fine\n"), ...fileFrames("bad", "original")];
    bad[5] = { type: FrameType.DATA, data: Buffer.from("tampered") };
    const r = cairn(["snapshot", "-x", out], { input: await streamBytes([...bad, { ...END, meta: { entries: 2, partial: 0, unverified: false } }]) });
    expect(r.stderr).toMatch(/^cairn-snapshot: "bad": content does not match its SHA-256 \(got [0-9a-f]{16}…, expected [0-9a-f]{16}…\)\n$/);
    expect(r.status).toBe(13);
    expect(readdirSync(out)).toEqual(["good"]);
  });

  it("keeps complete files from a stream that breaks off, and never shows the partial one", async () => {
    const out = fresh("out-truncated");
    const whole = await streamBytes([START, ...fileFrames("complete", "all of it\n"), ...fileFrames("cut", "x".repeat(100_000)), END]);
    const r = cairn(["snapshot", "-x", out], { input: whole.subarray(0, whole.length - 60_000) });
    expect(r.stderr).toMatch(/^cairn-snapshot: truncated frame #6 \(DATA\)/);
    expect(r.status).toBe(10);
    expect(readdirSync(out)).toEqual(["complete"]);
  });

  it("-x --tar on a stream that breaks off, is corrupt, or fails its digest: one line and the stream's exit code", async () => {
    const whole = await streamBytes([START, ...fileFrames("complete", "all of it\n"), ...fileFrames("cut", "x".repeat(100_000)), END]);
    const cut = cairn(["snapshot", "-x", "--tar"], { input: whole.subarray(0, whole.length - 60_000) });
    expect(cut.stderr).toMatch(/^cairn-snapshot: truncated frame #6 \(DATA\)[^\n]*\n$/);
    expect(cut.status).toBe(10);
    const flipped = Buffer.from(whole);
    flipped[whole.length - 50_000] ^= 1;
    const corrupt = cairn(["snapshot", "-x", "--tar"], { input: flipped });
    expect(corrupt.stderr).toMatch(/^cairn-snapshot: frame #6 \(DATA\) at byte \d+ is corrupt: checksum mismatch\n$/);
    expect(corrupt.status).toBe(10);
    const bad: Frame[] = [START, ...fileFrames("good", "fine\n"), ...fileFrames("bad", "original")];
    bad[5] = { type: FrameType.DATA, data: Buffer.from("tampered") };
    const tampered = cairn(["snapshot", "-x", "--tar"], { input: await streamBytes([...bad, { ...END, meta: { entries: 2, partial: 0, unverified: false } }]) });
    expect(tampered.stderr).toMatch(/^cairn-snapshot: "bad": content does not match its SHA-256 [^\n]*\n$/);
    expect(tampered.status).toBe(13);
  });

  it("refuses a stream that is not a plain cairn stream", async () => {
    const out = fresh("out-notplain");
    const r = cairn(["snapshot", "-x", out], { input: "just some text\n" });
    expect(r.stderr).toMatch(/^cairn-snapshot: not a cairn stream\b.*\n$/);
    expect(r.status).toBe(10);
    const chunked = await streamBytes([{ type: FrameType.START, meta: { ...START.meta, stream: "chunked" } }, END]);
    const c = cairn(["snapshot", "-x", out], { input: chunked });
    expect(c.stderr.trim()).toBe('cairn-snapshot: snapshot -x reads a plain stream, this one is "chunked" (run it through `cairn chunk -d` first)');
    expect(c.status).toBe(10);
  });
  it("removes its temporary file when interrupted mid-file, and exits 21", async () => {
    const out = fresh("out-interrupted");
    const bytes = await streamBytes([START, { type: FrameType.ENTRY, meta: { kind: "file", path: "slow", mode: 0o644, mtime: "0" } }, { type: FrameType.DATA, data: Buffer.alloc(1000) }]);
    const child = cairnAsync(["snapshot", "-x", out]);
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.stdin.write(bytes); // the stream stays open: the restore waits inside the file
    const deadline = Date.now() + 20_000;
    while (readdirSync(out).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(readdirSync(out)[0]).toMatch(/^\.cairn-\d+-1\.tmp$/);
    child.kill("SIGTERM");
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(stderr.trim()).toBe("cairn-snapshot: stopped by SIGTERM; nothing half-written was left behind");
    expect(code).toBe(21);
    expect(readdirSync(out)).toEqual([]);
  });
});

describe("snapshot --from-command and --stdin", () => {
  it("fails the snapshot when the command fails half-way: error frame, no end frame, exit 20", () => {
    const out = fresh("out-cmd-fail");
    const r = sh(`cairn snapshot --from-command --name dump.bin -- sh -c 'head -c 5000000 /dev/urandom; exit 3' > ${work.path}/failed.stream`);
    expect(r.stderr.trim()).toBe("cairn-snapshot: sh exited with status 3; the snapshot is incomplete");
    expect(r.status).toBe(20);
    const x = sh(`cairn snapshot -x ${out} < ${work.path}/failed.stream`);
    expect(x.stderr.trim()).toBe("cairn-snapshot: cairn-snapshot failed: sh exited with status 3; the snapshot is incomplete");
    expect(x.status).toBe(12);
    expect(readdirSync(out)).toEqual([]);
  });

  it("fails when the command dies on a signal", () => {
    const r = sh(`cairn snapshot --from-command --name d -- sh -c 'printf partial; kill -9 $$' | cat > /dev/null`);
    expect(r.stderr.trim()).toBe("cairn-snapshot: sh was killed by SIGKILL; the snapshot is incomplete");
    expect(r.status).toBe(20);
  });

  it("fails when the command cannot be run", () => {
    const r = sh(`cairn snapshot --from-command --name d -- /nonexistent/dump | cat > /dev/null`);
    expect(r.stderr.trim()).toBe("cairn-snapshot: cannot run /nonexistent/dump: not found");
    expect(r.status).toBe(20);
  });

  it("streams a command's output and passes its stderr through", () => {
    const r = sh(`cairn snapshot --from-command --name db.sql -- sh -c 'echo "SELECT 1;"; echo note >&2' | cairn snapshot -x --stdout`);
    expect(r.status).toBe(0);
    expect(r.stdout.toString()).toBe("SELECT 1;\n");
    expect(r.stderr).toBe("note\n");
  });

  it("marks raw stdin unverified, and the flag reaches END", async () => {
    const data = randomBytes(2_500_000);
    const r = cairn(["snapshot", "--stdin", "--name", "raw.bin"], { input: data });
    expect(r.status).toBe(0);
    const frames = await framesOf(r.stdout);
    expect(frames[1].meta).toMatchObject({ kind: "file", path: "raw.bin", unverified: true });
    expect(frames.at(-1)!.meta).toMatchObject({ entries: 1, unverified: true });
    const back = cairn(["snapshot", "-x", "--stdout"], { input: r.stdout });
    expect(back.status).toBe(0);
    expect(Buffer.compare(back.stdout, data)).toBe(0);
    expect(back.stderr).toContain("unverified");
  });
});

describe("snapshot -x --stdout and --tar", () => {
  it("writes one named entry's bytes", () => {
    const r = sh(`cd ${work.path} && cairn snapshot src | cairn snapshot -x --stdout src/docs/hello.txt`);
    expect(r.status).toBe(0);
    expect(r.stdout.toString()).toBe("hello, cairn\n");
  });

  it("refuses a stream of several entries when no path is named", () => {
    const r = sh(`cd ${work.path} && cairn snapshot src/docs/hello.txt src/zero | cairn snapshot -x --stdout`);
    expect(r.stderr.trim()).toBe("cairn-snapshot: the stream holds several entries: name the one to write (snapshot -x --stdout PATH)");
    expect(r.status).toBe(2);
  });

  it("spools an entry of unknown size so the tar header can carry it", () => {
    const r = sh(`printf 'from stdin' | cairn snapshot --stdin --name in.txt | cairn snapshot -x --tar | tar -xO in.txt`);
    expect(r.status).toBe(0);
    expect(r.stdout.toString()).toBe("from stdin");
  });

  it("rejects input that is not tar", () => {
    const r = sh(`head -c 2048 /dev/urandom | cairn snapshot --tar | cat > /dev/null`);
    expect(r.stderr.trim()).toMatch(/^cairn-snapshot: not a valid tar stream: /);
    expect(r.status).toBe(10);
  });

  it("refuses a tar member whose uid, mtime or symlink target a plain stream cannot hold, rather than back up what snapshot -x refuses", () => {
    // A ustar member "f" holding "hi\n", with raw bytes over some header fields (base-256
    // numbers, as GNU tar writes values too large for octal), after an optional pax header.
    const header = (name: string, type: string, size: number, raw: Record<number, Buffer> = {}) => {
      const h = Buffer.alloc(512);
      h.write(name, 0, "latin1");
      h.write("0000644\0", 100, "latin1");
      h.write("0000000\0", 108, "latin1");
      h.write("0000000\0", 116, "latin1");
      h.write(`${size.toString(8).padStart(11, "0")}\0`, 124, "latin1");
      h.write("14530000000\0", 136, "latin1");
      h.write(type, 156, "latin1");
      h.write("ustar\u000000", 257, "latin1");
      for (const [at, bytes] of Object.entries(raw)) bytes.copy(h, Number(at));
      h.fill(0x20, 148, 156);
      let sum = 0;
      for (const b of h) sum += b;
      h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
      return h;
    };
    const padded = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);
    const archive = (raw: Record<number, Buffer>, pax?: string) => {
      const members = [];
      if (pax !== undefined) {
        const record = ` ${pax}\n`;
        const body = Buffer.from(`${record.length + String(record.length + 2).length}${record}`);
        members.push(header("PaxHeader/f", "x", body.length), padded(body));
      }
      members.push(header("f", "0", 3, raw), padded(Buffer.from("hi\n")), Buffer.alloc(1024));
      return Buffer.concat(members);
    };
    const base256 = (value: bigint, width: number) => {
      const b = Buffer.alloc(width);
      b[0] = 0x80;
      for (let i = width - 1, v = value; i > 0; i--, v >>= 8n) b[i] = Number(v & 0xffn);
      return b;
    };
    // (The archive itself is good: a uid and an mtime that fit restore.)
    const good = cairn(["snapshot", "--tar"], { input: archive({ 108: base256(70000n, 8) }, "mtime=1700000000.5") });
    expect(good.stderr).toBe("");
    expect(cairn(["snapshot", "-x", join(work.path, "tar-good")], { input: good.stdout }).status).toBe(0);
    const cases: [Buffer, string][] = [
      [archive({ 108: base256(1n << 40n, 8) }), "no valid uid"],
      [archive({}, "mtime=99999999999999999999999.5"), "an mtime out of range"],
      [archive({ 136: base256(5n * 10n ** 12n, 12) }), "an mtime out of range"],
      [archive({ 136: base256(10n ** 15n, 12) }), "an mtime out of range"],
    ];
    // A symlink member with no target (typeflag 2, an empty linkname).
    const emptyLink = Buffer.concat([header("f", "2", 0), Buffer.alloc(1024)]);
    cases.push([emptyLink, "is a symlink with an empty target or one with a NUL byte"]);
    for (const [tar, why] of cases) {
      const r = cairn(["snapshot", "--tar"], { input: tar });
      expect(r.stderr).toBe(`cairn-snapshot: tar member "f" ${why.startsWith("is ") ? why : `has ${why}`}: snapshot -x could not restore it\n`);
      expect(r.status).toBe(10);
      // The stream ends in ERROR, so nothing downstream commits it.
      expect(cairn(["inspect"], { input: r.stdout }).status).toBe(12);
    }
  });

  it("rejects no input at all, and a tar cut off between two members (a producer that died), where tar-stream ends quietly", () => {
    const empty = sh(`false | cairn snapshot --tar | cairn snapshot -x --tar > /dev/null; echo "\${PIPESTATUS[*]}"`);
    expect(empty.stdout.toString().trim()).toBe("1 10 12");
    // (Both stages write stderr at once: the lines may come in either order.)
    expect(empty.stderr.split("\n")).toContain("cairn-snapshot: empty input: not a tar archive (the producer wrote nothing: did it fail?)");
    // Two members, cut right after the first one's data: a whole number of 512-byte blocks.
    const d = work.path;
    const cut = sh(`cd ${d} && mkdir -p tarcut && head -c 1000 /dev/urandom > tarcut/a && head -c 1000 /dev/urandom > tarcut/b && tar -cf tarcut.tar tarcut/a tarcut/b && head -c 1536 tarcut.tar | cairn snapshot --tar > /dev/null`);
    expect(cut.status).toBe(10);
    expect(cut.stderr.trim()).toBe("cairn-snapshot: the tar stream ends without its end-of-archive blocks: it was cut off (did the producer die?)");
    // (The whole archive is fine.)
    expect(sh(`cd ${d} && cairn snapshot --tar < tarcut.tar > /dev/null`).status).toBe(0);
    // Cut after a member that ends in a run of zeros (a disk image, a database file): zero bytes
    // at the end of the input are no end-of-archive marker unless they stand where a header belongs.
    // (header 512 + data 1000 + 65536 = 66536, padded to 66560; the next header would start at 67072)
    const zeros = sh(`cd ${d} && head -c 1000 /dev/urandom > tarcut/img && head -c 65536 /dev/zero >> tarcut/img && tar -cf zeros.tar tarcut/img tarcut/b && head -c 67072 zeros.tar | cairn snapshot --tar > /dev/null`);
    expect(zeros.status).toBe(10);
    expect(zeros.stderr.trim()).toMatch(/ends without its end-of-archive blocks/);
    // Two archives one after the other (cat a.tar b.tar, read on as GNU tar -i does): whole only if the second is.
    expect(sh(`cd ${d} && cat tarcut.tar zeros.tar | cairn snapshot --tar > /dev/null`).status).toBe(0);
    const second = sh(`cd ${d} && (cat tarcut.tar; head -c 67072 zeros.tar) | cairn snapshot --tar > /dev/null`);
    expect(second.status).toBe(10);
  });
});

describe("file systems", () => {
  it.skipIf(!canMount)("--one-file-system records a mount point but does not descend into it", async () => {
    const tree = fresh("fs-tree");
    writeFileSync(join(tree, "here"), "x");
    const unmount = mountTmpfs(join(tree, "mnt"), "1m")!;
    try {
      writeFileSync(join(tree, "mnt/elsewhere"), "y");
      const r = sh(`cd ${work.path} && cairn snapshot --one-file-system fs-tree`);
      expect(r.status).toBe(0);
      const paths = (await framesOf(r.stdout)).filter((f) => f.type === FrameType.ENTRY).map((f) => f.meta!.path);
      expect(paths).toEqual(["fs-tree", "fs-tree/here", "fs-tree/mnt"]);
      const all = sh(`cd ${work.path} && cairn snapshot fs-tree`);
      expect((await framesOf(all.stdout)).filter((f) => f.type === FrameType.ENTRY).map((f) => f.meta!.path)).toContain("fs-tree/mnt/elsewhere");
    } finally {
      unmount();
    }
  });

  it.skipIf(!canMount)("stops on a full disk with a one-line error, leaving no temporary file", () => {
    const out = join(work.path, "full");
    const unmount = mountTmpfs(out, "1m")!;
    try {
      const r = sh(`cd ${work.path} && cairn snapshot src/big.bin | cairn snapshot -x ${out}`);
      expect(r.stderr).toMatch(/^cairn-snapshot: src\/big\.bin: disk full: .*\n$/);
      expect(r.status).toBe(19);
      expect(readdirSync(join(out, "src"))).toEqual([]);
    } finally {
      unmount();
    }
  });
});

describe("snapshot reports what it cannot read", () => {
  it.skipIf(!asRoot)("completes with exit 3 and counts the unreadable file in END (run as an unprivileged user)", async () => {
    const tree = fresh("unreadable");
    writeFileSync(join(tree, "ok"), "fine\n");
    writeFileSync(join(tree, "secret"), "no\n");
    chmodSync(join(tree, "secret"), 0o000);
    const r = sh(`cd ${work.path} && setpriv --reuid=65534 --regid=65534 --clear-groups cairn snapshot unreadable > ${work.path}/partial.stream`);
    expect(r.stderr).toBe("cairn-snapshot: unreadable/secret: cannot be read (EACCES)\ncairn-snapshot: snapshot complete, but 1 entry was not read completely (see above)\n");
    expect(r.status).toBe(3);
    const frames = await framesOf(readFileSync(join(work.path, "partial.stream")));
    expect(frames.at(-1)!.meta).toMatchObject({ entries: 2, partial: 1 });
  });

  it("counts a tar member it cannot read (a GNU sparse file) as partial and exits 3", () => {
    const d = fresh("sparse");
    const r = sh(`cd ${d} && truncate -s 1M holes && echo end >> holes && tar -cSf s.tar holes && cairn snapshot --tar < s.tar > s.stream`);
    expect(r.stderr).toBe("cairn-snapshot: holes: skipped tar member of a type cairn cannot read; the snapshot is partial\ncairn-snapshot: snapshot complete, but 1 entry was not read completely (see above)\n");
    expect(r.status).toBe(3);
  });

  it("counts a pax sparse file (tar --format=posix --sparse, each sparse version) as partial and exits 3, where it stored the sparse map as the content", () => {
    const d = fresh("paxsparse");
    for (const version of ["0.0", "0.1", "1.0"]) {
      const r = sh(`cd ${d} && rm -f holes && truncate -s 1M holes && echo end >> holes && tar --format=posix --sparse --sparse-version=${version} -cf s.tar holes && cairn snapshot --tar < s.tar > s.stream`);
      expect(r.stderr).toBe("cairn-snapshot: holes: skipped tar member of a type cairn cannot read (a pax sparse file); the snapshot is partial\ncairn-snapshot: snapshot complete, but 1 entry was not read completely (see above)\n");
      expect(r.status).toBe(3);
    }
  });

  it("refuses a path that does not exist", () => {
    const r = cairn(["snapshot", join(work.path, "nope")]);
    expect(r.stderr.trim()).toBe(`cairn-snapshot: ${join(work.path, "nope")}: no such file or directory`);
    expect(r.status).toBe(15);
  });

  it("needs exactly one source", () => {
    const r = cairn(["snapshot"]);
    expect(r.stderr.trim()).toBe("cairn-snapshot: give exactly one source: paths, --tar, --stdin or --from-command (see --help)");
    expect(r.status).toBe(2);
    const n = cairn(["snapshot", "--stdin"]);
    expect(n.stderr.trim()).toBe("cairn-snapshot: --stdin needs --name NAME for the entry (see --help)");
    expect(n.status).toBe(2);
  });

  it("refuses -x flags where they would be ignored: --overwrite and --no-same-owner with --tar or --stdout, or without -x", () => {
    for (const args of [["-x", "--tar", "--no-same-owner"], ["-x", "--stdout", "--overwrite"], ["-x", "--tar", "--overwrite"]]) {
      const r = cairn(["snapshot", ...args], { input: Buffer.alloc(0) });
      expect(r.stderr, args.join(" ")).toBe("cairn-snapshot: --overwrite and --no-same-owner apply to -x DIR, not to --tar or --stdout (see --help)\n");
      expect(r.status).toBe(2);
    }
    const r = cairn(["snapshot", "--no-same-owner", work.path]);
    expect(r.stderr).toBe("cairn-snapshot: --stdout, --overwrite, --no-same-owner and --include apply to -x (see --help)\n");
    expect(r.status).toBe(2);
  });
});
