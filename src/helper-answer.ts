// Pure half of the helper client: checks what the helper printed and turns spawn failures into
// typed errors. Kept free of cockpit.js so that it can be unit-tested under Node.
import type { DiskSummary, DomainSummary, ListVmsAnswer } from "./vm-types";

export type HelperErrorKind =
    /** The user may not run things as root (spawn with superuser "require" was refused). */
    | "not-admin"
    /** `node` is not installed on the host (the bridge could not find the program). */
    | "node-missing"
    /** The helper ran and failed; `detail` is its one-line explanation from stderr. */
    | "failed"
    /** The helper printed something that is not the expected answer. */
    | "unexpected";

export class HelperError extends Error {
    readonly kind: HelperErrorKind;
    /** Text to show under the error's title: the helper's stderr or what was wrong with the answer. */
    readonly detail: string;

    constructor(kind: HelperErrorKind, detail: string) {
        super(`${kind}: ${detail}`);
        this.name = "HelperError";
        this.kind = kind;
        this.detail = detail;
    }
}

type Shape = "string" | "number" | "boolean" | "string|null" | "number|null";

function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

function fits(value: unknown, shape: Shape): boolean {
    if (shape.endsWith("|null") && value === null)
        return true;
    const type = shape.replace("|null", "");
    if (type === "number")
        return typeof value === "number" && Number.isFinite(value);
    return typeof value === type;
}

/** Throws "unexpected" naming the first field of `record` that does not have its shape. */
function checkFields(record: unknown, fields: Record<string, Shape>, where: string): void {
    if (!isRecord(record))
        throw new HelperError("unexpected", `${where} is not an object`);
    for (const [key, shape] of Object.entries(fields)) {
        if (!fits(record[key], shape))
            throw new HelperError("unexpected", `${where}.${key} is not ${shape}`);
    }
}

const DISK_FIELDS: Record<keyof DiskSummary, Shape> = {
    target: "string",
    device: "string",
    format: "string|null",
    path: "string|null",
    capacity: "number|null",
    allocation: "number|null",
};

const VM_FIELDS: Record<Exclude<keyof DomainSummary, "disks">, Shape> = {
    name: "string",
    uuid: "string",
    // Any string: a state this UI does not know yet is shown as it is, not treated as an error.
    state: "string",
    persistent: "boolean",
};

function parseJson(stdout: string): unknown {
    try {
        return JSON.parse(stdout);
    } catch {
        const shown = stdout.trim().slice(0, 200);
        throw new HelperError("unexpected", shown ? `not JSON: ${shown}` : "no output");
    }
}

/** Parses and checks the stdout of `helper list-vms`. Extra fields are allowed (newer helpers). */
export function parseVmList(stdout: string): ListVmsAnswer {
    const answer = parseJson(stdout);
    if (!isRecord(answer) || !Array.isArray(answer.vms))
        throw new HelperError("unexpected", "answer has no \"vms\" list");
    answer.vms.forEach((vm: unknown, i: number) => {
        const where = `vms[${i}]`;
        checkFields(vm, VM_FIELDS, where);
        const disks = (vm as Record<string, unknown>).disks;
        if (!Array.isArray(disks))
            throw new HelperError("unexpected", `${where}.disks is not a list`);
        disks.forEach((disk: unknown, j: number) => checkFields(disk, DISK_FIELDS, `${where}.disks[${j}]`));
    });
    return answer as unknown as ListVmsAnswer;
}

/**
 * Maps what a failed cockpit.spawn() rejected with (287: a plain object with problem,
 * exit_status, exit_signal and message; message is stderr when spawned with err: "message").
 */
export function helperFailure(failure: unknown): HelperError {
    if (failure instanceof HelperError)
        return failure;
    if (!isRecord(failure))
        return new HelperError("unexpected", String(failure));
    const problem = typeof failure.problem === "string" ? failure.problem : null;
    const message = typeof failure.message === "string" ? failure.message.trim() : "";
    if (problem === "access-denied")
        return new HelperError("not-admin", message);
    if (problem === "not-found")
        return new HelperError("node-missing", message);
    if (problem)
        return new HelperError("failed", message || problem);
    if (typeof failure.exit_signal === "number")
        return new HelperError("failed", message || `helper killed by signal ${failure.exit_signal}`);
    if (typeof failure.exit_status === "number")
        return new HelperError("failed", message || `helper exited with code ${failure.exit_status}`);
    return new HelperError("failed", message || "unknown failure");
}
