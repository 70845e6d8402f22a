// SPDX-License-Identifier: GPL-3.0-or-later
"use strict";
// libnbd-node: loads the native binding and gives it a checked, documented JS surface.
// Argument mistakes are caught here so that they surface as TypeError/RangeError with Node's
// usual codes; everything else (protocol, server and state errors) comes from libnbd itself.

const { loadAddon } = require("addon-tools");

const binding = loadAddon(__dirname, "nbd_binding.node", {
    name: "libnbd-node", needs: "libnbd-dev, pkg-config and a C++ compiler", code: "ERR_NBD_NOT_BUILT",
});
const C = binding.constants;

const CmdFlag = Object.freeze({
    FUA: C.CMD_FLAG_FUA,
    NO_HOLE: C.CMD_FLAG_NO_HOLE,
    DF: C.CMD_FLAG_DF,
    REQ_ONE: C.CMD_FLAG_REQ_ONE,
    FAST_ZERO: C.CMD_FLAG_FAST_ZERO,
});

// Flags in block status entries. base:allocation uses HOLE and ZERO; qemu:dirty-bitmap:NAME
// uses bit 0 for "dirty" (same bit as HOLE, hence DIRTY === HOLE).
const STATE_HOLE = C.STATE_HOLE;
const STATE_ZERO = C.STATE_ZERO;
const STATE_DIRTY = 1;
const BlockStatusFlag = Object.freeze({ HOLE: STATE_HOLE, ZERO: STATE_ZERO, DIRTY: STATE_DIRTY });

const CONTEXT_BASE_ALLOCATION = "base:allocation";
function dirtyBitmapContext(bitmapName) {
    if (typeof bitmapName !== "string" || bitmapName === "") {
        throw argTypeError("bitmapName", "a non-empty string", bitmapName);
    }
    return `qemu:dirty-bitmap:${bitmapName}`;
}

const BLOCK_SIZE_KINDS = { minimum: C.SIZE_MINIMUM, preferred: C.SIZE_PREFERRED, maximum: C.SIZE_MAXIMUM };

function describe(value) {
    if (value === null) return "null";
    if (Buffer.isBuffer(value)) return "a Buffer";
    if (Array.isArray(value)) return "an array";
    if (typeof value === "object") return `an instance of ${value.constructor?.name ?? "Object"}`;
    if (typeof value === "string") return `the string ${JSON.stringify(value.slice(0, 40))}`;
    return `${typeof value} ${String(value)}`;
}

function argTypeError(name, expected, value) {
    const error = new TypeError(`libnbd-node: "${name}" must be ${expected}, got ${describe(value)}`);
    error.code = "ERR_INVALID_ARG_TYPE";
    return error;
}

function argRangeError(name, expected, value) {
    const error = new RangeError(`libnbd-node: "${name}" must be ${expected}, got ${String(value)}`);
    error.code = "ERR_OUT_OF_RANGE";
    return error;
}

// Each check returns an Error or undefined, so async methods can reject instead of throwing.
function checkUint(name, value) {
    if (typeof value !== "number") return argTypeError(name, "a number", value);
    if (!Number.isSafeInteger(value) || value < 0) {
        return argRangeError(name, "a non-negative safe integer", value);
    }
    return undefined;
}

function checkFlags(value) {
    if (value === undefined) return undefined;
    const error = checkUint("flags", value);
    if (error) return error;
    if ((value & ~C.CMD_FLAG_MASK) !== 0) return argRangeError("flags", "a combination of CmdFlag bits", value);
    return undefined;
}

function checkBuffer(value) {
    if (!(value instanceof Uint8Array)) return argTypeError("buffer", "a Buffer or Uint8Array", value);
    return undefined;
}

function checkString(name, value) {
    if (typeof value !== "string") return argTypeError(name, "a string", value);
    return undefined;
}

function throwIf(error) {
    if (error) throw error;
}

class Handle {
    #native = new binding.Handle();
    #closed = false;

    /** True once close() was called. */
    get closed() {
        return this.#closed;
    }

    setExportName(name) {
        throwIf(checkString("name", name));
        this.#native.setExportName(name);
    }

    addMetaContext(name) {
        throwIf(checkString("name", name));
        this.#native.addMetaContext(name);
    }

