// `cairn backup` and `cairn restore` are the pipeline's own stages run in one process: they must
// commit what `snapshot | chunk | seal | push` commits, restore what `pull | seal -d | chunk -d |
// snapshot -x` restores, and fail the way the stage that fails in the pipeline fails.
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { createCipheriv } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Result } from "./helpers/cli.js";
import { workspace } from "./helpers/workspace.js";
import { shA } from "./helpers/async-cli.js";

const { dir, at, url, env, run } = workspace("cairn-fused-");
afterAll(() => dir.cleanup());

function noise(n: number, seed: number): Buffer {
  return createCipheriv("chacha20", Buffer.alloc(32, seed), Buffer.alloc(16)).update(Buffer.alloc(n));
}

async function ok(pending: Promise<Result>): Promise<Result> {
  const r = await pending;
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return r;
}

const PIPE_BACKUP = (repo: string, key = "w.key", source = "src") => `cairn snapshot ${source} | cairn chunk -k ${key} | cairn seal -k ${key} | cairn push --json ${repo}`;
const PIPE_RESTORE = (repo: string, snap: string, key = "o.key") => `cairn pull -i ${key} ${repo} ${snap} | cairn seal -d -i ${key} | cairn chunk -d -i ${key}`;

interface Listed {
  commit: Record<string, unknown>;
  objects: { kind: string; id: string }[];
}

/** A snapshot's COMMIT and objects, as `pull --raw | inspect` shows them (no key needed). */
async function listSnapshot(repo: string, snap = "latest"): Promise<Listed> {
  const r = await ok(run(`cairn pull --raw ${repo} ${snap} | cairn inspect`));
  const lines = r.stdout.toString().trim().split("\n").map((l) => JSON.parse(l));
  const commit = lines.find((l) => l.type === "COMMIT");
  const objects = lines.filter((l) => l.type === "SEALED").map((l) => ({ kind: l.kind as string, id: l.id as string }));
  return { commit, objects };
}

const idsOf = (l: Listed, kind: string) => new Set(l.objects.filter((o) => o.kind === kind).map((o) => o.id));
const minus = (a: Set<string>, b: Set<string>) => [...a].filter((x) => !b.has(x));

/** A decrypted chunked stream as JSON lines, without what depends on the moment of the backup. */
async function openedStream(repo: string): Promise<string[]> {
  const r = await ok(run(`${PIPE_RESTORE(repo, "latest")} | cairn inspect`));
  return r.stdout
    .toString()
    .trim()
    .split("\n")
    .map((l) => {
      const { time: _t, digest: _d, ...rest } = JSON.parse(l);
      return JSON.stringify(rest);
    });
}

beforeAll(async () => {
  // A tree with text, incompressible data, a repeated file (in-stream references), an empty
  // file, a symlink and a name that is not valid UTF-8.
  const src = at("src");
  mkdirSync(join(src, "docs/deep"), { recursive: true });
  mkdirSync(join(src, "bin"));
  let text = "";
  for (let i = 0; text.length < 3_000_000; i++) text += `${i}: all work and no play makes a dull backup\n`;
  writeFileSync(join(src, "docs/log.txt"), text);
  writeFileSync(join(src, "bin/blob"), noise(3_000_000, 1));
  writeFileSync(join(src, "bin/blob-copy"), noise(3_000_000, 1));
  writeFileSync(join(src, "docs/deep/empty"), "");
  writeFileSync(Buffer.concat([Buffer.from(join(src, "docs/")), Buffer.from([0x66, 0xff, 0x6f])]), "latin-1 name\n");
  symlinkSync("../docs/log.txt", join(src, "bin/link"));
  await ok(run("cairn key new -o o.key >/dev/null && cairn key writer -i o.key -o w.key >/dev/null && cairn key new -o other.key >/dev/null && cairn key writer -i other.key -o other-w.key >/dev/null"));
  for (const repo of ["piped", "fused", "history", "nowindow"]) {
    const r = await run(`cairn init ${url(repo)} --owner-key o.key --writer-key w.key`);
    expect(r.status).toBe(0);
  }
});

