// Validation of command-line values. The helper runs as root on behalf of a web page: every value is
// checked before it reaches a child process, even though child processes only ever get argv arrays.
import { InvalidArgumentError } from "commander";

/** A libvirt connection URI such as qemu:///system or qemu+unix:///system?socket=/path. */
export function parseUri(value: string): string {
    if (value.length > 1024 || !/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s\u0000-\u001f\u007f]*$/.test(value))
        throw new InvalidArgumentError("not a libvirt connection URI (e.g. qemu:///system)");
    return value;
}
