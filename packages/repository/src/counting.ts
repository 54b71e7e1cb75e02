// Counting the requests a tool makes through a Storage, for `--json` stats and benchmarks.
// The wrapper inherits everything else from the storage it wraps.
import type { Storage } from "@cairn/storage";

export interface RequestCounts {
  requests: number;
  bytesUp: number;
  bytesDown: number;
}

export function countingStorage(inner: Storage): { storage: Storage; counts: RequestCounts } {
  const counts: RequestCounts = { requests: 0, bytesUp: 0, bytesDown: 0 };
  const storage = Object.create(inner) as Storage;
  Object.assign(storage, {
    put(key: string, body: Uint8Array | AsyncIterable<Uint8Array>, opts?: object) {
      counts.requests++;
      if (body instanceof Uint8Array) counts.bytesUp += body.length;
      return inner.put(key, body, opts);
    },
    async get(key: string, range?: { offset: number; length: number }) {
      counts.requests++;
      const bytes = await inner.get(key, range);
      counts.bytesDown += bytes.length;
      return bytes;
    },
    async *getStream(key: string, range?: { offset: number; length: number }) {
      counts.requests++;
      for await (const chunk of inner.getStream(key, range)) {
        counts.bytesDown += chunk.length;
        yield chunk;
      }
    },
    head(key: string) {
      counts.requests++;
      return inner.head(key);
    },
    async *list(prefix: string) {
      // One LIST request per page of up to 1000 keys.
      counts.requests++;
      let n = 0;
      for await (const o of inner.list(prefix)) {
        if (++n % 1000 === 0) counts.requests++;
        yield o;
      }
    },
    delete(key: string) {
      counts.requests++;
      return inner.delete(key);
    },
  });
  return { storage, counts };
}