describe("cairn backup", () => {
  it("commits the same objects, COMMIT and manifest as snapshot | chunk | seal | push", async () => {
    const piped = JSON.parse((await ok(run(PIPE_BACKUP(url("piped"))))).stdout.toString());
    const fused = JSON.parse((await ok(run(`cairn backup -k w.key --json ${url("fused")} src`))).stdout.toString());
    expect(fused.exitCode).toBe(0);
    const [p, f] = [piped.targets[0], fused.targets[0]];
    expect(f.snapshot).toMatch(/^[0-9a-f]{64}$/);
    expect({ newObjects: f.newObjects, reusedObjects: f.reusedObjects }).toEqual({ newObjects: p.newObjects, reusedObjects: p.reusedObjects });

    const [a, b] = await Promise.all([listSnapshot(url("piped")), listSnapshot(url("fused"))]);
    // Chunk ids are keyed MACs of the content: the data objects are the very same. How many there
    // are depends on where the repository's keyed chunker cuts (about 6 MB of distinct content,
    // 1 MiB on average), so only "several" is certain.
    expect(idsOf(b, "data").size).toBeGreaterThan(1);
    expect(idsOf(b, "data")).toEqual(idsOf(a, "data"));
    // The clear part differs only in what the moment of the backup decides: the time, and through
    // the manifest's header record (which binds it) the manifest root, the refs, the signature.
    const { time: _t1, sig: _s1, manifest: m1, refs: _r1, ...clearA } = a.commit;
    const { time: _t2, sig: _s2, manifest: m2, refs: _r2, ...clearB } = b.commit;
    expect(clearB).toEqual(clearA);
    expect(m2).not.toBe(m1);
    // Only the first manifest chunk holds that header; the others are cut alike.
    const [ma, mb] = [idsOf(a, "manifest"), idsOf(b, "manifest")];
    expect(mb.size).toBe(ma.size);
    expect(minus(mb, ma).length).toBeLessThanOrEqual(1);
    // And opened with the owner key, the two snapshots are the same stream but for the time.
    const [sa, sb] = await Promise.all([openedStream(url("piped")), openedStream(url("fused"))]);
    expect(sb).toEqual(sa);
  });

  it("and the pipeline restore identical trees and tar streams, whichever form wrote the snapshot", async () => {
    await ok(run(`cairn restore -i o.key ${url("piped")} latest -x out-fused`));
    await ok(run(`${PIPE_RESTORE(url("fused"), "latest")} | cairn snapshot -x out-piped`));
    for (const out of ["out-fused", "out-piped"]) {
      const diff = await run(`diff -r --no-dereference src ${out}/src && [ "$(readlink ${out}/src/bin/link)" = ../docs/log.txt ]`);
      expect(diff.stdout.toString() + diff.stderr).toBe("");
      expect(diff.status).toBe(0);
    }
    const [fusedTar, pipedTar] = await Promise.all([
      ok(run(`cairn restore -i o.key ${url("fused")} latest --tar`)),
      ok(run(`${PIPE_RESTORE(url("fused"), "latest")} | cairn snapshot -x --tar`)),
    ]);
    expect(fusedTar.stdout.length).toBeGreaterThan(9_000_000);
    expect(fusedTar.stdout.equals(pipedTar.stdout)).toBe(true);
  });

  it("restores a snapshot taken with no reference window, whose chunks the restore window cannot keep", async () => {
    await ok(run(`cairn backup -k w.key ${url("nowindow")} --ref-window 0 src`));
    await ok(run(`cairn restore -i o.key ${url("nowindow")} latest -x out-nowindow`));
    const diff = await run(`diff -r --no-dereference src out-nowindow/src`);
    expect(diff.stdout.toString() + diff.stderr).toBe("");
    expect(diff.status).toBe(0);
  });

  it("backs up a command's output, and restore --stdout gives its bytes back", async () => {
    const r = await ok(run(`cairn backup -k w.key ${url("history")} --from-command --name dump.txt --tag cmd -- seq 1 200000`));
    const snap = r.stdout.toString().trim();
    const out = (await ok(run(`cairn restore -i o.key ${url("history")} ${snap} --stdout`))).stdout;
    expect(out.toString()).toBe(Array.from({ length: 200000 }, (_, i) => `${i + 1}\n`).join(""));
  });

  it("backs up a tar stream and raw stdin (completeness unverified: exit 4, as push says in the pipeline)", async () => {
    await ok(run(`tar cf - src | cairn backup -k w.key ${url("history")} --tar --label tarred >/dev/null`));
    await ok(run(`cairn restore -i o.key ${url("history")} latest -x from-tar`));
    const diff = await run("diff -r --no-dereference src from-tar/src");
    expect(diff.stdout.toString() + diff.stderr).toBe("");
    expect(diff.status).toBe(0);

    const fused = await run(`seq 1 300000 | cairn backup -k w.key ${url("history")} --stdin --name nums.txt`);
    const piped = await run(`seq 1 300000 | cairn snapshot --stdin --name nums.txt | cairn chunk -k w.key | cairn seal -k w.key | cairn push ${url("history")}`);
    expect(fused.status).toBe(4);
    expect(piped.status).toBe(4);
    // A non-zero exit comes with its reason, as 3 does.
    expect(fused.stderr).toMatch(/^cairn-backup: committed, but its completeness is unverified: raw stdin/);
    expect(piped.stderr).toMatch(/^cairn-push: committed, but its completeness is unverified: raw stdin/);
    const back = await run(`cairn restore -i o.key ${url("history")} latest nums.txt --stdout | sha256sum && seq 1 300000 | sha256sum`);
    expect(back.status).toBe(0);
    expect(back.stderr).toMatch(/^cairn-restore: the snapshot.s completeness is unverified/); // restore warns, as snapshot -x does
    const [a, b] = back.stdout.toString().trim().split("\n");
    expect(a).toBe(b);
  });
});

