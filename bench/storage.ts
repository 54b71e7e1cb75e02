// Storage alone: PUT and GET throughput of pack-sized objects, ranged GETs, LIST, requests sent,
// on a local folder and on Ceph RGW (docs/benchmarks/storage.md; bench/storage.sh writes it).
//   node bench/storage.ts [MiB]   (default 512) prints a Markdown section
// Needs CAIRN_S3_ENDPOINT and AWS credentials for the RGW rows (bench/storage.sh starts RGW).
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createBucket, destroyBucket, openStorage, type Storage, type StorageOptions } from "@cairn/storage";

const MiB = 1024 * 1024;
const total = Number(process.argv[2] ?? 512) * MiB;
const packSize = 16 * MiB;
const packs = Math.max(1, Math.round(total / packSize));
const concurrency = 4;

async function parallel<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => { while (next < items.length) await fn(items[next++]); }));
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

interface Row { store: string; op: string; seconds: number; mbps?: number; requests?: number }

async function measure(name: string, s: Storage): Promise<Row[]> {
  const rows: Row[] = [];
  const body = randomBytes(packSize);
  const keys = Array.from({ length: packs }, (_, i) => `packs/${String(i).padStart(4, "0")}`);
  const mb = (packs * packSize) / 1e6;
  const req = () => s.requestCount?.() ?? 0;
  let r0 = req();
  let sec = await timed(() => parallel(keys, concurrency, (k) => s.put(k, body)));
  rows.push({ store: name, op: `PUT ${packs} × 16 MiB, ${concurrency} at a time`, seconds: sec, mbps: mb / sec, requests: req() - r0 });
  r0 = req();
  sec = await timed(() => parallel(keys, concurrency, (k) => s.get(k)));
  rows.push({ store: name, op: `GET ${packs} × 16 MiB, ${concurrency} at a time`, seconds: sec, mbps: mb / sec, requests: req() - r0 });
  // ranged reads as a partial restore does them: 1 MiB ranges, 8 per pack
  const ranges = keys.flatMap((k) => Array.from({ length: 8 }, (_, i) => ({ k, offset: i * 2 * MiB })));
  r0 = req();
  sec = await timed(() => parallel(ranges, 8, (r) => s.get(r.k, { offset: r.offset, length: MiB })));
  rows.push({ store: name, op: `ranged GET ${ranges.length} × 1 MiB, 8 at a time`, seconds: sec, mbps: ranges.length * MiB / 1e6 / sec, requests: req() - r0 });
  // small objects (index files, snapshots) and LIST pagination
  const small = Array.from({ length: 2000 }, (_, i) => `index/${String(i).padStart(5, "0")}`);
  const tiny = randomBytes(512);
  r0 = req();
  sec = await timed(() => parallel(small, 16, (k) => s.put(k, tiny)));
  rows.push({ store: name, op: "PUT 2000 × 512 B, 16 at a time", seconds: sec, requests: req() - r0 });
  r0 = req();
  sec = await timed(async () => { for await (const _ of s.list("index/")) void _; });
  rows.push({ store: name, op: "LIST 2000 keys", seconds: sec, requests: req() - r0 });
  r0 = req();
  sec = await timed(() => s.deleteMany!([...small, ...keys]));
  rows.push({ store: name, op: `DELETE ${small.length + keys.length} keys (batched)`, seconds: sec, requests: req() - r0 });
  return rows;
}

const rows: Row[] = [];
const dir = mkdtempSync(join(tmpdir(), "cairn-bench-storage-"));
try {
  rows.push(...(await measure("folder", await openStorage(pathToFileURL(dir).href))));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (process.env.CAIRN_S3_ENDPOINT) {
  const url = `s3://cairn-bench-${Date.now()}/repo`;
  const opts: StorageOptions = {};
  await createBucket(url, {}, opts);
  try {
    rows.push(...(await measure("Ceph RGW", await openStorage(url, opts))));
  } finally {
    await destroyBucket(url, opts);
  }
}

const load = loadavg().map((x) => x.toFixed(1)).join(" ");
console.log(`# storage

Command: \`bash bench/storage.sh\` (= \`node bench/storage.ts ${total / MiB}\`, with RGW from
\`scripts/s3/ceph-start.sh\` unless CAIRN_S3_ENDPOINT is set). In one process: ${packs} pack-sized objects
(16 MiB, random) put and read back ${concurrency} at a time, ranged 1 MiB reads, 2000 small objects,
LIST and batched DELETE, on a local folder (tmpfs or disk under ${tmpdir()}) and on a one-node
Ceph RGW 16 (memstore) on loopback. "requests" counts S3 HTTP attempts (retries and parts
included; 16 MiB is below the 64 MiB multipart threshold, so one PUT per pack).
Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim()}; load average ${load} at the end.

| store | operation | s | MB/s | requests |
|---|---|---|---|---|
${rows.map((r) => `| ${r.store} | ${r.op} | ${r.seconds.toFixed(2)} | ${r.mbps ? r.mbps.toFixed(0) : ""} | ${r.requests ?? ""} |`).join("\n")}
`);
