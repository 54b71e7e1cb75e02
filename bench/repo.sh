#!/usr/bin/env bash
# The repository tools: push (fresh and all-deduplicated), pull --raw, pull -i, and keyless
# replication, on a folder and on Ceph RGW: wall time, MB/s of sealed bytes, requests per GiB,
# peak RSS → docs/benchmarks/repo.md.
# Usage: bash bench/repo.sh   (REPO_BENCH_MIB of mixed data, default 512)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
mib=${REPO_BENCH_MIB:-512}
out=bench/out/repo
rm -rf "$out" && mkdir -p "$out/data" docs/benchmarks
export CAIRN_WRITERS=$out/writers CAIRN_CACHE=$out/cache CAIRN_PASSPHRASE=

started=
if [ -z "${CAIRN_S3_ENDPOINT:-}" ] && command -v radosgw >/dev/null; then
  export CEPH_DIR=${TMPDIR:-/tmp}/cairn-ceph-bench-repo RGW_PORT=${BENCH_RGW_PORT:-7497} MON_PORT=${BENCH_MON_PORT:-40400}
  scripts/s3/ceph-start.sh > /dev/null
  started=1
  export CAIRN_S3_ENDPOINT=http://127.0.0.1:$RGW_PORT AWS_ACCESS_KEY_ID=testaccesskey AWS_SECRET_ACCESS_KEY=testsecretkey AWS_REGION=us-east-1
fi
bucket=cairn-bench-repo-$$
cleanup() {
  [ -n "${CAIRN_S3_ENDPOINT:-}" ] && node -e '
    const { destroyBucket } = await import("@cairn/storage");
    await destroyBucket(process.argv[1], { endpoint: process.env.CAIRN_S3_ENDPOINT }).catch(() => {});
  ' "s3://$bucket" --input-type=module > /dev/null 2>&1 || true
  [ -n "$started" ] && scripts/s3/ceph-stop.sh > /dev/null || true
}
trap cleanup EXIT

# Mixed data: three quarters incompressible, one quarter text-like (compresses ~4:1).
rand=$((mib * 3 / 4)); text=$((mib - rand))
head -c "${rand}M" /dev/urandom > "$out/data/random.bin"
node -e '
  const fs = require("fs"); const n = Number(process.argv[1]) << 20; const words = ["alpha","beta","gamma","delta","epsilon","zeta","eta","theta"];
  const fd = fs.openSync(process.argv[2], "w"); let left = n, i = 0;
  while (left > 0) { let s = ""; while (s.length < 65536) s += words[(i * 2654435761 >>> 13) % 8] + (i++ % 97) + (i % 13 ? " " : "\n"); const b = Buffer.from(s).subarray(0, Math.min(left, 65536)); fs.writeSync(fd, b); left -= b.length; }
' "$text" "$out/data/text.txt"

cairn init "file://$PWD/$out/keys-repo" --owner-key "$out/owner.key" --writer-key "$out/writer.key" 2> /dev/null
cairn snapshot "$out/data" | cairn chunk -k "$out/writer.key" | cairn seal -k "$out/writer.key" > "$out/sealed.stream"
sealed=$(stat -c %s "$out/sealed.stream")

# measure LABEL CMD…: appends "label wall_s rss_kib" to $out/times
measure() {
  local label=$1; shift
  /usr/bin/time -f "%e %M %U %S" -o "$out/time.tmp" bash -c "set -o pipefail; $*"
  echo "$label $(cat "$out/time.tmp")" >> "$out/times"
}