describe("cairn restore", () => {
  it("restores one file as it was in an older snapshot, as the pipeline with --include does", async () => {
    cpSync(at("src"), at("live"), { recursive: true, verbatimSymlinks: true });
    const old = (await ok(run(`cairn backup -k w.key ${url("history")} live`))).stdout.toString().trim();
    writeFileSync(at("live/docs/log.txt"), "rewritten\n");
    writeFileSync(at("live/bin/new"), "new file\n");
    const now = (await ok(run(`cairn backup -k w.key ${url("history")} live`))).stdout.toString().trim();
    expect(now).not.toBe(old);

    await Promise.all([
      ok(run(`cairn restore -i o.key ${url("history")} ${old.slice(0, 12)} live/docs/log.txt -x old-fused`)),
      ok(run(`${PIPE_RESTORE(url("history"), old.slice(0, 12))} | cairn snapshot -x --include /live/docs/log.txt old-piped`)),
    ]);
    for (const out of ["old-fused", "old-piped"]) {
      expect(readFileSync(at(`${out}/live/docs/log.txt`)).equals(readFileSync(at("src/docs/log.txt")))).toBe(true);
      expect(readdirSync(at(out), { recursive: true }).sort()).toEqual(["live", "live/docs", "live/docs/log.txt"]);
    }
    const latest = (await ok(run(`cairn restore -i o.key ${url("history")} latest live/docs/log.txt --stdout`))).stdout.toString();
    expect(latest).toBe("rewritten\n");
  });
});

describe("cairn backup into a repository that holds the data", () => {
  it("seals only what every repository lacks: held chunks go to push as references, not compressed and encrypted again", async () => {
    await ok(run(`cairn init ${url("again")} --owner-key o.key --writer-key w.key 2>/dev/null && cairn init ${url("again-b")} --owner-key o.key --writer-key w.key 2>/dev/null`));
    const stats = async (script: string) => JSON.parse((await ok(run(script))).stdout.toString()).targets;
    const [first] = await stats(`cairn backup -k w.key --json ${url("again")} src`);
    const [second] = await stats(`cairn backup -k w.key --json ${url("again")} src`);
    // The same tree again: its data and manifest chunks are held, so push receives references
    // (no bytes) for them; only the snapshot's own refs blocks come sealed.
    expect(second.newObjects + second.reusedObjects).toBe(first.newObjects + first.reusedObjects);
    expect(second.reusedObjects).toBeGreaterThan(second.newObjects);
    expect(second.bytesIn).toBeLessThan(first.bytesIn / 100);
    expect(second.bytesOut).toBeLessThan(first.bytesOut / 100);
    // Two repositories, one of them empty: what both hold is nothing, so everything is sealed
    // for the empty one, which then restores the tree on its own.
    const [a, b] = await stats(`cairn backup -k w.key --json ${url("again")} ${url("again-b")} src`);
    expect(a.newObjects).toBeLessThan(5);
    expect(b.newObjects).toBe(first.newObjects);
    await ok(run(`cairn restore -i o.key ${url("again-b")} latest -x again-out && diff -r src again-out/src`));
  });
});

