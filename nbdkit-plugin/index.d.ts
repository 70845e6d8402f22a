// SPDX-License-Identifier: GPL-3.0-or-later
/** Absolute path of nbdkit-virtnbdbackup-plugin.so; throws (code ERR_NBDKIT_PLUGIN_NOT_BUILT) when it is not built. */
export function pluginPath(): string;
