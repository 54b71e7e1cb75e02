#!/usr/bin/env bash
# The test suite: starts Ceph RGW on 127.0.0.1, runs vitest, stops RGW, and prints
# "N passed, N failed" from vitest's JSON report as its last line.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p test-results
started=
if [ -z "${CAIRN_S3_ENDPOINT:-}" ] && [ -x scripts/s3/ceph-start.sh ] && command -v radosgw >/dev/null; then
  if scripts/s3/ceph-start.sh >test-results/ceph-start.log 2>&1; then
    started=1
    export CAIRN_S3_ENDPOINT=http://127.0.0.1:${RGW_PORT:-7480}
    export AWS_ACCESS_KEY_ID=testaccesskey AWS_SECRET_ACCESS_KEY=testsecretkey AWS_REGION=us-east-1
  else
    echo "could not start Ceph RGW; see test-results/ceph-start.log" >&2
    tail -20 test-results/ceph-start.log >&2
    exit 1
  fi
fi
npx vitest run --reporter=default --reporter=json --outputFile.json=test-results/report.json "$@"
rc=$?
[ -n "$started" ] && scripts/s3/ceph-stop.sh >/dev/null 2>&1
node -e '
  const r = JSON.parse(require("fs").readFileSync("test-results/report.json", "utf8"));
  const skipped = (r.numPendingTests || 0) + (r.numTodoTests || 0);
  // The failed tests by name, one line each, so that a tail of this output names them.
  for (const file of r.testResults || [])
    for (const t of file.assertionResults || [])
      if (t.status === "failed") {
        const why = (t.failureMessages || [""])[0].split("\n")[0].replace(/\x1b\[[0-9;]*m/g, "").slice(0, 160);
        console.log(`FAILED ${file.name.replace(process.cwd() + "/", "")} > ${t.fullName}: ${why}`);
      }
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
' || { echo "0 passed, 1 failed"; exit 1; }
exit $rc
