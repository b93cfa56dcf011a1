#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian 12 machine with only Node and npm: system packages,
# npm dependencies, bpffs/tracefs mounts, build. Each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'setup: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# 1. System packages: the eBPF toolchain, network tools, the real MQTT broker, the benchmark peers and
#    the browser the console test drives (from apt: no tool ever downloads a browser), and promtool (prometheus)
#    that the metrics tests lint both /metrics endpoints with; PostgreSQL 15 and Ceph's monitor, OSD and radosgw for the
#    shared-storage tests (each starts a private instance; the Ceph packages add ~40 s to a first set-up); Scapy, the
#    independent dissector the APN6 test decodes captures with, and ethtool (veth checksum offload off in that test).
packages=(clang llvm libbpf-dev libbpf1 bpftool mosquitto iproute2 iputils-ping util-linux
  make gcc libc6-dev pkg-config nginx-light chromium tcpdump openssl prometheus python3-scapy ethtool
  postgresql-15 ceph-mon ceph-osd radosgw ceph-common)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 2. Kernel file systems the loader and the agent use.
# bpffs mounts 1777 by default, which lets any local user make or empty directories next to the agent's pins;
# an existing mount is left as it is (remounting would hide what is pinned there), the agent checks its own pins.
if ! mountpoint -q /sys/fs/bpf 2>/dev/null; then
  log "mounting bpffs at /sys/fs/bpf (mode 0700)"
  as_root mount -t bpf -o mode=0700 bpffs /sys/fs/bpf
fi
if [ -d /sys/kernel/tracing ] && ! mountpoint -q /sys/kernel/tracing 2>/dev/null; then
  log "mounting tracefs at /sys/kernel/tracing"
  as_root mount -t tracefs tracefs /sys/kernel/tracing || log "tracefs not mountable: tracepoint programs will be refused"
fi

# 3. npm dependencies, reinstalled only when the lockfile changed.
stamp=node_modules/.bpfleet-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --foreground-scripts=false >/dev/null
  echo "$want" >"$stamp"
fi

# 4. Build TypeScript and the bundled eBPF objects.
log "building"
npm run --silent build
npm run --silent build:bpf --if-present
log "ready"
