// SPDX-License-Identifier: GPL-3.0-or-later
// A consolidation that dies by SIGKILL at a chosen moment, for the crash tests:
//   node --import tsx test/lib/consolidate-child.ts <chain folder> <point> <moment> [<nth> [<from>]]
// moment: "copy" (half way through the first new file), or a step of helper/consolidate/journal.ts
// (written, verified, committed, moved, removed; the nth time it is reached); "recover" only finishes or
// undoes what a dead one left, as the next run does.
import { consolidateChain } from "../../helper/consolidate/consolidate.ts";
import { recoverConsolidation } from "../../helper/consolidate/journal.ts";

const [dir, point, moment, nthArg, from] = process.argv.slice(2);
const nth = Number(nthArg ?? "1");
const die = () => process.kill(process.pid, "SIGKILL");

async function main() {
    if (moment === "recover") {
        process.stdout.write(`${recoverConsolidation(dir!) ?? "nothing"}\n`);
        return;
    }
    let seen = 0;
    await consolidateChain(dir!, point!, {
        dryRun: false,
        from,
        onProgress: (done, total) => { if (moment === "copy" && done >= total / 2) die(); },
        onStep: step => { if (step === moment && ++seen === nth) die(); },
    });
    process.stdout.write("finished\n");
}

main().catch(err => {
    process.stderr.write(`${err}\n`);
    process.exitCode = 1;
});