describe("cairn restore -- PATH", () => {
  it("takes the words after -- as PATHs (one that starts with -), as pull does: it dropped them and restored the whole snapshot", async () => {
    mkdirSync(at("dashed"));
    writeFileSync(at("dashed/-5"), "minus five\n");
    writeFileSync(at("dashed/other"), "other\n");
    await ok(run(`cairn init ${url("dashrepo")} --owner-key o.key --writer-key w.key 2>/dev/null && cairn backup -k w.key ${url("dashrepo")} dashed`));
    await ok(run(`cairn restore -i o.key ${url("dashrepo")} latest -x dash-out -- dashed/-5`));
    expect(readdirSync(at("dash-out"), { recursive: true }).sort()).toEqual(["dashed", "dashed/-5"]);
    const one = await ok(run(`cairn restore -i o.key --stdout -- ${url("dashrepo")} latest dashed/-5`));
    expect(one.stdout.toString()).toBe("minus five\n");
  });
});

describe("a PATH that starts with - (a file named -5)", () => {
  it("is one PATH to pull and ls, as to restore: citty dropped it, and pull sent, ls listed, the whole snapshot", async () => {
    mkdirSync(at("top/sub"), { recursive: true });
    writeFileSync(at("top/-5"), "minus five\n");
    writeFileSync(at("top/sub/other"), "other\n");
    await ok(run(`cairn init ${url("toprepo")} --owner-key o.key --writer-key w.key 2>/dev/null && (cd top && cairn backup -k ../w.key ${url("toprepo")} -5 sub)`));
    const all = await ok(run(`cairn ls -i o.key ${url("toprepo")} latest --json`));
    expect(all.stdout.toString().trim().split("\n").map((l) => JSON.parse(l).path).sort()).toEqual(["-5", "sub", "sub/other"]);
    const one = await ok(run(`cairn ls -i o.key ${url("toprepo")} latest -5 --json`));
    expect(one.stdout.toString().trim().split("\n").map((l) => JSON.parse(l).path)).toEqual(["-5"]);
    await ok(run(`cairn pull -i o.key ${url("toprepo")} latest -5 | cairn seal -d -i o.key | cairn chunk -d -i o.key | cairn snapshot -x top-pulled`));
    expect(readdirSync(at("top-pulled"), { recursive: true }).sort()).toEqual(["-5"]);
    expect(readFileSync(at("top-pulled/-5"), "utf8")).toBe("minus five\n");
    await ok(run(`cairn restore -i o.key ${url("toprepo")} latest -5 -x top-restored`));
    expect(readdirSync(at("top-restored"), { recursive: true }).sort()).toEqual(["-5"]);
  });
});

