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
 * collections (V8's --heap-growing-percent=200; by default the limit is live + a few MB). V8
 * starts an incremental marking whenever that headroom is below the young generation's
 * capacity: with the main thread's ~10 MB live heap that is right after every full collection,
 * so it marked nearly nonstop (~130 Mark-Compacts per GiB sealed, 3–5 CPU-s of concurrent
 * marking). Measured on 1 GiB (docs/benchmarks/seal.md): `seal` −3 CPU-s for +5–15 MiB peak
 * RSS, `seal -d` −0.6 CPU-s, RSS unchanged (400 %: a little more CPU for +25–35 MiB). The flag
 * is process-wide and read whenever V8 recomputes its limits, so it is set while any pool runs
 * and reset when the last one closes.
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
