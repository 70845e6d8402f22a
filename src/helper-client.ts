// The one place where the UI runs the privileged helper. Each call is one `helper.js <command>`
// run as root through Cockpit's privileged bridge; the helper answers with JSON on stdout, or
// exits non-zero with one human-readable line on stderr.
import cockpit from "./lib/cockpit";
import { helperFailure, parseVmList } from "./helper-answer";
import { helperArgv } from "./helper-locate";
import type { ListVmsAnswer } from "./vm-types";

export { HelperError } from "./helper-answer";
export type { HelperErrorKind } from "./helper-answer";

/** Runs the helper as root and resolves with its stdout; rejects with a HelperError. */
function runHelper(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
        cockpit.spawn(helperArgv(args), { superuser: "require", err: "message" })
                .then(resolve, (failure: unknown) => reject(helperFailure(failure)));
    });
}

/** The host's libvirt VMs with their disks (`helper list-vms`). */
export async function listVms(): Promise<ListVmsAnswer> {
    return parseVmList(await runHelper(["list-vms"]));
}
