// Turns bench/compare.sh's results.tsv into docs/benchmarks/compare.md (Markdown on stdout).
//   node bench/compare/report.ts RESULTS MIB BYTES FILES RESTIC_VERSION
import { existsSync, readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";

const [file, mib, bytesText, files, resticVersion] = process.argv.slice(2);
const bytes = Number(bytesText);
const gib = bytes / 2 ** 30;
interface Run { name: string; target: string; wall: number; cpu: number; rss: number; requests: number; byMethod: Record<string, number>; up: number; down: number }
const runs: Run[] = [];
const stored = new Map<string, number>();
const stages: { run: string; target: string; stage: string; cpu: number; rss: number }[] = [];
for (const line of readFileSync(file, "utf8").trim().split("\n")) {
  const f = line.split("\t");
  if (f[0] === "stage") {
    stages.push({ run: f[1], target: f[2], stage: f[3].replace(/^\d-/, "").replace(/-(d|x)$/, " -$1"), cpu: Number(f[4]), rss: Number(f[5]) / 1024 });
    continue;
  }
  if (f[0] === "stored") {
    stored.set(f[1], Number(f[2]));
    continue;
  }
  const c = JSON.parse(f[6]);
  runs.push({ name: f[0], target: f[1], wall: Number(f[2]), cpu: Number(f[3]) + Number(f[4]), rss: Number(f[5]) / 1024, requests: c.requests, byMethod: c.byMethod, up: c.bytesUp, down: c.bytesDown });
}
const mb = (n: number) => (n / 1e6).toFixed(0);
const s3 = (t: string) => t === "s3" || t === "far";
const label = (t: string) => ({ s3: "RGW", far: "RGW far" })[t] ?? "folder";
const find = (name: string, target: string) => runs.find((r) => r.name === name && r.target === target)!;

const out: string[] = [];
out.push("# cairn and restic, compared");
out.push("");
out.push("Command: `bash bench/compare.sh` (part of `make bench`; `COMPARE_MIB` sets the size). One run, one");
out.push(`data set: ${mib} MiB (${bytes} bytes) in ${files} files, half random bytes, half pseudo-text`);
out.push("(bench/compare/gen-data.ts), read from the page cache. Every backup goes into a fresh repository");
out.push("(no dedup against earlier runs), every restore into an empty directory. Folder = a local");
out.push("directory; RGW = Ceph RGW on this machine (memstore), every S3 request through one counting proxy");
out.push("(bench/compare/count-proxy.ts). RGW far = the RGW repositories restored through a second proxy in");
out.push("front of the counting one that holds each request 30 ms and sends each response at most 20 MB/s");
out.push("(COMPARE_FAR_DELAY, COMPARE_FAR_RATE): a store across a network, where each connection's rate and");
out.push("the round trip count (restores only: that proxy limits downloads). Wall and CPU (user + sys, all processes and threads) from");
out.push("/usr/bin/time; peak RSS is that of the largest process (for a pipeline, its largest stage).");
out.push(`${resticVersion}; Node ${process.version}; ${cpus().length} × ${cpus()[0]?.model.trim()}; load average at the end ${loadavg().map((l) => l.toFixed(1)).join(" ")}`);
out.push("(other work on the machine slows wall times; CPU seconds are less sensitive to it).");
out.push("");
out.push("| target | run | wall s | MB/s | CPU s | peak RSS MiB | requests | requests per GiB | MB up / down |");
out.push("|---|---|---|---|---|---|---|---|---|");
for (const r of runs) {
  const req = s3(r.target) ? String(r.requests) : "–";
  const perGiB = s3(r.target) ? (r.requests / gib).toFixed(0) : "–";
  const updown = s3(r.target) ? `${mb(r.up)} / ${mb(r.down)}` : "–";
  out.push(`| ${label(r.target)} | ${r.name} | ${r.wall.toFixed(1)} | ${(bytes / 1e6 / r.wall).toFixed(0)} | ${r.cpu.toFixed(1)} | ${r.rss.toFixed(0)} | ${req} | ${perGiB} | ${updown} |`);
}
out.push("");
out.push(`Bytes stored (folder repositories, du): restic ${mb(stored.get("restic") ?? 0)} MB, cairn pipeline ${mb(stored.get("pipeline") ?? 0)} MB, cairn fused ${mb(stored.get("fused") ?? 0)} MB, for ${mb(bytes)} MB of data.`);
out.push("");
out.push("S3 requests by method:");
out.push("");
for (const r of runs.filter((r) => s3(r.target))) out.push(`- ${r.name}${r.target === "far" ? " (far)" : ""}: ${Object.entries(r.byMethod).map(([m, n]) => `${m} ${n}`).join(", ")}`);
out.push("");
if (stages.length) {
  out.push("CPU seconds of each pipeline stage (its own process, timed with /usr/bin/time inside the pipeline), and its peak RSS:");
  out.push("");
  out.push("| target | run | stages: CPU s (peak RSS MiB) |");
  out.push("|---|---|---|");
  for (const r of runs.filter((r) => r.name.startsWith("pipeline"))) {
    const mine = stages.filter((s) => s.run === r.name && s.target === r.target);
    if (mine.length === 0) continue;
    out.push(`| ${label(r.target)} | ${r.name} | ${mine.map((s) => `${s.stage} ${s.cpu.toFixed(1)} (${s.rss.toFixed(0)})`).join(" · ")} |`);
  }
  out.push("");
}
out.push("## Goals (speed = restic's wall time / cairn's, same target, same run)");
out.push("");
out.push("On a machine shared with other work, wall times depend on what else ran at that moment;");
out.push("the CPU columns (restic's CPU seconds / cairn's) say how the work itself compares.");
out.push("");
out.push("| goal | folder | RGW | met | folder, by CPU | RGW, by CPU | RGW far |");
out.push("|---|---|---|---|---|---|---|");
const goals: [string, string, string, number][] = [
  ["fused backup ≥ 2×", "fused backup", "restic backup", 2],
  ["pipeline backup ≥ 1.25×", "pipeline backup", "restic backup", 1.25],
  ["fused restore ≥ 1.25×", "fused restore", "restic restore", 1.25],
  ["pipeline restore ≥ 0.75×", "pipeline restore", "restic restore", 0.75],
];
for (const [goal, ours, theirs, want] of goals) {
  const ratio = (t: string) => find(theirs, t).wall / find(ours, t).wall;
  const cpu = (t: string) => find(theirs, t).cpu / find(ours, t).cpu;
  const [f, s] = [ratio("folder"), ratio("s3")];
  const far = runs.some((r) => r.target === "far" && r.name === ours) ? `${ratio("far").toFixed(2)}×` : "–";
  out.push(`| ${goal} | ${f.toFixed(2)}× | ${s.toFixed(2)}× | ${f >= want && s >= want ? "yes" : "no"} | ${cpu("folder").toFixed(2)}× | ${cpu("s3").toFixed(2)}× | ${far} |`);
}
const worst = Math.max(...runs.filter((r) => s3(r.target) && !r.name.startsWith("restic")).map((r) => r.requests / gib));
out.push(`| ≤ 80 requests per GiB (cairn, RGW) | | ${worst.toFixed(0)} (most of any cairn run) | ${worst <= 80 ? "yes" : "no"} | | | |`);
out.push("");
// The profile notes (written by hand from profiles, dated) follow the numbers of this run.
// Then the earlier runs against one another (history.md, newest first, also by hand), so that a
// new run does not lose them.
for (const name of ["./analysis.md", "./history.md"]) {
  const notes = new URL(name, import.meta.url);
  if (existsSync(notes)) out.push(readFileSync(notes, "utf8"));
}
process.stdout.write(out.join("\n"));
