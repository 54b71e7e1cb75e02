import { defineCommand } from "citty";
import { CairnError, exitCodes, reportError } from "@cairn/errors";
import { FrameType, decodeFrames, stdinChunks, writeAll, writeFrames, type Frame } from "@cairn/protocol";
import { repeated, splitDashDash } from "@cairn/errors";
import { extractToDir } from "./extract-dir.js";
import { extractToStdout } from "./extract-stdout.js";
import { extractToTar } from "./extract-tar.js";
import { snapshotCommand, snapshotStdin } from "./raw.js";
import { snapshotTar } from "./tar-in.js";
import { removeTempFiles } from "./temp-files.js";
import { snapshotPaths } from "./walk.js";

const TOOL = "cairn-snapshot";

const args = {
  paths: { type: "positional", required: false, description: "files and directories to snapshot; with -x: the directory to restore into (--stdout: the entry to write)" },
  extract: { type: "boolean", alias: "x", description: "restore a plain stream read from stdin (into DIR, or --tar, or --stdout)" },
  tar: { type: "boolean", description: "snapshot: read a tar stream from stdin; -x: write a tar stream to stdout" },
  stdout: { type: "boolean", description: "-x: write the bytes of one entry to stdout" },
  stdin: { type: "boolean", description: "snapshot raw stdin as one entry (--name); marked completeness-unverified" },
  "from-command": { type: "boolean", description: "snapshot the stdout of the command after -- as one entry (--name); fails if it fails" },
  name: { type: "string", valueHint: "NAME", description: "entry path for --stdin / --from-command" },
  label: { type: "string", valueHint: "LABEL", description: "source label retention groups by (default: the paths given)" },
  tag: { type: "string", valueHint: "TAG", description: "a tag for the snapshot (repeatable)" },
  exclude: { type: "string", valueHint: "PATTERN", description: "skip paths matching this gitignore-style pattern (repeatable)" },
  "one-file-system": { type: "boolean", description: "do not descend into other file systems" },
  include: { type: "string", valueHint: "PATTERN", description: "-x: restore only paths matching this pattern (repeatable)" },
  overwrite: { type: "boolean", description: "-x: replace existing files" },
  "no-same-owner": { type: "boolean", description: "-x: files belong to you even as root, setuid/setgid bits dropped (for a stream you do not trust with root's files)" },
} as const;


/** Passes frames through, noting END's meta for the exit code. */
async function* watchEnd(frames: AsyncIterable<Frame>, seen: { end?: Record<string, unknown> }): AsyncGenerator<Frame> {
  for await (const f of frames) {
    if (f.type === FrameType.END) seen.end = f.meta;
    yield f;
  }
}

function refuseTerminal(): void {
  if (process.stdout.isTTY) throw new CairnError("usage", "refusing to write a binary stream to a terminal: pipe it into another cairn tool");
}

function needStdin(what: string): void {
  if (process.stdin.isTTY) throw new CairnError("usage", `${what} reads stdin, which is a terminal: pipe something in (see --help)`);
}

/** SIGINT/SIGTERM: remove temporary files, say so in one line, exit "interrupted". */
function onSignals(): void {
  const stop = (signal: NodeJS.Signals) => {
    removeTempFiles();
    process.exit(reportError(TOOL, new CairnError("interrupted", `stopped by ${signal}; nothing half-written was left behind`)));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

export default defineCommand({
  meta: {
    name: "snapshot",
    version: "0.1.0",
    description: "files, a tar stream, raw stdin or a command's output → plain stream; -x restores one",
  },
  args,
  async run({ args: a, rawArgs }) {
    const { own, command } = splitDashDash(rawArgs);
    const positionals = (a._ as string[]).slice(0, (a._ as string[]).length - command.length);
    const tags = repeated(own, ["--tag"]);
    const exclude = repeated(own, ["--exclude"]);
    const include = repeated(own, ["--include"]);
    const usage = (m: string) => new CairnError("usage", `${m} (see --help)`);

    const noSameOwner = a["no-same-owner"] === true || (a as Record<string, unknown>)["same-owner"] === false; // citty reads --no-X as X = false
    if (a.extract) {
      if (a.stdin || a["from-command"] || exclude.length || a["one-file-system"] || tags.length || a.label || a.name) {
        throw usage("-x restores a stream: --stdin, --from-command, --name, --label, --tag, --exclude and --one-file-system do not apply");
      }
      if (a.tar && a.stdout) throw usage("-x writes a tar stream (--tar) or one entry's bytes (--stdout), not both");
      if ((a.tar || a.stdout) && (a.overwrite || noSameOwner)) throw usage("--overwrite and --no-same-owner apply to -x DIR, not to --tar or --stdout");
      if (a.tar && positionals.length) throw usage("-x --tar writes to stdout and takes no directory");
      if (a.stdout && positionals.length > 1) throw usage("-x --stdout takes at most one entry path");
      if (a.stdout && include.length) throw usage("-x --stdout names its entry as an argument, not with --include");
      if (!a.tar && !a.stdout && positionals.length !== 1) throw usage("-x needs one directory to restore into (or --tar, or --stdout)");
      if (a.tar) refuseTerminal();
      needStdin("-x");
      onSignals();
      if (a.tar) {
        await writeAll(extractToTar(decodeFrames(stdinChunks()), { include }));
        return exitCodes.ok;
      }
      if (a.stdout) {
        await writeAll(extractToStdout(decodeFrames(stdinChunks()), positionals[0]));
        return exitCodes.ok;
      }
      // extractToDir has at most one frame's data in use (one write in flight) when it asks for the
      // next, and keeps nothing longer: the input's memory before that frame can be freed.
      await extractToDir(decodeFrames(stdinChunks(), { borrow: "allButLast" }), positionals[0], { include, overwrite: a.overwrite, noSameOwner });
      return exitCodes.ok;
    }

    if (a.stdout || a.overwrite || noSameOwner || include.length) throw usage("--stdout, --overwrite, --no-same-owner and --include apply to -x");
    const start = { tags, label: a.label };
    const sources = [positionals.length > 0, a.tar, a.stdin, a["from-command"]].filter(Boolean).length;
    if (sources !== 1) throw usage("give exactly one source: paths, --tar, --stdin or --from-command");
    if ((a.stdin || a["from-command"]) && !a.name) throw usage(`${a.stdin ? "--stdin" : "--from-command"} needs --name NAME for the entry`);
    if (!a["from-command"] && command.length) throw usage('arguments after "--" need --from-command');
    if ((a.tar || a.stdin || a["from-command"]) && (exclude.length || a["one-file-system"])) throw usage("--exclude and --one-file-system apply to paths");
    refuseTerminal();
    if (a.tar) needStdin("--tar");
    if (a.stdin) needStdin("--stdin");

    let frames: AsyncIterable<Frame>;
    if (a.tar) frames = snapshotTar(start);
    else if (a.stdin) frames = snapshotStdin({ ...start, name: a.name! });
    else if (a["from-command"]) frames = snapshotCommand(command, { ...start, name: a.name! });
    else frames = snapshotPaths(positionals, { ...start, exclude, oneFileSystem: a["one-file-system"] });

    const seen: { end?: Record<string, unknown> } = {};
    await writeFrames(TOOL, watchEnd(frames, seen));
    const partial = Number(seen.end?.partial ?? 0);
    if (partial > 0) {
      process.stderr.write(`${TOOL}: snapshot complete, but ${partial} ${partial === 1 ? "entry was" : "entries were"} not read completely (see above)\n`);
      return exitCodes.partial;
    }
    return exitCodes.ok;
  },
});
