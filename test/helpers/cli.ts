// How tests run the real binaries: with this Node (process.execPath, Node ≥ 22.15), and in
// shell pipelines with a PATH where `cairn` and `node` are the project's own.
import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const CAIRN = join(ROOT, "packages/cairn/bin/cairn.js");
const BIN = join(ROOT, "node_modules/.bin");

/** Environment for shell pipelines: this Node and the cairn bins first on PATH. */
export function shellEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${dirname(process.execPath)}:${BIN}:${process.env.PATH}`, ...extra };
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  input?: Uint8Array | string;
}

export interface Result {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

function result(r: SpawnSyncReturns<Buffer>): Result {
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr.toString() };
}

/** Runs `cairn ARGS…` to completion. */
export function cairn(args: string[], opts: RunOptions = {}): Result {
  return result(
    spawnSync(process.execPath, [CAIRN, ...args], {
      input: opts.input,
      cwd: opts.cwd,
      env: shellEnv(opts.env),
      maxBuffer: 1 << 30,
    }),
  );
}

/** Runs a bash script (a real pipeline); `set -o pipefail` is on, so any stage's failure shows. */
export function sh(script: string, opts: RunOptions = {}): Result {
  return result(
    spawnSync("bash", ["-c", `set -o pipefail\n${script}`], {
      cwd: opts.cwd,
      env: shellEnv(opts.env),
      input: opts.input,
      maxBuffer: 1 << 30,
    }),
  );
}

/** Starts `cairn ARGS…` without waiting, for tests that kill or feed a process. */
export function cairnAsync(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) {
  return spawn(process.execPath, [CAIRN, ...args], { cwd: opts.cwd, env: shellEnv(opts.env), stdio: ["pipe", "pipe", "pipe"] });
}

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(prefix = "cairn-test-"): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}
