#!/usr/bin/env bash
# Installs the Debian packages cairn's tests, demo and benchmarks use, if any is missing.
# Needs root (or sudo). Safe to run again: it does nothing when all are present.
set -euo pipefail
need=()
command -v radosgw >/dev/null || need+=(ceph-mon ceph-osd radosgw ceph-common)
command -v curl >/dev/null || need+=(curl)
command -v age >/dev/null || need+=(age)
command -v zstd >/dev/null || need+=(zstd)
command -v restic >/dev/null || need+=(restic)
[ -x /usr/lib/postgresql/15/bin/initdb ] || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v tar >/dev/null || need+=(tar)
[ ${#need[@]} -eq 0 ] && exit 0
SUDO=; [ "$(id -u)" -ne 0 ] && SUDO=sudo
echo "installing Debian packages: ${need[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
