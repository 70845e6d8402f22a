// Validation of command-line values. The helper runs as root on behalf of a web page: every value is
// checked before it reaches a child process, even though child processes only ever get argv arrays.
import { InvalidArgumentError } from "commander";
import { localUriProblem, uriProblem } from "../../libvirt/uri.ts";

/** -U of the CLIs: a libvirt connection URI that runs nothing and connects nowhere of its choosing (libvirt/uri.ts). */
export function parseUri(value: string): string {
    const problem = uriProblem(value);
    if (problem)
        throw new InvalidArgumentError(problem);
    return value;
}

/** -U of the page's helper: the local system connection only. */
export function parseLocalUri(value: string): string {
    const problem = localUriProblem(value);
    if (problem)
        throw new InvalidArgumentError(problem);
    return value;
}
