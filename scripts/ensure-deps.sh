#!/usr/bin/env bash
# Installs what wren's demo, tests and benchmark need on a fresh Debian machine, and nothing
# that is already there: Debian packages for the commands we run (iproute2's ip and bridge,
# nftables' nft for natOutgoing, ping, etcd, BIRD for the benchmark's comparison, openssl for
# the TLS tests' certificates) and the npm packages from the lock file.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v bridge >/dev/null 2>&1 || need+=(iproute2)
command -v nft >/dev/null 2>&1 || need+=(nftables)
command -v ping >/dev/null 2>&1 || need+=(iputils-ping)
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || need+=(etcd-client)
command -v bird >/dev/null 2>&1 || need+=(bird2)
command -v openssl >/dev/null 2>&1 || need+=(openssl)

if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "wren: missing Debian packages (${need[*]}); run as root or install them: apt-get install ${need[*]}" >&2
    exit 1
  fi
  echo "wren: installing Debian packages: ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  # Debian starts etcd and bird as services on install; wren starts its own, on its own ports.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# npm ci only when node_modules is missing or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "wren: installing npm packages (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi
