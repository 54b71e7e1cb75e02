// Plain JavaScript on purpose: it must run on an old Node long enough to say that it is too old.
import { setFlagsFromString } from "node:v8";

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 15)) {
  process.stderr.write(`cairn: requires Node.js >= 22.15 (native zstd); this is ${process.version}. Run it through npm (npx cairn …) or install Node 22.15+.\n`);
  process.exit(2);
}

// V8's concurrent Sparkplug compiler can deadlock a process's exit: a background thread compiling
// baseline code waits for a garbage collection that the exiting main thread, joining that very
// thread, never runs (gdb on a hung `cairn chunk`: NodePlatform::Shutdown in uv_thread_join, the
// V8Worker in CollectionBarrier::AwaitCollectionBackground under ConcurrentBaselineCompiler).
// Seen in about 1 of 50 small `chunk | chunk -d` pipelines under load. Baseline code is then
// compiled on the thread that needs it, as it is by default on older V8.
setFlagsFromString("--no-concurrent-sparkplug");

export async function launch(tool) {
  const { main } = await import("../dist/main.js");
  await main(tool, process.argv.slice(2));
}
