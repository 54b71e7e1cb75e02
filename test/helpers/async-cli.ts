// Asynchronous twins of cli.ts's cairn() and sh(): a long pipeline run with spawnSync blocks the
// test worker's event loop, and vitest's worker RPC times out under load. Same results.
import { spawn } from "node:child_process";
import { CAIRN, shellEnv, type Result, type RunOptions } from "./cli.js";

function run(cmd: string, args: string[], opts: RunOptions): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: shellEnv(opts.env), stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.stdin.on("error", () => {});
    child.on("error", reject);
    child.on("close", (status, signal) => resolve({ status, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() }));
    child.stdin.end(opts.input ?? "");
  });
}

/** `cairn ARGS…`, awaited. */
export function cairnA(args: string[], opts: RunOptions = {}): Promise<Result> {
  return run(process.execPath, [CAIRN, ...args], opts);
}

/** A bash script with pipefail, awaited. */
export function shA(script: string, opts: RunOptions = {}): Promise<Result> {
  return run("bash", ["-c", `set -o pipefail\n${script}`], opts);
}