describe("CAIRN_OWNER_KEY", () => {
  it("names the owner key for every tool that cannot read without one, when -i is not given", async () => {
    mkdirSync(at("envsrc"));
    writeFileSync(at("envsrc/a.txt"), "from the environment\n");
    await ok(run(`cairn init ${url("envrepo")} --owner-key env-o.key --writer-key env-w.key 2>/dev/null && cairn backup -k env-w.key ${url("envrepo")} envsrc`));
    const keyed = (script: string) => shA(script, { cwd: dir.path, env: { ...env, CAIRN_OWNER_KEY: at("env-o.key") } });
    await ok(keyed(`cairn restore ${url("envrepo")} latest -x env-fused`));
    expect(readFileSync(at("env-fused/envsrc/a.txt"), "utf8")).toBe("from the environment\n");
    await ok(keyed(`cairn pull ${url("envrepo")} latest | cairn seal -d | cairn chunk -d | cairn snapshot -x env-piped`));
    expect(readFileSync(at("env-piped/envsrc/a.txt"), "utf8")).toBe("from the environment\n");
    const listed = await ok(keyed(`cairn ls ${url("envrepo")} latest --json`));
    expect(listed.stdout.toString()).toContain('"path":"envsrc/a.txt"');
    // --raw needs no key and ignores the variable (no "give --raw or -i, not both").
    await ok(keyed(`cairn pull --raw ${url("envrepo")} latest > /dev/null`));
    // Unset (or empty), each says where the key may come from.
    const none = await run(`cairn restore ${url("envrepo")} latest -x env-none`);
    expect(none.status).toBe(2);
    expect(none.stderr).toBe("cairn-restore: restore order lives in the encrypted manifest: give the owner key with -i FILE (or set CAIRN_OWNER_KEY)\n");
    const sealNone = await run("cairn seal -d < /dev/null");
    expect(sealNone.status).toBe(2);
    expect(sealNone.stderr).toBe("cairn-seal: seal -d needs the owner key: -i OWNER_KEY or $CAIRN_OWNER_KEY\n");
  });
});

describe("cairn restore with a passphrase-protected owner key", () => {
  it("reads the passphrase once (--passphrase-file, else CAIRN_PASSPHRASE, else the terminal) for pull and seal -d", async () => {
    writeFileSync(at("pass"), "correct horse battery staple\n");
    await ok(run("cairn key new --passphrase-file pass --work-factor 10 -o locked.key >/dev/null && CAIRN_PASSPHRASE='correct horse battery staple' cairn key writer -i locked.key -o locked-w.key >/dev/null"));
    expect((await run(`CAIRN_PASSPHRASE='correct horse battery staple' cairn init ${url("locked")} --owner-key locked.key --writer-key locked-w.key`)).status).toBe(0);
    await ok(run(`cairn backup -k locked-w.key ${url("locked")} --from-command --name n.txt -- seq 1 5000 >/dev/null`));
    const r = await ok(run(`cairn restore -i locked.key --passphrase-file pass ${url("locked")} latest --stdout | tail -1`));
    expect(r.stdout.toString()).toBe("5000\n");
    const noTerminal = await run(`setsid cairn restore -i locked.key ${url("locked")} latest --stdout </dev/null`);
    expect(noTerminal.status).toBe(14);
    expect(noTerminal.stderr).toBe("cairn-restore: a passphrase is needed and there is no terminal to ask: set CAIRN_PASSPHRASE or use --passphrase-file\n");
  });
});

