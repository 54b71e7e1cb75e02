#!/usr/bin/env bash
# Stops the cluster scripts/s3/ceph-start.sh started: SIGTERM to each PID recorded in
# $CEPH_DIR/pids (only while that PID still runs the daemon we started), up to 15 s each, then
# SIGKILL. Nothing else is touched. Keeps $CEPH_DIR (logs) until the next start.
DIR=${CEPH_DIR:-/tmp/cairn-ceph}
[ -f "$DIR/pids" ] || { echo "ceph-stop: nothing recorded in $DIR/pids"; exit 0; }
ours() { # pid name: is /proc/pid/cmdline still the daemon we started?
  local want
  case $2 in mon.*) want=ceph-mon ;; osd.*) want=ceph-osd ;; rgw) want=radosgw ;; *) return 1 ;; esac
  { tr '\0' ' ' < "/proc/$1/cmdline"; } 2>/dev/null | grep -q "^$want "
}
tac "$DIR/pids" | while read -r name pid; do ours "$pid" "$name" && kill "$pid"; done
tac "$DIR/pids" | while read -r name pid; do
  for _ in $(seq 1 150); do ours "$pid" "$name" || break; sleep 0.1; done
  if ours "$pid" "$name"; then echo "ceph-stop: $name ($pid) ignored SIGTERM, sending SIGKILL"; kill -9 "$pid"; fi
  echo "stopped $name ($pid)"
done
rm -f "$DIR/pids"
