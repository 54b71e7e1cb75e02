import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CAIRN, cairn, cairnAsync, sh, tempDir } from "./helpers/cli.js";

describe("the cairn command", () => {
  it("lists every tool with --help, and exits 2 with the list when given none", () => {
    const help = cairn(["--help"]);
    expect(help.status).toBe(0);
    for (const tool of ["snapshot", "chunk", "seal", "push", "pull", "verify", "prune", "init", "key", "ls", "inspect", "backup", "restore"]) {
      expect(help.stdout.toString()).toMatch(new RegExp(`^  ${tool} `, "m"));
    }
    expect(cairn([]).status).toBe(2);
  });

  it("prints its version", () => {
    const r = cairn(["--version"]);
    expect(r.status).toBe(0);
    expect(r.stdout.toString().trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("refuses an unknown tool with one line and exit 2", () => {
    const r = cairn(["frobnicate"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('cairn: unknown tool "frobnicate" (cairn --help lists them)\n');
  });

  it("shows a subcommand's own flags for `cairn key new --help`", () => {
    const r = cairn(["key", "new", "--help"]);
    expect(r.status).toBe(0);
    expect(r.stdout.toString()).toContain("--pq");
    expect(r.stdout.toString()).not.toContain("COMMANDS");
  });

  it("shows the snapshot ids forget takes in `cairn forget --help`", () => {
    const r = cairn(["forget", "--help"], { env: { NO_COLOR: "1" } });
    expect(r.status).toBe(0);
    expect(r.stdout.toString()).toMatch(/USAGE forget \[OPTIONS\] <REPO> \[ID\]/);
    expect(r.stdout.toString()).toMatch(/ID +ID…: the snapshots to remove/);
  });

  it("turns a usage mistake into one line and exit 2", () => {
    const r = cairn(["pull"]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^cairn-pull: .*(REPO|required)/i);
  });

  // The machine's own Node is older than 22.15; the launcher must say so instead of crashing.
  it.runIf(existsSync("/usr/bin/node"))("says clearly that an older Node is too old", () => {
    const version = spawnSync("/usr/bin/node", ["-p", "process.versions.node"], { encoding: "utf8" }).stdout.trim();
    const [major, minor] = version.split(".").map(Number);
    const old = major < 22 || (major === 22 && minor < 15);
    const r = spawnSync("/usr/bin/node", [CAIRN, "--version"], { encoding: "utf8" });
    if (old) {
      expect(r.status).toBe(2);
      expect(r.stderr).toContain("requires Node.js >= 22.15");
    } else {
      expect(r.status).toBe(0);
    }
  });
});

describe("output that cannot be written (stdout on a full disk: /dev/full)", () => {
  const dir = tempDir("cairn-full-");
  afterAll(() => dir.cleanup());
  const env = { CAIRN_WRITERS: join(dir.path, "writers"), CAIRN_CACHE: join(dir.path, "cache"), CAIRN_WRITER_KEY: "", CAIRN_OWNER_KEY: "" };
  const run = (script: string) => sh(script, { cwd: dir.path, env });

  it("init and key print keys before anything depends on them: exit 19, one line, nothing created or pinned", () => {
    const init = run(`cairn init file://${dir.path}/repo > /dev/full`);
    expect(init.stderr).toBe("cairn-init: cannot write to stdout: disk full\n");
    expect(init.status).toBe(19);
    expect(existsSync(join(dir.path, "repo"))).toBe(false);
    expect(existsSync(env.CAIRN_WRITERS)).toBe(false);
    const json = run(`cairn init --json file://${dir.path}/repo > /dev/full`);
    expect(json.status).toBe(19);
    expect(existsSync(join(dir.path, "repo"))).toBe(false);

    const owner = run("cairn key new > /dev/full");
    expect(owner.stderr).toBe("cairn-key: cannot write to stdout: disk full\n"); // no "Public key:" for a key nobody has
    expect(owner.status).toBe(19);
    const writer = run("cairn key new -o owner.key >/dev/null && cairn key writer -i owner.key > /dev/full");
    expect(writer.stderr).toBe("cairn-key: cannot write to stdout: disk full\n");
    expect(writer.status).toBe(19);
    expect(existsSync(env.CAIRN_WRITERS)).toBe(false);
  });

  it("cairn --help and --version report the failed write (exit 19), and end quietly when the reader goes away", () => {
    for (const flag of ["--help", "--version"]) {
      const r = run(`cairn ${flag} > /dev/full`);
      expect(r.stderr).toBe("cairn: cannot write to stdout: disk full\n");
      expect(r.status).toBe(19);
      expect(run(`cairn ${flag} | head -c 1 >/dev/null`)).toMatchObject({ status: 0, stderr: "" });
    }
  });

  it("ls, verify and prune -n report the failed write (exit 19) instead of passing for success", () => {
    const made = run(`cairn init file://${dir.path}/repo --owner-key owner.key --writer-key writer.key 2>/dev/null && echo x > f && cairn backup -k writer.key file://${dir.path}/repo f >/dev/null`);
    expect(made.status).toBe(0);
    for (const [tool, args] of [["ls", ""], ["verify", ""], ["prune", "--keep-last 1 -n"]]) {
      const r = run(`cairn ${tool} file://${dir.path}/repo ${args} > /dev/full`);
      expect(r.stderr).toBe(`cairn-${tool}: cannot write to stdout: disk full\n`);
      expect(r.status).toBe(19);
    }
  });
});

describe("a tool stopped by a signal", () => {
  const dir = tempDir("cairn-signal-");
  afterAll(() => dir.cleanup());

  it.each(["SIGINT", "SIGTERM"] as const)("exits 21 with one line on %s, not by the signal", async (signal) => {
    const key = join(dir.path, `writer-${signal}.key`);
    expect(sh(`cairn key new | cairn key writer -i /dev/stdin -o ${key} --writers ${dir.path}/writers`).status).toBe(0);
    const child = cairnAsync(["chunk", "-k", key]);
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    // Raw input that never ends: chunk answers with its first frames, then waits for more.
    const started = new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
    child.stdin.on("error", () => {}); // what is still queued when it stops goes nowhere
    child.stdin.write(Buffer.alloc(24 << 20, 1));
    await started;
    child.kill(signal);
    const [code, killedBy] = await new Promise<[number | null, string | null]>((resolve) => child.on("close", (c, s) => resolve([c, s])));
    expect(killedBy).toBe(null);
    expect(code).toBe(21);
    expect(stderr).toBe(`cairn-chunk: stopped by ${signal}\n`);
  });
});

describe("a --from-command snapshot stopped by a signal", () => {
  const dir = tempDir("cairn-signal-command-");
  afterAll(() => dir.cleanup());
  const env = { CAIRN_WRITERS: join(dir.path, "writers"), CAIRN_CACHE: join(dir.path, "cache") };
  const repo = `file://${dir.path}/repo`;

  // backup runs the command on a worker thread, whose clean-up does not run when the process exits.
  it.each([
    ["snapshot", "SIGINT"],
    ["backup", "SIGTERM"],
  ] as const)("%s stops the command too on %s (it would run on with nobody reading)", async (tool, signal) => {
    const pidFile = join(dir.path, `${tool}.pid`);
    const command = ["--from-command", "--name", "dump", "--", "sh", "-c", `echo $$ > ${pidFile}.new && mv ${pidFile}.new ${pidFile}; exec sleep 1000`];
    if (tool === "backup") {
      const setup = sh(`cairn key new -o o.key >/dev/null && cairn init ${repo} --owner-key o.key --writer-key w.key 2>/dev/null`, { cwd: dir.path, env });
      expect(setup.stderr).toBe("");
    }
    const child = cairnAsync(tool === "backup" ? ["backup", "-k", "w.key", repo, ...command] : ["snapshot", ...command], { cwd: dir.path, env });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.stdout.resume();
    const closed = new Promise<number | null>((resolve) => child.on("close", resolve));
    // Observable states, not timings: the command has run once its pid file exists, and is gone
    // once /proc has no live process of that pid (a zombie waits for init to reap it).
    const alive = (pid: number) => {
      try {
        return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
      } catch {
        return false;
      }
    };
    while (!existsSync(pidFile)) await new Promise((resolve) => setTimeout(resolve, 20));
    const pid = Number(readFileSync(pidFile, "utf8"));
    child.kill(signal);
    expect(await closed).toBe(21);
    expect(stderr).toMatch(new RegExp(`^cairn-${tool}: stopped by ${signal}`));
    while (alive(pid)) await new Promise((resolve) => setTimeout(resolve, 20));
  }, 20_000);
});

describe("a tool stopped by a signal while it loads", () => {
  const dir = tempDir("cairn-early-signal-");
  afterAll(() => dir.cleanup());

  // Loading a tool's modules takes a moment (a second on a loaded machine), before the tool
  // listens for signals itself. A module hook holds the load of dist/main.js (after launch.js
  // ran) in a top-level await, which leaves the event loop free, and says so on stderr: the
  // signal then arrives exactly in that window.
  it.each(["SIGINT", "SIGTERM"] as const)("exits 21 with one line on %s, not by the signal", async (signal) => {
    const preload = join(dir.path, `hold-${signal}.mjs`);
    writeFileSync(preload, `import { registerHooks } from "node:module";
registerHooks({
  load(url, context, next) {
    if (!url.endsWith("/dist/main.js")) return next(url, context);
    const source = \`process.stderr.write("loading\\\\n"); await new Promise((r) => setTimeout(r, 600_000)); export * from \${JSON.stringify(url + "?held")};\`;
    return { format: "module", source, shortCircuit: true };
  },
});
`);
    const child = spawn(process.execPath, ["--import", preload, CAIRN, "ls", join(dir.path, "none")], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    await new Promise<void>((resolve) => child.stderr.on("data", (d) => (stderr += d) && stderr.startsWith("loading\n") && resolve()));
    child.kill(signal);
    const [code, killedBy] = await new Promise<[number | null, string | null]>((resolve) => child.on("close", (c, s) => resolve([c, s])));
    expect(killedBy).toBe(null);
    expect(code).toBe(21);
    expect(stderr).toBe(`loading\ncairn-ls: stopped by ${signal}\n`);
  });
});

describe("a passphrase-protected owner key on a host with no terminal", () => {
  const dir = tempDir("cairn-pass-");
  afterAll(() => dir.cleanup());

  it("pull, ls, verify, repair and the restore pipeline take it from --passphrase-file", () => {
    const env = { CAIRN_WRITERS: join(dir.path, "writers"), CAIRN_CACHE: join(dir.path, "cache"), CAIRN_PASSPHRASE: "", CAIRN_WRITER_KEY: "", CAIRN_OWNER_KEY: "" };
    const repo = `file://${dir.path}/repo`;
    const p = "-i owner.key --passphrase-file pass";
    // setsid: no controlling terminal, so nothing can fall back to asking one.
    const r = sh(
      `echo 'a long passphrase' > pass && cairn key new --passphrase-file pass --work-factor 10 -o owner.key >/dev/null && ` +
        `setsid -w cairn key writer ${p} -o writer.key >/dev/null && cairn init ${repo} --writer-key writer.key 2>/dev/null && ` +
        `mkdir -p src && echo secret > src/f && cairn backup -k writer.key ${repo} src >/dev/null && ` +
        `setsid -w cairn ls ${p} ${repo} latest && ` +
        `setsid -w cairn verify ${p} ${repo} --restore-test latest >/dev/null && setsid -w cairn repair ${p} ${repo} >/dev/null 2>&1 && ` +
        `setsid -w cairn pull ${p} ${repo} latest | setsid -w cairn seal -d ${p} | setsid -w cairn chunk -d ${p} | cairn snapshot -x out && cat out/src/f`,
      { cwd: dir.path, env },
    );
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout.toString()).toMatch(/src\/f\n[\s\S]*secret\n$/);
  });
});

describe("flags", () => {
  const dir = tempDir("cairn-flags-");
  afterAll(() => dir.cleanup());
  const env = { CAIRN_WRITERS: join(dir.path, "writers"), CAIRN_CACHE: join(dir.path, "cache"), CAIRN_PASSPHRASE: "", CAIRN_WRITER_KEY: "", CAIRN_OWNER_KEY: "" };
  const repo = `file://${dir.path}/repo`;

  it("an unknown flag is a usage error (2, one line) for every tool, before it reads or writes anything", () => {
    for (const tool of [["chunk"], ["seal"], ["push", repo], ["pull", repo], ["ls", repo], ["init", `${repo}-new`], ["verify", repo], ["prune", repo], ["forget", repo, "abc"], ["repair", repo], ["inspect"], ["key", "new"], ["snapshot", "."], ["backup", repo, "."], ["restore", repo]]) {
      // A typo of a real flag: `push --lock-day=3` must not commit without the lock it asked for.
      const r = cairn([...tool, "--lock-day=3"], { env, cwd: dir.path });
      expect(r.status, `${tool[0]}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toBe(`cairn-${tool[0]}: unknown flag --lock-day (see --help)\n`);
    }
    expect(existsSync(join(dir.path, "repo-new"))).toBe(false);
  });

  it("a word beyond a tool's arguments is a usage error: `prune A B` must not prune A alone and exit 0", () => {
    for (const args of [["prune", repo, `${repo}-b`, "--keep-last", "1"], ["verify", repo, `${repo}-b`], ["init", `${repo}-new`, `${repo}-b`], ["ls", repo, "latest", "src", "extra"], ["repair", "index", repo, "extra"], ["inspect", "-", "extra"], ["key", "show", "owner.key", "extra"], ["chunk", "extra"], ["seal", "extra"]]) {
      const r = cairn(args, { env, cwd: dir.path });
      expect(r.status, `${args.join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toBe(`cairn-${args[0]}: unexpected argument ${args.at(args[0] === "prune" ? -3 : -1)} (see --help)\n`);
    }
    expect(cairn(["key", "bogus"], { env, cwd: dir.path }).stderr).toBe("cairn-key: unknown command bogus (see --help)\n");
    // An optional value is no extra argument: verify reads it as --read-data's.
    expect(cairn(["verify", `${repo}-none`, "--read-data", "1/7"], { env, cwd: dir.path }).status).toBe(15);
    expect(existsSync(join(dir.path, "repo-new"))).toBe(false);
  });

  it("--pack-size takes the range a repository config may hold (1024 bytes to 1 GiB) in init, push and backup alike", () => {
    for (const [tool, value] of [["init", "1023"], ["push", "1"], ["backup", "2000000000"], ["push", "1e3"]]) {
      const args = tool === "init" ? ["init", `${repo}-new`] : tool === "push" ? ["push", repo] : ["backup", "-k", "w.key", repo, "."];
      const r = cairn([...args, "--pack-size", value], { env, cwd: dir.path, input: Buffer.alloc(0) });
      expect(r.status, `${tool}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toBe(`cairn-${tool}: --pack-size must be a whole number from 1024 to 1073741824\n`);
    }
    expect(existsSync(join(dir.path, "repo-new"))).toBe(false);
  });

  it("inspect refuses --no-json (it has no other format) and its help offers no --no-json", () => {
    const r = cairn(["inspect", "--no-json"], { env, cwd: dir.path, input: Buffer.alloc(0) });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe("cairn-inspect: inspect prints JSON lines only: --no-json has no other format to give (see --help)\n");
    expect(cairn(["inspect", "--help"], { env, cwd: dir.path }).stdout).not.toContain("--no-json");
  });

  it("pull refuses flags that would be ignored: --raw with -i, --have without --raw", () => {
    for (const [args, message] of [
      [["pull", "--raw", "-i", "owner.key", repo, "latest"], "give --raw (replication, no key) or -i (restore order), not both"],
      [["pull", "-i", "owner.key", "--have", "known.bin", repo, "latest"], "--have applies to --raw (replication) only"],
    ] as [string[], string][]) {
      const r = cairn(args, { env, cwd: dir.path });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toBe(`cairn-pull: ${message}\n`);
    }
  });

  it("a word after -- counts as an argument too: `prune A -- B` must not prune A alone, nor `verify --read-data A B` verify A alone", () => {
    for (const args of [["prune", repo, "--keep-last", "1", "--", `${repo}-b`], ["init", `${repo}-new`, "--", `${repo}-b`], ["key", "show", "o.key", "--", "extra"], ["verify", "--read-data", repo, `${repo}-b`], ["verify", "--read-data", "1/7", repo, `${repo}-b`]]) {
      const r = cairn(args, { env, cwd: dir.path });
      expect(r.status, `${args.join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toBe(`cairn-${args[0]}: unexpected argument ${args.at(-1)} (see --help)\n`);
    }
    expect(existsSync(join(dir.path, "repo-new"))).toBe(false);
    // Still the argument, not an extra one: the file it names is read (and is missing).
    expect(cairn(["key", "show", "--", "-missing.key"], { env, cwd: dir.path }).status).toBe(15);
  });

  it("a value flag without its value is a usage error, not 0 or empty (prune --keep-last would keep nothing)", () => {
    for (const [args, flag] of [[["prune", repo, "-n", "--keep-last"], "--keep-last"], [["ls", repo, "--host"], "--host"], [["verify", repo, "--restore-test"], "--restore-test"], [["seal", "-d", "-i"], "-i"], [["prune", repo, "--keep-daily", "--keep-last", "3"], "--keep-daily"]] as [string[], string][]) {
      const r = cairn(args, { env, cwd: dir.path });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toBe(`cairn-${args[0]}: ${flag} needs a value (see --help)\n`);
    }
  });

  it("a flag after a value flag is not its value: prune --keep-tag -n is refused, and removes nothing", () => {
    const tagRepo = `file://${dir.path}/tag-repo`;
    const setup = sh(
      `cairn key new -o tag-owner.key >/dev/null && cairn init ${tagRepo} --owner-key tag-owner.key --writer-key tag-writer.key 2>/dev/null && ` +
        `mkdir -p tag-src && echo a > tag-src/f && cairn backup -k tag-writer.key ${tagRepo} tag-src >/dev/null`,
      { cwd: dir.path, env },
    );
    expect(setup.stderr).toBe("");
    for (const [args, message] of [
      [["prune", tagRepo, "--keep-tag", "-n"], "--keep-tag needs a value, not the flag -n (a value that starts with - is written --keep-tag=-n)"],
      [["seal", "-d", "-i", "-n"], "-i needs a value, not the flag -n (a value that starts with - is written -i-n)"],
    ] as [string[], string][]) {
      const r = cairn(args, { env, cwd: dir.path });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toBe(`cairn-${args[0]}: ${message}\n`);
    }
    expect(cairn(["ls", "--json", tagRepo], { env, cwd: dir.path }).stdout.toString().trim().split("\n")).toHaveLength(1);
    // Glued, a value that starts with - is one: no snapshot has the tag -n, so a dry run would remove the one there is.
    const glued = cairn(["prune", tagRepo, "--keep-tag=-n", "-n"], { env, cwd: dir.path });
    expect(glued.stderr).toBe("");
    expect(glued.stdout.toString()).toMatch(/^would remove /);
  });

  it("(a value glued to its short flag still works: -kwriter.key, -iowner.key)", () => {
    const r = sh(
      `cairn key new -o glued-owner.key >/dev/null && cairn key writer -iglued-owner.key -o glued-writer.key >/dev/null && ` +
        `echo glued | cairn chunk -kglued-writer.key | cairn seal -kglued-writer.key | cairn seal -d -iglued-owner.key | cairn chunk -d -iglued-owner.key | cairn snapshot -x --stdout 2>/dev/null`,
      { cwd: dir.path, env },
    );
    expect(r.stderr).toBe("");
    expect(r.stdout.toString()).toBe("glued\n");
  });

  it("a bare m in a duration is refused by every tool (it meant months in prune, minutes in verify)", () => {
    for (const args of [["prune", repo, "--grace", "30m"], ["prune", repo, "--keep-within", "6m"], ["verify", repo, "--clock-skew", "15m"]]) {
      const r = cairn(args, { env, cwd: dir.path });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/write min for minutes or mo for months/);
    }
  });

  it("prune --keep-tag is repeatable, and ls -i | head ends quietly", () => {
    const many = Array.from({ length: 1500 }, (_, i) => `src/file-with-a-longish-name-${i}`).join(" ");
    const r = sh(
      `cairn key new -o owner.key >/dev/null && cairn init ${repo} --owner-key owner.key --writer-key writer.key 2>/dev/null && mkdir -p src && touch ${many} && ` +
        `cairn backup -k writer.key ${repo} src --tag a >/dev/null && cairn backup -k writer.key ${repo} src --tag b >/dev/null && cairn backup -k writer.key ${repo} src >/dev/null && ` +
        `cairn prune ${repo} -n --keep-tag a --keep-tag b 2>&1 | grep -c 'would remove'; ` +
        `cairn ls -i owner.key ${repo} latest | head -1 >/dev/null; echo "ls \${PIPESTATUS[0]}"`,
      { cwd: dir.path, env },
    );
    expect(r.stderr).toBe("");
    expect(r.stdout.toString()).toBe("1\nls 0\n");
  });
});
