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

// SIGINT/SIGTERM while the tool's modules load (a second on a loaded machine), before the tool
// listens for them itself: the same one line and exit 21 ("interrupted", docs/exit-codes.md) as
// later, not death by the signal. Once the tool listens, this listener steps aside.
function stopWhileLoading(tool) {
  const name = tool ?? (/^[a-z]+$/.test(process.argv[2] ?? "") ? process.argv[2] : undefined);
  const stop = (signal) => {
    if (process.listenerCount(signal) > 1) {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      return;
    }
    process.stderr.write(`cairn${name ? `-${name}` : ""}: stopped by ${signal}\n`);
    process.exit(21);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

export async function launch(tool) {
  stopWhileLoading(tool);
  const { main } = await import("../dist/main.js");
  await main(tool, process.argv.slice(2));
}
