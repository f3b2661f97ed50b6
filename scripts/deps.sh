#!/usr/bin/env bash
# Installs, only when missing, the host packages Tugboat uses, and the Python packages its tests use into .build-venv.
set -euo pipefail
cd "$(dirname "$0")/.."

# docker-registry: the OCI distribution server the pull tests run on loopback. openssl: the ingress TLS test makes its certificate.
# libjemalloc-dev: the allocator `tug` links (Sources/CJemalloc).
apt_packages=(runc iptables containernetworking-plugins busybox-static etcd-server iproute2 docker-registry openssl libjemalloc-dev)
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

# The tests' Python: a venv of a Python >= 3.12 (helm-sdkpy needs it) found on PATH or among pyenv's versions.
venv=.build-venv
requirements=tests/requirements.txt
python_at_least_312() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; }
find_python() {
  local candidate
  for candidate in python3.13 python3.12 python3; do
    if command -v "$candidate" >/dev/null && python_at_least_312 "$(command -v "$candidate")"; then
      command -v "$candidate"; return 0
    fi
  done
  local root
  root=$( (command -v pyenv >/dev/null && timeout 10 pyenv root) || echo "$HOME/.pyenv")
  for candidate in $(ls -d "$root"/versions/3.1[2-9]* 2>/dev/null | sort -V -r); do
    if python_at_least_312 "$candidate/bin/python3"; then echo "$candidate/bin/python3"; return 0; fi
  done
  return 1
}
if ! [ -x "$venv/bin/python" ] || ! python_at_least_312 "$venv/bin/python"; then
  base=$(find_python) || { echo "deps: no Python >= 3.12 found on PATH or under pyenv; the tests need one" >&2; exit 1; }
  echo "deps: creating $venv with $base"
  rm -rf "$venv"
  timeout 120 "$base" -m venv "$venv"
fi
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$requirements" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "deps: pip installing $requirements into $venv"
  timeout 900 "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements"
  echo "$want" >"$stamp"
fi

command -v swift >/dev/null || { echo "deps: swift toolchain not found on PATH" >&2; exit 1; }
command -v kubectl >/dev/null || { echo "deps: kubectl (v1.32) not found on PATH; it is part of the machine image" >&2; exit 1; }
echo "deps: ok"
