#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Installs the Debian 12 packages the demo and the tests need (and make deb: debhelper, help2man, lintian); does nothing for those already there.
set -euo pipefail
packages=(
    libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients
    qemu-system-x86 qemu-utils
    libnbd-dev libnbd-bin nbdkit nbdkit-plugin-dev pkg-config liblz4-dev libdeflate-dev libxxhash-dev
    cockpit-ws cockpit-bridge cockpit-system
    chromium libxml2-utils time
    virtnbdbackup python3-lz4
    cron rsyslog
    systemd-container debootstrap
    debhelper dpkg-dev build-essential help2man lintian appstream
    clang-format
    fdisk xfsprogs strace
)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "host packages: all present"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "missing Debian packages (run as root to install): ${missing[*]}" >&2
    exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
