#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Builds the Debian 12 root file system the systemd-nspawn tests boot (once: the result is cached).
# Usage: systemd-rootfs.sh DIR  — DIR is made complete or not at all (built beside it, then renamed).
set -euo pipefail
dir=$1
[ -d "$dir" ] && exit 0
# The mirror of the host's own apt sources: the machine may reach no other.
mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
mirror=${mirror:-http://deb.debian.org/debian}
tmp="$dir.tmp.$$"
rm -rf "$tmp"
trap 'rm -rf "$tmp" "$tmp.log"' EXIT
# What the helper needs at run time (the Debian package's Depends) plus systemd itself.
debootstrap --variant=minbase \
    --include=systemd,systemd-sysv,dbus,nodejs,libnbd0,liblz4-1,libdeflate0,libvirt-clients,qemu-utils,nbdkit,procps \
    bookworm "$tmp" "$mirror" >"$tmp.log" 2>&1 || { tail -20 "$tmp.log" >&2; exit 1; }
rm -f "$tmp.log"
# No getty or network waits at boot; the container has no network of its own.
rm -f "$tmp"/etc/systemd/system/getty.target.wants/* 2>/dev/null || true
mv "$tmp" "$dir"
trap - EXIT