    setHandleName(name) {
        throwIf(checkString("name", name));
        this.#native.setHandleName(name);
    }

    getHandleName() {
        return this.#native.getHandleName();
    }

    setPreadInitialize(request) {
        if (typeof request !== "boolean") throw argTypeError("request", "a boolean", request);
        this.#native.setPreadInitialize(request);
    }

    connectUri(uri) {
        const error = checkString("uri", uri);
        return error ? Promise.reject(error) : this.#native.connectUri(uri);
    }

    connectUnix(socketPath) {
        const error = checkString("socketPath", socketPath);
        return error ? Promise.reject(error) : this.#native.connectUnix(socketPath);
    }

    connectCommand(argv) {
        if (!Array.isArray(argv) || argv.length === 0 || !argv.every(a => typeof a === "string")) {
            return Promise.reject(argTypeError("argv", "a non-empty array of strings", argv));
        }
        return this.#native.connectCommand(argv);
    }

    connectSystemdSocketActivation(argv) {
        if (!Array.isArray(argv) || argv.length === 0 || !argv.every(a => typeof a === "string")) {
            return Promise.reject(argTypeError("argv", "a non-empty array of strings", argv));
        }
        return this.#native.connectSystemdSocketActivation(argv);
    }

    getSize() {
        return this.#native.getSize();
    }

    getBlockSize(which) {
        const kind = typeof which === "string" ? BLOCK_SIZE_KINDS[which] : undefined;
        if (kind === undefined) throw argTypeError("which", "'minimum', 'preferred' or 'maximum'", which);
        return this.#native.getBlockSize(kind);
    }

    canMetaContext(name) {
        throwIf(checkString("name", name));
        return this.#native.canMetaContext(name);
    }

    canMultiConn() { return this.#native.canMultiConn(); }
    canZero() { return this.#native.canZero(); }
    canFastZero() { return this.#native.canFastZero(); }
    canTrim() { return this.#native.canTrim(); }
    canFlush() { return this.#native.canFlush(); }
    canFua() { return this.#native.canFua(); }
    canCache() { return this.#native.canCache(); }
    isReadOnly() { return this.#native.isReadOnly(); }
    aioInFlight() { return this.#native.aioInFlight(); }

    pread(buffer, offset, flags) {
        const error = checkBuffer(buffer) ?? checkUint("offset", offset) ?? checkFlags(flags);
        return error ? Promise.reject(error) : this.#native.pread(buffer, offset, flags);
    }

    pwrite(buffer, offset, flags) {
        const error = checkBuffer(buffer) ?? checkUint("offset", offset) ?? checkFlags(flags);
        return error ? Promise.reject(error) : this.#native.pwrite(buffer, offset, flags);
    }

    zero(length, offset, flags) {
        const error = checkUint("length", length) ?? checkUint("offset", offset) ?? checkFlags(flags);
        return error ? Promise.reject(error) : this.#native.zero(length, offset, flags);
    }

    trim(length, offset, flags) {
        const error = checkUint("length", length) ?? checkUint("offset", offset) ?? checkFlags(flags);
        return error ? Promise.reject(error) : this.#native.trim(length, offset, flags);
    }

    flush(flags) {
        const error = checkFlags(flags);
        return error ? Promise.reject(error) : this.#native.flush(flags);
    }

    blockStatus(length, offset, callback, flags) {
        const error = checkUint("length", length) ?? checkUint("offset", offset) ??
            (typeof callback === "function" ? undefined : argTypeError("callback", "a function", callback)) ??
            checkFlags(flags);
        return error ? Promise.reject(error) : this.#native.blockStatus(length, offset, callback, flags);
    }

    shutdown() {
        return this.#native.shutdown();
    }

    close() {
        this.#closed = true;
        this.#native.close();
    }
}

exports.Handle = Handle;
exports.CmdFlag = CmdFlag;
exports.BlockStatusFlag = BlockStatusFlag;
exports.STATE_HOLE = STATE_HOLE;
exports.STATE_ZERO = STATE_ZERO;
exports.STATE_DIRTY = STATE_DIRTY;
exports.CONTEXT_BASE_ALLOCATION = CONTEXT_BASE_ALLOCATION;
exports.dirtyBitmapContext = dirtyBitmapContext;
