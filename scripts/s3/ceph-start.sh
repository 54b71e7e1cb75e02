#!/usr/bin/env bash
# A one-node Ceph RADOS Gateway on 127.0.0.1 for cairn's tests and benchmarks (Debian ceph 16.2
# "pacific": ceph-mon, ceph-osd, radosgw, ceph-common). One mon, one memstore OSD, one radosgw;
# no cephx, no mgr, no systemd. Takes a few seconds. Stop it with scripts/s3/ceph-stop.sh, which
# kills only the PIDs recorded here.
#
# Env knobs (defaults in brackets):
#   CEPH_DIR [/tmp/cairn-ceph]  everything: config, mon/osd data, logs, the pids file
#   RGW_PORT [7480]             the S3 endpoint is http://127.0.0.1:$RGW_PORT
#   MON_PORT [40000]            the monitor (msgr2; msgr1 is MON_PORT+1)
#   STORE [memstore]            memstore keeps objects in RAM; bluestore uses a sparse file
#   MEMSTORE_BYTES [8 GiB]  BLUESTORE_SIZE [20 GiB]
#   ACCESS_KEY [testaccesskey]  SECRET_KEY [testsecretkey]   the S3 user "test"
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=${CEPH_DIR:-/tmp/cairn-ceph}
RGW_PORT=${RGW_PORT:-7480}; MON_PORT=${MON_PORT:-40000}; STORE=${STORE:-memstore}
MEMSTORE_BYTES=${MEMSTORE_BYTES:-8589934592}; BLUESTORE_SIZE=${BLUESTORE_SIZE:-21474836480}
ACCESS_KEY=${ACCESS_KEY:-testaccesskey}; SECRET_KEY=${SECRET_KEY:-testsecretkey}
export CEPH_DIR=$DIR

for tool in ceph-mon ceph-osd radosgw ceph monmaptool ceph-authtool radosgw-admin curl; do
  command -v "$tool" >/dev/null || { echo "ceph-start: $tool not found (run scripts/install-system.sh)" >&2; exit 1; }
done

# A pids file left by a run that was killed without ceph-stop.sh: if none of its daemons is alive,
# it is stale and we start over; if one is, refuse (two clusters cannot share a directory).
if [ -s "$DIR/pids" ]; then
  alive=
  while read -r _ pid; do
    # a zombie or a reused PID has another (or no) command line
    { tr '\0' ' ' < "/proc/$pid/cmdline"; } 2>/dev/null | grep -qE '^(ceph-mon|ceph-osd|radosgw) ' && alive=1
  done < "$DIR/pids"
  if [ -n "$alive" ]; then
    echo "ceph-start: a cluster from $DIR is still running; run scripts/s3/ceph-stop.sh first" >&2
    exit 1
  fi
fi
for port in "$RGW_PORT" "$MON_PORT" $((MON_PORT + 1)); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "ceph-start: port $port on 127.0.0.1 is already in use (set RGW_PORT / MON_PORT)" >&2
    exit 1
  fi
done

rm -rf "$DIR"; mkdir -p "$DIR"/{mon.a,osd.0,out,run,crash,rgw}
CONF=$DIR/ceph.conf; export CEPH_CONF=$CONF
FSID=$(cat /proc/sys/kernel/random/uuid)
T0=$(date +%s%N)
ts() { local ms=$(( ($(date +%s%N) - T0) / 1000000 )); printf '[%3d.%03ds] %s\n' $((ms / 1000)) $((ms % 1000)) "$*"; }
# Starts a daemon in the foreground (-f) in the background and records "name pid" for ceph-stop.sh.
daemon() {
  local name=$1; shift
  nohup "$@" > "$DIR/out/$name.stdout" 2>&1 &
  echo "$name $!" >> "$DIR/pids"
}
trap 'rc=$?; if [ $rc -ne 0 ]; then echo "ceph-start: failed (exit $rc), stopping what was started" >&2; "$HERE/ceph-stop.sh" >&2; fi' EXIT

