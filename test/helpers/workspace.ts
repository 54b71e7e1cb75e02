// A test file's own directory, and the environment every cairn it runs there shares: trust file
// and cache inside it, no key variables from the shell that runs the suite.
import { join } from "node:path";
import { tempDir, type Result } from "./cli.js";
import { shA } from "./async-cli.js";

export function workspace(prefix: string) {
  const dir = tempDir(prefix);
  const at = (name: string) => join(dir.path, name);
  const url = (name: string) => `file://${at(name)}`;
  const env = { CAIRN_WRITERS: at("writers"), CAIRN_CACHE: at("cache"), CAIRN_WRITER_KEY: "", CAIRN_OWNER_KEY: "" };
  /** A bash script (pipefail on) in the directory, without blocking the test runner's event loop. */
  const run = (script: string): Promise<Result> => shA(script, { cwd: dir.path, env });
  return { dir, at, url, env, run };
}
