#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# On a normal Debian host udev gives /dev/kvm to group kvm (mode 0660). Some containers and CI VMs leave it
# root-only; libvirt then finds KVM "present but unusable" for its qemu user, judges its cached QEMU
# capabilities stale on every call and re-probes QEMU (~50 s each). Restore Debian's default.
set -euo pipefail
[ -c /dev/kvm ] || exit 0
[ "$(id -u)" = 0 ] || exit 0
getent group kvm >/dev/null || exit 0
if [ "$(stat -c %G /dev/kvm)" != kvm ] || [ "$(stat -c %a /dev/kvm)" = 600 ]; then
    chgrp kvm /dev/kvm
    chmod 660 /dev/kvm
    echo "/dev/kvm: group kvm, mode 0660 (Debian's udev default)"
fi
