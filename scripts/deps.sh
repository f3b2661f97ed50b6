#!/usr/bin/env bash
# Installs, only when missing, the host packages Tugboat uses and the Python packages its tests use.
set -euo pipefail

# docker-registry: the OCI distribution server the pull tests run on loopback. openssl: the ingress TLS test makes its certificate.
apt_packages=(runc iptables containernetworking-plugins busybox-static etcd-server iproute2 docker-registry openssl)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  timeout 600 apt-get update -qq
  timeout 900 apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

py_missing=()
python3 -c 'import kubernetes, sys; sys.exit(0 if kubernetes.__version__ == "37.0.2" else 1)' 2>/dev/null || py_missing+=("kubernetes==37.0.2")
python3 -c 'import pytest' 2>/dev/null || py_missing+=("pytest")
# aiohttp: the flow-control test's flood of concurrent requests. schemathesis: API fuzzing against the served OpenAPI.
python3 -c 'import aiohttp, sys; sys.exit(0 if aiohttp.__version__ == "3.14.5" else 1)' 2>/dev/null || py_missing+=("aiohttp==3.14.5")
python3 -c 'from importlib.metadata import version; import sys; sys.exit(0 if version("schemathesis") == "4.32.5" else 1)' 2>/dev/null || py_missing+=("schemathesis==4.32.5")
if ((${#py_missing[@]})); then
  echo "deps: pip installing ${py_missing[*]}"
  timeout 600 python3 -m pip install -q --disable-pip-version-check "${py_missing[@]}"
fi

command -v swift >/dev/null || { echo "deps: swift toolchain not found on PATH" >&2; exit 1; }
command -v kubectl >/dev/null || { echo "deps: kubectl (v1.32) not found on PATH; it is part of the machine image" >&2; exit 1; }
echo "deps: ok"
