import { spawn } from "node:child_process";
import { CairnError } from "@cairn/errors";
import { FrameType, stdinChunks, type EntryMeta, type Frame } from "@cairn/protocol";
import { contentFrames } from "./content.js";
import { unsafePathReason } from "./entry-path.js";
import { groupName, userName } from "./owners.js";
import { endFrame, startFrame, type StartOptions } from "./start.js";

export interface RawOptions extends StartOptions {
  /** The entry's path in the snapshot (e.g. "prod.sql"). */
  name: string;
  /** Told the command's pid once it runs: a worker thread's "exit" does not come when the process exits. */
  onCommand?: (pid: number) => void;
}

function checkName(name: string): void {
  const why = unsafePathReason(Buffer.from(name));
  if (why) throw new CairnError("usage", `--name "${name}" cannot be an entry path: ${why}`);
}

function rawEntry(name: string, unverified: boolean): Frame {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const meta: EntryMeta = { kind: "file", path: name, mode: 0o600, uid, gid, mtime: (BigInt(Date.now()) * 1_000_000n).toString() };
  const uname = userName(uid);
  const gname = groupName(gid);
  if (uname !== undefined) meta.uname = uname;
  if (gname !== undefined) meta.gname = gname;
  if (unverified) meta.unverified = true;
  return { type: FrameType.ENTRY, meta };
}

/**
 * Raw bytes (stdin by default) → a plain stream of one entry. A clean EOF cannot tell a finished
 * dump from one that died, so the entry and END are marked unverified; use snapshotCommand when
 * the producer can be run by cairn.
 */
export async function* snapshotStdin(opts: RawOptions, input: AsyncIterable<Uint8Array> = stdinChunks()): AsyncGenerator<Frame> {
  checkName(opts.name);
  yield startFrame(opts, opts.name, "stdin");
  yield rawEntry(opts.name, true);
  const end = yield* contentFrames(input);
  yield { type: FrameType.ENTRY_END, meta: end };
  yield endFrame({ entries: 1, partial: 0, unverified: true });
}

/**
 * A command's stdout → a plain stream of one entry. Its stderr passes through. If it exits
 * non-zero or dies on a signal, this throws (a "command" error) before ENTRY_END and END, so
 * writeFrames sends an ERROR frame and nothing downstream commits.
 */
export async function* snapshotCommand(command: string[], opts: RawOptions): AsyncGenerator<Frame> {
  checkName(opts.name);
  if (command.length === 0) throw new CairnError("usage", "--from-command needs a command after --");
  const [cmd, ...args] = command;
  const child = spawn(cmd, args, { stdio: ["inherit", "pipe", "inherit"] });
  if (child.pid !== undefined) opts.onCommand?.(child.pid);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.once("error", (error) => resolve({ code: null, signal: null, error }));
    child.once("close", (code, signal) => resolve({ code, signal }));
  });
  // A tool stopped by a signal exits at once (no finally runs): the command must not outlive it.
  const stopCommand = () => child.kill("SIGTERM");
  process.once("exit", stopCommand);
  let finished = false;
  try {
    yield startFrame(opts, opts.name, "command");
    yield rawEntry(opts.name, false);
    const end = yield* contentFrames(child.stdout!);
    const { code, signal, error } = await exited;
    finished = true;
    if (error) {
      const why = (error as NodeJS.ErrnoException).code === "ENOENT" ? "not found" : error.message;
      throw new CairnError("command", `cannot run ${cmd}: ${why}`);
    }
    if (signal) throw new CairnError("command", `${cmd} was killed by ${signal}; the snapshot is incomplete`);
    if (code !== 0) throw new CairnError("command", `${cmd} exited with status ${code}; the snapshot is incomplete`);
    yield { type: FrameType.ENTRY_END, meta: end };
    yield endFrame({ entries: 1, partial: 0, unverified: false });
  } finally {
    process.off("exit", stopCommand);
    if (!finished && child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  }
}
