#!/usr/bin/env bash
# System packages nnuc's tests and fast paths use (Debian). Idempotent; needs root (CI runs as root).
# Without root it only reports what is missing: nnuc still works, the optional fast paths fall back loudly.
set -euo pipefail
PKGS=(libdnnl-dev)   # oneDNN: the native fast CPU backend (native/onednn, built by npm ci)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -eq 0 ]; then echo "system packages present: ${PKGS[*]:-none needed}"; exit 0; fi
if [ "$(id -u)" -ne 0 ]; then echo "missing system packages (install as root): ${missing[*]}"; exit 0; fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
