#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Brings a fresh Debian 12 checkout to the point where it builds: host packages (as root) and npm
# dependencies from the lock file. Cheap when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/host-packages.sh
bash tools/host-kvm.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund
fi