describe("bad input: the fused command fails as the failing stage of the pipeline does", () => {
  it("a stale known file: exit 17, nothing committed, and the way out named is one backup has (no seal there)", async () => {
    await ok(run(`cairn init ${url("known-from")} --owner-key o.key --writer-key w.key 2>/dev/null && cairn init ${url("stale")} --owner-key o.key --writer-key w.key 2>/dev/null`));
    await ok(run(`cairn backup -k w.key ${url("known-from")} src --known-out other.known >/dev/null`));
    const r = await run(`cairn backup -k w.key ${url("stale")} src --known other.known`);
    expect(r.status).toBe(17);
    expect(r.stderr).toMatch(/^cairn-backup: .* \(a stale known file\?\); nothing committed: run again without --known or with a fresh known file\n$/);
    expect((await run(`cairn ls --json ${url("stale")}`)).stdout.toString()).toBe("");
  });

  /** The one line a stage printed, without its "cairn-TOOL: " prefix. */
  const message = (stderr: string, tool: string) => {
    const line = stderr.split("\n").find((l) => l.startsWith(`${tool}: `));
    expect(line, `no line from ${tool} in:\n${stderr}`).toBeDefined();
    return line!.slice(tool.length + 2);
  };
  /** Runs a pipeline and reports each stage's exit status. */
  const stages = async (script: string) => {
    const r = await run(`${script}; echo "\${PIPESTATUS[*]}" >&2`);
    const lines = r.stderr.trim().split("\n");
    return { stderr: lines.slice(0, -1).join("\n"), codes: lines[lines.length - 1].split(" ").map(Number) };
  };
  const snapshots = () => readdirSync(at("fused/snapshots")).length;

  const cases = [
    {
      name: "backup into a repository that does not exist",
      piped: PIPE_BACKUP(url("missing")),
      fused: `cairn backup -k w.key ${url("missing")} src`,
      tool: "cairn-backup",
      stage: { tool: "cairn-push", index: 3, code: 15 },
    },
    {
      name: "backup with the writer key of another repository",
      piped: PIPE_BACKUP(url("fused"), "other-w.key"),
      fused: `cairn backup -k other-w.key ${url("fused")} src`,
      tool: "cairn-backup",
      stage: { tool: "cairn-push", index: 3, code: 14 },
    },
    {
      name: "backup of a command that fails half-way",
      piped: `cairn snapshot --from-command --name x -- sh -c 'seq 1 1000; exit 3' | cairn chunk -k w.key | cairn seal -k w.key | cairn push ${url("fused")}`,
      fused: `cairn backup -k w.key ${url("fused")} --from-command --name x -- sh -c 'seq 1 1000; exit 3'`,
      tool: "cairn-backup",
      stage: { tool: "cairn-snapshot", index: 0, code: 20 },
    },
    {
      name: "restore from a repository that does not exist",
      piped: `${PIPE_RESTORE(url("missing"), "latest")} | cairn snapshot -x out-missing`,
      fused: `cairn restore -i o.key ${url("missing")} latest -x out-missing`,
      tool: "cairn-restore",
      stage: { tool: "cairn-pull", index: 0, code: 15 },
    },
    {
      name: "restore with the owner key of another repository",
      piped: `${PIPE_RESTORE(url("fused"), "latest", "other.key")} | cairn snapshot -x out-wrong`,
      fused: `cairn restore -i other.key ${url("fused")} latest -x out-wrong`,
      tool: "cairn-restore",
      stage: { tool: "cairn-pull", index: 0, code: 14 },
    },
    {
      name: "restore of a snapshot that does not exist",
      piped: `${PIPE_RESTORE(url("fused"), "ffffffffffff")} | cairn snapshot -x out-none`,
      fused: `cairn restore -i o.key ${url("fused")} ffffffffffff -x out-none`,
      tool: "cairn-restore",
      stage: { tool: "cairn-pull", index: 0, code: 15 },
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const before = snapshots();
      const [piped, fused] = await Promise.all([stages(c.piped), run(c.fused)]);
      expect(piped.codes[c.stage.index]).toBe(c.stage.code);
      // pull fails inside its stream, even before it could open anything: the stages after it get
      // its ERROR frame (12) and name it, instead of complaining about empty input (10).
      if (c.stage.tool === "cairn-pull") {
        expect(piped.codes.slice(1)).toEqual(piped.codes.slice(1).map(() => 12));
        // (The stages write stderr at once: the lines may come in any order.)
        expect(piped.stderr).toMatch(/^cairn-snapshot: cairn-pull failed: /m);
      }
      expect(fused.status).toBe(c.stage.code);
      expect(fused.stderr.trim().split("\n")).toHaveLength(1);
      expect(message(fused.stderr, c.tool)).toBe(message(piped.stderr, c.stage.tool));
      expect(fused.stdout.toString()).toBe("");
      expect(snapshots()).toBe(before);
      // A restore that fails before writing anything leaves no empty directory behind (both forms).
      const out = / -x (out-\S+)$/.exec(c.fused)?.[1];
      if (out) expect(existsSync(at(out))).toBe(false);
    });
  }

  it("a repository that refuses the stream stops the command being read", async () => {
    const r = await run(`cairn backup -k other-w.key ${url("fused")} --from-command --name y -- sh -c 'echo $$ > yes.pid; exec yes 2>/dev/null'`);
    expect(r.status).toBe(14);
    expect(r.stderr).toMatch(/^cairn-backup: the stream was sealed for key set [0-9a-f]+…, but .* belongs to key set [0-9a-f]+…\n$/);
    const pid = Number(readFileSync(at("yes.pid"), "utf8"));
    const state = () => {
      try {
        return /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
      } catch {
        return "gone";
      }
    };
    // The signal is sent as the backup stops; on a loaded machine the child may take a moment to die.
    for (let i = 0; i < 100 && !["gone", "Z"].includes(state()!); i++) await new Promise((r) => setTimeout(r, 100));
    expect(["gone", "Z"]).toContain(state()); // killed (a zombie until something reaps it)
  });

  it("push refuses a stream that pull filtered to some paths: it would commit a snapshot with the rest of its data missing", async () => {
    await ok(run(`cairn init ${url("filtered-src")} --owner-key o.key --writer-key w.key 2>/dev/null && cairn init ${url("filtered-dst")} --owner-key o.key --writer-key w.key 2>/dev/null && cairn backup -k w.key src ${url("filtered-src")} >/dev/null`));
    const r = await stages(`cairn pull -i o.key ${url("filtered-src")} latest src/docs | cairn push ${url("filtered-dst")}`);
    expect(r.codes).toEqual([0, 10]);
    expect(message(r.stderr, "cairn-push")).toBe("this stream holds only the paths a restore selected (pull with PATHs): a snapshot cannot be pushed from it; nothing committed (use pull --raw, or pull without PATHs)");
    expect(existsSync(at("filtered-dst/snapshots")) ? readdirSync(at("filtered-dst/snapshots")) : []).toEqual([]);
  });

  it("a directory that cannot be made ends with one line and 19, not a hang (under /proc, node:fs's mkdir -p loops forever)", async () => {
    await ok(run(`cairn init ${url("proc")} --owner-key o.key --writer-key w.key 2>/dev/null && cairn backup -k w.key src ${url("proc")} >/dev/null`));
    const restore = await run(`timeout 60 cairn restore -i o.key ${url("proc")} latest -x /proc/cairn-x/out`);
    expect(restore.status, restore.stderr).toBe(19);
    expect(restore.stderr).toBe("cairn-restore: cannot make the restore directory /proc/cairn-x/out: ENOENT\n");
    const init = await run(`timeout 60 cairn init file:///proc/cairn-x/repo --writer-key w.key`);
    expect(init.status, init.stderr).toBe(19);
    expect(init.stderr).toBe("cairn-init: cannot make the repository folder /proc/cairn-x/repo for file:///proc/cairn-x/repo: ENOENT\n");
    // A cache that cannot be written only costs verify its saved state.
    const verify = await run(`timeout 60 cairn verify -i o.key ${url("proc")} --cache /proc/cairn-x --read-data 50%`);
    expect(verify.status, verify.stderr).toBe(0);
    expect(verify.stdout.toString()).toMatch(/could not save its state in the local cache/);
  });

  it("usage errors name the problem", async () => {
    const cases: [string, RegExp][] = [
      ["cairn backup -k w.key src", /give at least one repository URL/],
      [`cairn backup -k w.key ${url("fused")}`, /give exactly one source/],
      [`cairn backup -k w.key ${url("fused")} --from-command -- true`, /--from-command needs --name/],
      [`cairn backup -k w.key ${url("fused")} src --bogus`, /unknown flag --bogus/],
      [`cairn restore -i o.key ${url("fused")} latest`, /give exactly one of -x DIR, --tar or --stdout/],
      [`cairn restore ${url("fused")} latest -x o`, /give the owner key with -i/],
      [`cairn restore -i o.key ${url("fused")} latest --tar --no-same-owner`, /--no-same-owner applies to -x/],
      [`cairn restore -i o.key ${url("fused")} latest --stdout --overwrite`, /--overwrite applies to -x/],
    ];
    const results = await Promise.all(cases.map(([script]) => run(script)));
    for (const [i, [script, pattern]] of cases.entries()) {
      expect(results[i].status, script).toBe(2);
      expect(results[i].stderr.trim().split("\n"), script).toHaveLength(1);
      expect(results[i].stderr, script).toMatch(pattern);
    }
    const noKey = await run(`cairn backup ${url("fused")} src`);
    expect(noKey.status).toBe(14);
    expect(noKey.stderr).toBe("cairn-backup: no writer key: give -k WRITER_KEY or set CAIRN_WRITER_KEY\n");
  });
});
