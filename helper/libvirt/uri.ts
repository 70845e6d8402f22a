// SPDX-License-Identifier: GPL-3.0-or-later
// Which libvirt connection URIs the root helper passes to virsh. A URI is more than an address: the `ext`
// transport runs the command its `command=` parameter names, `socket=` connects to any socket (a fake
// libvirtd run by a local user answers with domain XML naming files root then reads, copies and writes),
// `qemu:///embed?root=` starts an embedded driver keeping its state in a folder of the URI's choosing, and
// the ssh transports take `netcat=`, `keyfile=`, `known_hosts=` and the like. So:
// - the page's helper accepts only the local system connection (qemu:///system, qemu+unix:///system),
//   with no parameters: the page itself never sends another;
// - the CLIs accept any driver and host but refuse the `ext` transport, the embedded driver and every
//   parameter except the harmless `mode`, `no_verify` and `no_tty`.
// Parameter names are compared as libvirt reads them: percent-decoded, any case, split at & and ;.

export const LOCAL_URIS = ["qemu:///system", "qemu+unix:///system"];
const HARMLESS_PARAMETERS = new Set(["mode", "no_verify", "no_tty"]);

/** Why the CLIs refuse `uri`, or null when they accept it. */
export function uriProblem(uri: string): string | null {
    if (uri.length > 1024 || /[\s\u0000-\u001f\u007f]/.test(uri))
        return "not a libvirt connection URI (e.g. qemu:///system)";
    const m = /^([A-Za-z][A-Za-z0-9.-]*)(?:\+([A-Za-z0-9.-]+))?:\/\/([^/?#]*)(\/[^?#]*)?(?:\?([^#]*))?$/.exec(uri);
    if (!m)
        return "not a libvirt connection URI (e.g. qemu:///system)";
    const [, , transport, , uriPath, query] = m;
    if (transport?.toLowerCase() === "ext")
        return "the ext transport runs a command: not accepted";
    if (/^\/+embed\/*$/i.test(uriPath ?? ""))
        return "the embedded driver (/embed) is not accepted";
    for (const pair of (query ?? "").split(/[&;]/).filter(Boolean)) {
        let name: string;
        try {
            name = decodeURIComponent(pair.split("=")[0]!.replace(/\+/g, " ")).toLowerCase();
        } catch {
            return `the URI parameter ${pair} is not valid`;
        }
        if (!HARMLESS_PARAMETERS.has(name))
            return `the URI parameter ${name} is not accepted (it names a command, socket or file for libvirt to use; accepted: ${[...HARMLESS_PARAMETERS].join(", ")})`;
    }
    return null;
}

/** Why the page's helper refuses `uri`, or null for the local system connection. */
export function localUriProblem(uri: string): string | null {
    return LOCAL_URIS.includes(uri) ? null : `only the local system connection (${LOCAL_URIS.join(" or ")}) is accepted`;
}
