// SPDX-License-Identifier: GPL-3.0-or-later
// The answers of start from backup's commands (start-from-backup, list-instant-vms, move-instant-vm,
// discard-instant-vm) as the page reads them, checked field by field like every helper answer
// (src/helper-answer.ts).
import { HelperError, ProgressLines, checkFields, checkList, checkOneOf, checkProgress, isRecord, parseJson } from "./helper-answer";
import type { InstantListAnswer, InstantMovedAnswer, InstantMoveProgress, InstantStartedAnswer, InstantVmSummary } from "../helper/protocol/instant-rules";

export type { InstantListAnswer, InstantMovedAnswer, InstantMoveProgress, InstantStartedAnswer, InstantVmSummary };

const INSTANT_STATES = ["starting", "running", "failed"];

function checkInstantVm(value: unknown, where: string): void {
    checkFields(value, { name: "string", domain: "string", point: "string", startedAt: "number" }, where);
    const record = value as Record<string, unknown>;
    checkOneOf(record, "state", INSTANT_STATES, where);
    checkList(record, "disks", where, (disk, w) => checkFields(disk, { dev: "string", overlay: "string", size: "number" }, w));
}

/** `helper start-from-backup`: the VM, once it runs. */
export function parseInstantStarted(stdout: string): InstantStartedAnswer {
    const answer = parseJson(stdout);
    checkInstantVm(answer, "started");
    return answer as InstantStartedAnswer;
}

/** `helper list-instant-vms`. */
export function parseInstantList(stdout: string): InstantListAnswer {
    const answer = parseJson(stdout);
    if (!isRecord(answer))
        throw new HelperError("unexpected", "instant VMs is not an object");
    checkList(answer, "vms", "instant", (vm, w) => {
        checkInstantVm(vm, w);
        checkFields(vm, { vmState: "string|null", alive: "boolean" }, w);
    });
    return answer as unknown as InstantListAnswer;
}

function checkMoved(value: unknown): InstantMovedAnswer {
    checkFields(value, { event: "string", name: "string" }, "moved");
    checkList(value as Record<string, unknown>, "disks", "moved", (disk, w) => {
        if (typeof disk !== "string")
            throw new HelperError("unexpected", `${w} is not a string`);
    });
    return value as InstantMovedAnswer;
}

/** The stdout of `helper move-instant-vm`: progress disk by disk, the copies last. */
export class MoveOutput extends ProgressLines<InstantMoveProgress, InstantMovedAnswer> {
    constructor(onProgress: (p: InstantMoveProgress) => void) {
        super(onProgress, value => {
            checkFields(value, { dev: "string" }, "progress");
            return checkProgress<InstantMoveProgress>(value);
        }, checkMoved);
    }
}
