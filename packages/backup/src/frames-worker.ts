// A stage chain on a worker thread, its frames moved (not copied, not encoded) to the main thread:
// so that the fused commands' CPU work runs beside the main thread's instead of taking turns with
// it. The worker posts frames in batches, at most AHEAD_BYTES ahead of what the main thread has
// consumed (memory stays flat when a later stage is slow). If the main thread stops early (a later
// stage failed), the worker returns its chain's iterator so its sources clean up (a
// --from-command child is killed) before the thread is terminated. A process that exits at once
// (stopped by a signal) runs no clean-up in the worker, so the main thread stops such a child itself.
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { CairnError, toCairnError, type ErrorKind } from "@cairn/errors";
import { ownedCopy, ownsBuffer, type Frame } from "@cairn/protocol";

type FromWorker =
  | { type: "frames"; frames: Frame[]; bytes: number }
  | { type: "done" }
  | { type: "stopped" }
  | { type: "error"; kind: ErrorKind; message: string }
  | { type: "command"; pid: number };

type ToWorker = { type: "credit"; bytes: number } | { type: "stop" };

/** A batch goes out at this many frames or bytes (fewer messages for many small files). */
const BATCH_FRAMES = 256;
const BATCH_BYTES = 4 << 20;
const AHEAD_BYTES = 32 << 20;
/** How long a stopped worker may take to clean up before it is terminated. */
const STOP_GRACE_MS = 5000;

/** Main thread: runs the worker module at `url` with `data` and yields the frames it serves. */
export async function* framesFromWorker(url: URL, data: unknown, what: string): AsyncGenerator<Frame> {
  // execArgv: [] so that a test runner's resolve conditions (TypeScript sources) do not reach the
  // worker, which runs the compiled code.
  const worker = new Worker(url, { workerData: { module: url.href, data }, execArgv: [] });
  const inbox: FromWorker[] = [];
  let failure: Error | undefined;
  let exited = false;
  let wake: (() => void) | undefined;
  const rouse = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const stopCommands: (() => void)[] = [];
  worker.on("message", (m: FromWorker) => {
    if (m.type === "command") {
      const stop = () => {
        try {
          process.kill(m.pid, "SIGTERM");
        } catch {
          // it has exited already
        }
      };
      process.once("exit", stop);
      stopCommands.push(stop);
      return;
    }
    inbox.push(m);
    rouse();
  });
  worker.on("error", (err) => {
    failure ??= new CairnError("failed", `the ${what} worker died: ${err.message}`);
    rouse();
  });
  worker.on("exit", () => {
    exited = true;
    failure ??= new CairnError("failed", `the ${what} worker stopped without finishing`);
    rouse();
  });
  const send = (m: ToWorker) => worker.postMessage(m);

  let finished = false;
  try {
    for (;;) {
      while (inbox.length === 0) {
        if (failure) throw failure;
        await new Promise<void>((resolve) => (wake = resolve));
      }
      const m = inbox.shift()!;
      if (m.type === "frames") {
        yield* m.frames;
        send({ type: "credit", bytes: m.bytes });
      } else {
        finished = true;
        if (m.type === "error") throw new CairnError(m.kind, m.message);
        return;
      }
    }
  } finally {
    if (!finished && !exited) {
      send({ type: "stop" });
      const timer = setTimeout(rouse, STOP_GRACE_MS);
      const deadline = Date.now() + STOP_GRACE_MS;
      while (!exited && Date.now() < deadline) {
        const m = inbox.shift();
        if (m && m.type !== "frames") break;
        if (!m) await new Promise<void>((resolve) => (wake = resolve));
      }
      clearTimeout(timer);
    }
    await worker.terminate();
    for (const stop of stopCommands) process.off("exit", stop);
  }
}

/** Worker thread: tells the main thread the pid of a command the source runs (see above). */
export function tellCommand(pid: number): void {
  parentPort?.postMessage({ type: "command", pid } satisfies FromWorker);
}

/**
 * Worker thread: serves the frames of `make(data)` to framesFromWorker, if this thread was started
 * for `module` (the caller's import.meta.url); anywhere else (the main thread, a worker started for
 * another module that imports this one) it does nothing.
 */
export function serveFrames(module: string, make: (data: any) => AsyncIterable<Frame>): void {
  if (isMainThread || workerData?.module !== module) return;
  const port = parentPort!;
  let ahead = 0;
  let stopped = false;
  let wake: (() => void) | undefined;
  port.on("message", (m: ToWorker) => {
    if (m.type === "credit") ahead -= m.bytes;
    else stopped = true;
    const w = wake;
    wake = undefined;
    w?.();
  });
  const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

  void (async () => {
    let batch: Frame[] = [];
    let transfer: ArrayBuffer[] = [];
    let bytes = 0;
    const flush = async () => {
      while (ahead >= AHEAD_BYTES && !stopped) await new Promise<void>((resolve) => (wake = resolve));
      if (stopped) return;
      ahead += bytes;
      post({ type: "frames", frames: batch, bytes }, transfer);
      batch = [];
      transfer = [];
      bytes = 0;
    };
    try {
      for await (const f of make(workerData.data)) {
        if (f.data) {
          // Moved, not copied, when the stage handed its memory over with the frame (Frame.dispose);
          // else a copy is moved (the stage may still use its memory: a window, a buffer it reuses).
          const d = f.data;
          const own = f.dispose && ownsBuffer(d) ? d : ownedCopy(d);
          f.written?.(); // lent memory (Frame.written) is the stage's again once copied
          transfer.push(own.buffer as ArrayBuffer);
          // Moved, the memory is the receiving thread's alone: a stage there may free it once used.
          batch.push({ type: f.type, data: own, dispose: true });
          bytes += own.length;
        } else {
          batch.push(f);
        }
        if (batch.length >= BATCH_FRAMES || bytes >= BATCH_BYTES) await flush();
        if (stopped) break; // returns the chain's iterator: its sources clean up
      }
      if (stopped) return post({ type: "stopped" });
      if (batch.length) await flush();
      post({ type: "done" });
    } catch (err) {
      const e = toCairnError(err);
      post({ type: "error", kind: e.kind, message: e.message });
    }
  })();
}
