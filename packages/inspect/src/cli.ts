import { open } from "node:fs/promises";
import { defineCommand } from "citty";
import { CairnError } from "@cairn/errors";
import { stdinChunks, writeAll } from "@cairn/protocol";
import { inspectLines } from "./index.js";

export default defineCommand({
  meta: {
    name: "inspect",
    version: "0.1.0",
    description: "Print any cairn stream as JSON lines, one per frame (binary frames summarised). A damaged stream prints the frames before the damage, then the error, and exits with its code.",
  },
  args: {
    file: { type: "positional", required: false, description: "a file holding a cairn stream (default or -: stdin)" },
    data: { type: "boolean", default: false, description: "print the whole payload of binary frames, not a 16-byte preview" },
    base64: { type: "boolean", default: false, description: "print bytes as base64 instead of hex" },
    json: { type: "boolean", description: "JSON lines (the default, and the only format)" },
  },
  async run({ args }) {
    // citty reads --no-json as json = false: there is no other format to give instead.
    if (args.json === false) throw new CairnError("usage", "inspect prints JSON lines only: --no-json has no other format to give (see --help)");
    const file = args.file as string | undefined;
    const source = file && file !== "-" ? await openFile(file) : stdinChunks();
    try {
      await writeAll(batched(inspectLines(source, { data: args.data, encoding: args.base64 ? "base64" : "hex" })), process.stdout);
    } catch (err) {
      // `cairn inspect | head` stops reading on purpose: that is not a failure of inspect.
      if (err instanceof CairnError && err.kind === "io" && /broken pipe/.test(err.message)) return 0;
      throw err;
    }
  },
});

/** Lines gathered into writes of about 64 KiB (a stream of small frames makes many lines). */
async function* batched(lines: AsyncIterable<string>): AsyncGenerator<Uint8Array> {
  let pending = "";
  try {
    for await (const l of lines) {
      pending += l;
      if (pending.length >= 64 * 1024) {
        yield Buffer.from(pending);
        pending = "";
      }
    }
  } finally {
    // The lines read before an error are printed before it.
    if (pending) yield Buffer.from(pending);
  }
}

async function openFile(path: string): Promise<AsyncIterable<Uint8Array>> {
  try {
    return (await open(path)).createReadStream({ highWaterMark: 4 << 20 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new CairnError("notFound", `${path}: no such file`);
    throw new CairnError("io", `cannot read ${path}: ${(err as Error).message}`);
  }
}
