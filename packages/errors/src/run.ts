import { runCommand, showUsage, type CommandDef, type ArgsDef } from "citty";
import { positionals } from "./args.js";
import { CairnError, printable, toCairnError } from "./error.js";
import { exitCodes } from "./codes.js";

export const MIN_NODE = [22, 15] as const;

/** One line on stderr, prefixed with the tool's name: what went wrong, never a stack trace. */
export function reportError(tool: string, err: unknown): number {
  const e = toCairnError(err);
  const line = printable(e.message.replace(/\s*\n\s*/g, " "));
  process.stderr.write(`${tool}: ${line}\n`);
  if (process.env.CAIRN_DEBUG && e.stack) process.stderr.write(`${(e.cause as Error | undefined)?.stack ?? e.stack}\n`);
  return e.exitCode;
}

/**
 * Runs a citty command as a process: --help and --version, usage errors → exit 2,
 * CairnError → its exit code, anything else → exit 1 with one line.
 * A command's run() may return a number: the exit code of a success that has a caveat (partial, unverified).
 */
export async function runTool<T extends ArgsDef>(tool: string, cmd: CommandDef<T>, rawArgs = process.argv.slice(2), opts: { variadic?: boolean } = {}): Promise<never> {
  let code: number = exitCodes.ok;
  // A failed write to stdout (disk full, an I/O error) must not pass for success, nor crash with
  // an unhandled 'error' event: it is kept here and reported once the command is done. A reader
  // that went away (EPIPE: `cairn ls | head -1`) is not a failure of the tool, as for inspect;
  // output nothing may lose (keys) is written with writeOut, which fails on that too.
  let outputFailure: Error | undefined;
  process.stdout.on("error", (err) => {
    if ((err as NodeJS.ErrnoException).code !== "EPIPE") outputFailure ??= err;
  });
  onStopSignals(tool);
  try {
    const dashdash = rawArgs.indexOf("--");
    const own = dashdash === -1 ? rawArgs : rawArgs.slice(0, dashdash);
    if (own.includes("--help") || own.includes("-h")) {
      const [sub, parent] = await subCommandOf(cmd as CommandDef, own);
      await showUsage(sub, parent);
    } else if (own.length === 1 && own[0] === "--version") {
      const meta = typeof cmd.meta === "function" ? await cmd.meta() : await cmd.meta;
      process.stdout.write(`${meta?.version ?? "0.0.0"}\n`);
    } else {
      await checkFlags(cmd as CommandDef, own, opts.variadic, dashdash === -1 ? [] : rawArgs.slice(dashdash + 1));
      const { result } = await runCommand(cmd, { rawArgs });
      if (typeof result === "number") code = result;
    }
  } catch (err) {
    const e = (err as { code?: string })?.code === "EARG" || (err as Error)?.name === "CLIError"
      ? new CairnError("usage", `${(err as Error).message} (see --help)`)
      : err;
    code = reportError(tool, e);
  }
  await flushStdout();
  // A synchronous write's failure (a file, a pipe on Linux) is emitted on a later tick.
  await new Promise((resolve) => setImmediate(resolve));
  if (outputFailure && code === exitCodes.ok) code = reportError(tool, outputError(outputFailure));
  process.exit(code);
}

/**
 * SIGINT/SIGTERM: one line and exit 21 ("interrupted", docs/exit-codes.md) rather than death by
 * the signal. A tool with clean-up of its own (snapshot -x, backup, restore) registers its own
 * handler, which runs in the same emit and exits first; this one waits a tick for that. It
 * claims nothing about what was done: a push stopped after its commit has committed, a prune
 * may have deleted some garbage (each such write stands on its own; docs/repository.md).
 */
function onStopSignals(tool: string): void {
  const stop = (signal: NodeJS.Signals) => {
    setImmediate(() => process.exit(reportError(tool, new CairnError("interrupted", `stopped by ${signal}`))));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

/**
 * Writes to stdout and resolves once the bytes are written; a write that fails (disk full, a
 * closed pipe) rejects with an io CairnError. For output that must not be lost without a word,
 * such as a key printed on stdout: await it before making anything that depends on it.
 */
export function writeOut(text: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(text, (err) => (err ? reject(outputError(err)) : resolve()));
  });
}

function outputError(err: Error): CairnError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "EPIPE") return new CairnError("io", "output closed early (broken pipe): nothing reads stdout", { cause: err });
  return new CairnError("io", `cannot write to stdout: ${code === "ENOSPC" ? "disk full" : err.message}`, { cause: err });
}

/** The (sub)command that the words before any flag name, as citty resolves it, and its parent. */
async function subCommandOf(cmd: CommandDef, args: string[]): Promise<[CommandDef, CommandDef | undefined]> {
  let current = cmd;
  let parent: CommandDef | undefined;
  for (const word of args) {
    if (word.startsWith("-")) break;
    const subs = typeof current.subCommands === "function" ? await current.subCommands() : await current.subCommands;
    const next = subs?.[word];
    if (!next) break;
    parent = current;
    current = typeof next === "function" ? await (next as () => Promise<CommandDef>)() : await next;
  }
  return [current, parent];
}

function flushStdout(): Promise<void> {
  return new Promise((resolve) => {
    if (process.stdout.writableLength === 0 || process.stdout.destroyed) return resolve();
    process.stdout.write("", () => resolve());
  });
}

type Lazy<T> = T | Promise<T> | (() => T | Promise<T>);
async function resolved<T>(v: Lazy<T>): Promise<T> {
  return typeof v === "function" ? await (v as () => T | Promise<T>)() : await v;
}

/**
 * Checks the flags against the (sub)command they are for (positionals() says how), and the words
 * against its positional arguments: citty ignores words beyond them, so `prune A B` would prune A
 * alone and exit 0. The words after a "--" count too (`prune A -- B`). A variadic command
 * (paths, repositories, ids) checks its words itself.
 */
export async function checkFlags(cmd: CommandDef, own: string[], variadic = false, afterDashDash: string[] = []): Promise<void> {
  let current = cmd;
  let i = 0;
  for (; i < own.length && !own[i].startsWith("-"); i++) {
    const subs = current.subCommands ? await resolved(current.subCommands as Lazy<Record<string, Lazy<CommandDef>>>) : undefined;
    const next = subs?.[own[i]];
    if (!next) break;
    current = await resolved(next);
  }
  const args = (current.args ? await resolved(current.args as Lazy<ArgsDef>) : {}) as ArgsDef;
  const words = [...positionals(own.slice(i), args), ...afterDashDash];
  const declared = Object.values(args).filter((def) => def.type === "positional").length;
  if (!variadic && words.length > declared) {
    const what = current.subCommands && declared === 0 ? "unknown command" : "unexpected argument";
    throw new CairnError("usage", `${what} ${words[declared]} (see --help)`);
  }
}