targets=("file://$PWD/$out/folder")
[ -n "${CAIRN_S3_ENDPOINT:-}" ] && { node --input-type=module -e '
    const { createBucket } = await import("@cairn/storage");
    await createBucket(process.argv[1], {}, { endpoint: process.env.CAIRN_S3_ENDPOINT });
  ' "s3://$bucket"; targets+=("s3://$bucket/repo"); }

: > "$out/times"
rows=""
for t in "${targets[@]}"; do
  kind=folder; [[ $t == s3://* ]] && kind=RGW
  cairn init "$t" --writer-key "$out/writer.key" 2> /dev/null
  cairn init "$t-mirror" --writer-key "$out/writer.key" 2> /dev/null
  rm -rf "$CAIRN_CACHE"
  measure "$kind push" "cairn push $t --json < $out/sealed.stream > $out/push1.json"
  measure "$kind push-again" "cairn push $t --json < $out/sealed.stream > $out/push2.json"
  measure "$kind pull-raw" "cairn pull --raw $t latest --stats > /dev/null 2> $out/pull-raw.json"
  measure "$kind pull-i" "cairn pull -i $out/owner.key $t latest --stats > /dev/null 2> $out/pull-i.json"
  for f in pull-raw pull-i; do
    node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(process.argv[2], r.requests);' "$out/$f.json" "$kind-$f" >> "$out/requests"
  done
  measure "$kind replicate" "cairn pull --raw $t latest | cairn push $t-mirror --json > $out/push3.json"
  for f in push1 push2 push3; do
    node -e '
      const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).targets[0];
      console.log(process.argv[2], r.requests, r.newObjects, r.reusedObjects, r.bytesOut);
    ' "$out/$f.json" "$kind-$f" >> "$out/requests"
  done
done

node - "$out" "$sealed" "$mib" > docs/benchmarks/repo.md.tmp <<'JS'
const fs = require("fs");
const [out, sealed, mib] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const times = fs.readFileSync(`${out}/times`, "utf8").trim().split("\n").map((l) => l.split(" "));
const reqs = Object.fromEntries(fs.readFileSync(`${out}/requests`, "utf8").trim().split("\n").map((l) => { const [k, ...v] = l.split(" "); return [k, v.map(Number)]; }));
const gib = sealed / 2 ** 30;
const lines = [
  "# Repository: push, pull, replication",
  "",
  `Command: \`bash bench/repo.sh\` (REPO_BENCH_MIB=${mib}). ${mib} MiB of mixed data (¾ random, ¼ text) → ` +
    `snapshot | chunk | seal → a ${(sealed / 2 ** 20).toFixed(0)} MiB sealed stream in a file; each row times one tool over it ` +
    "(push/pull run alone, so this is the repository cost, not the pipeline's). Default pack size 32 MiB, --jobs 4. " +
    "Peak RSS is of the slowest process in the row (for pipes: /usr/bin/time of bash, i.e. the largest child). " +
    `Measured ${new Date().toISOString().slice(0, 16)}Z on a 2-core machine, 1-minute load average ${require("os").loadavg()[0].toFixed(1)} at the end: ` +
    "when other work runs, wall times and MB/s are upper bounds and CPU seconds are the figure to compare.",
  "",
  "| store | operation | wall s | CPU s (user+sys) | MB/s (sealed, wall) | peak RSS MiB | requests | requests/GiB |",
  "|---|---|---|---|---|---|---|---|",
];
const key = { "push": "push1", "push-again": "push2", "replicate": "push3", "pull-raw": "pull-raw", "pull-i": "pull-i" };
for (const [kind, op, wall, rss, user, sys] of times) {
  const r = reqs[`${kind}-${key[op]}`];
  const mbs = (sealed / 1e6 / Number(wall)).toFixed(0);
  const cpu = (Number(user) + Number(sys)).toFixed(2);
  lines.push(`| ${kind} | ${op} | ${Number(wall).toFixed(2)} | ${cpu} | ${mbs} | ${(Number(rss) / 1024).toFixed(0)} | ${r ? r[0] : "–"} | ${r ? (r[0] / gib).toFixed(0) : "–"} |`);
}
lines.push(
  "",
  "Requests are counted by the tools themselves (`push --json`, `pull --stats`): LIST pages, GETs of config, snapshots, index files and pack ranges, " +
    "PUTs of packs, index files and the snapshot. replicate counts the receiving push only (its pull is the pull-raw row). " +
    "CPU s is user+sys of the whole row (for pipes: both processes).",
);
console.log(lines.join("\n"));
JS
mv docs/benchmarks/repo.md.tmp docs/benchmarks/repo.md
cat docs/benchmarks/repo.md
