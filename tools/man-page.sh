#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Writes the man page of one built CLI from its --help and --version (help2man), under the name it is
# installed as. Usage: man-page.sh virtnbdbackup|virtnbdrestore|virtnbdmap|virtnbdprune OUT.1
set -euo pipefail
tool=$1 out=$2
cd "$(dirname "$0")/.."
case "$tool" in
    virtnbdbackup) summary="back up libvirt/QEMU virtual machines in virtnbdbackup's format" other=virtnbdrestore ;;
    virtnbdrestore) summary="restore, verify or dump virtnbdbackup backups" other=virtnbdbackup ;;
    virtnbdmap) summary="serve a restore point of virtnbdbackup backups read-only over NBD" other=virtnbdrestore ;;
    virtnbdprune) summary="remove old chains and merge away old restore points of virtnbdbackup backups" other=virtnbdbackup python=virtnbdbackup ;;
    *) echo "man-page.sh: no such CLI: $tool" >&2; exit 1 ;;
esac
command -v help2man >/dev/null || { echo "man-page.sh: help2man is not installed (apt install help2man)" >&2; exit 1; }
# The Python tool of the same name, if there is one (there is no Python virtnbdprune).
python=${python:-$tool}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# help2man names the page after the program it runs: the installed name, a link to the built CLI.
ln -s "$PWD/dist/helper/$tool.js" "$tmp/cockpit-$tool"
cat >"$tmp/include" <<INCLUDE
[SEE ALSO]
.BR cockpit-$other (1),
.BR $python (1)
(the Python tool, whose folder layout and stream format this one reads and writes).
The Cockpit page "Virtual machine backups" runs the same code.
INCLUDE
# Fixed date: the page of one version is the same whenever it is built.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)} \
    help2man --no-info --no-discard-stderr --name="$summary" --include="$tmp/include" \
    --output="$tmp/page.1" "$tmp/cockpit-$tool"
# The CLI's usage line calls itself by its upstream name; the page is for the installed one.
sed -e "s/^\\.B $tool\$/.B cockpit-$tool/" "$tmp/page.1" >"$out.tmp"
mv "$out.tmp" "$out"