MON_ADDR="[v2:127.0.0.1:$MON_PORT,v1:127.0.0.1:$((MON_PORT + 1))]"
cat > "$CONF" <<CONF
[global]
fsid = $FSID
mon host = $MON_ADDR
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = false
keyring = $DIR/keyring
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
pid file = $DIR/run/\$name.pid
log file = $DIR/out/\$name.log
crash dir = $DIR/crash
log to stderr = false
err to stderr = true
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
mon data avail warn = 2
mon data avail crit = 1
osd crush chooseleaf type = 0
[mon]
mon data = $DIR/mon.\$id
mon cluster log file = $DIR/out/cluster.log
# commit map changes (pool creation) at once instead of batching them for a second
paxos propose interval = 0.05
paxos min wait = 0.01
[osd]
osd data = $DIR/osd.\$id
keyring = $DIR/osd.\$id/keyring
osd objectstore = $STORE
memstore device bytes = $MEMSTORE_BYTES
bluestore block create = true
bluestore block size = $BLUESTORE_SIZE
bluestore fsck on mount = false
bluestore fsck on mkfs = false
osd memory target = 2147483648
# on SIGTERM, do not wait 5 s for the (also stopping) monitor to acknowledge
osd mon shutdown timeout = 0.5
[client.rgw]
# radosgw defaults to ms_mon_client_mode=secure, impossible without cephx
ms mon client mode = crc secure
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw data = $DIR/rgw
CONF

# --- monitor ---
monmaptool --create --clobber --fsid "$FSID" --addv a "$MON_ADDR" "$DIR/monmap" > /dev/null
ceph-authtool --create-keyring --gen-key --name=mon. "$DIR/keyring" --cap mon 'allow *' > /dev/null
ceph-authtool --gen-key --name=client.admin --cap mon 'allow *' --cap osd 'allow *' --cap mds 'allow *' --cap mgr 'allow *' "$DIR/keyring" > /dev/null
ceph-mon --mkfs -i a --monmap "$DIR/monmap" --keyring "$DIR/keyring" > "$DIR/out/mon.mkfs.stdout" 2>&1
daemon mon.a ceph-mon -i a -f
ceph --connect-timeout 60 mon stat > /dev/null
ts "mon up"

# --- osd ---
OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
ID=$(ceph osd new "$OSD_UUID")
ceph-osd -i "$ID" --mkfs --osd-uuid "$OSD_UUID" > "$DIR/out/osd.mkfs.stdout" 2>&1
daemon "osd.$ID" ceph-osd -i "$ID" -f
for i in $(seq 1 300); do
  ceph osd dump 2>/dev/null | grep -q "^osd.$ID up" && break
  [ "$i" = 300 ] && { echo "ceph-start: osd.$ID not up after 60 s" >&2; exit 1; }
  sleep 0.2
done
ts "osd.$ID up ($STORE)"

# radosgw creates its pools itself, ~2 s each and some lazily on the first request; one ceph CLI
# session creates them all up front.
for p in .rgw.root default.rgw.log default.rgw.control default.rgw.meta default.rgw.buckets.index default.rgw.buckets.data default.rgw.buckets.non-ec; do
  echo "osd pool create $p 8 8"; echo "osd pool application enable $p rgw"
done | ceph > /dev/null 2>&1
ts "rgw pools created"

# --- radosgw ---
daemon rgw radosgw -n client.rgw -f
RGW_PID=$(awk '$1=="rgw"{print $2}' "$DIR/pids")
for i in $(seq 1 600); do
  curl -s -o /dev/null "http://127.0.0.1:$RGW_PORT/" && break
  [ "$i" = 600 ] && { echo "ceph-start: radosgw not listening after 120 s" >&2; tail -5 "$DIR/out/client.rgw.log" >&2; exit 1; }
  kill -0 "$RGW_PID" 2>/dev/null || { echo "ceph-start: radosgw died" >&2; tail -20 "$DIR/out/client.rgw.log" >&2; exit 1; }
  sleep 0.1
done
ts "radosgw listening on 127.0.0.1:$RGW_PORT"
radosgw-admin user create --uid=test --display-name=test --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" > "$DIR/out/user.json"
ts "S3 user test ready"
echo "endpoint=http://127.0.0.1:$RGW_PORT access=$ACCESS_KEY secret=$SECRET_KEY dir=$DIR pids: $(tr '\n' ' ' < "$DIR/pids")"
