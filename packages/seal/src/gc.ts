// A minor (young generation) garbage collection on demand. Sealing moves megabytes of short-lived
// buffers per chunk through threads whose JavaScript heaps barely grow, so V8 seldom collects
// and dead buffers pile up outside the heap. Collecting the young generation once per chunk
// frees them for a fraction of a millisecond (measured: docs/benchmarks/seal.md).
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as (opts?: { type: "minor" }) => void;

export function minorGc(): void {
  gc({ type: "minor" });
}

/** A full collection: also frees what was promoted to the old generation. */
export function majorGc(): void {
  gc();
}

/**
 * While a worker pool runs, the old generation may grow to 3× its live size between full
 * collections (V8's --heap-growing-percent=200; by default it may grow by a few MB only). The
 * main thread's heap is small (~10 MB live) while gigabytes of buffers pass through it, and with
 * the default limit V8 keeps an incremental marking going nearly all the time: ~130 full
 * collections per GiB sealed, 3–4 CPU-s of concurrent marking (docs/benchmarks/seal.md). The
 * price is memory: dead buffers wait longer for a collection (measured +15–25 MiB peak RSS;
 * 400 % saved a little more CPU for +40–50 MiB). The flag is process-wide and read whenever V8
 * recomputes its limits, so it is set while any pool runs and reset after the last one closes.
 */
const HEAP_GROWING_PERCENT = 200;
let pools = 0;

export function roomyOldGeneration(): () => void {
  if (pools++ === 0) setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    if (--pools === 0) setFlagsFromString("--heap-growing-percent=0");
  };
}
