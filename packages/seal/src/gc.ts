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
