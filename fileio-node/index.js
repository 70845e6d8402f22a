// SPDX-License-Identifier: GPL-3.0-or-later
"use strict";
// fileio-node: loads the native binding and checks arguments before they reach it, so mistakes surface
// as TypeError/RangeError with Node's usual codes; system call failures reject with errno's code.

const { constants: { MAX_LENGTH } } = require("node:buffer");
const { loadAddon } = require("addon-tools");

const binding = loadAddon(__dirname, "fileio_binding.node", {
    name: "fileio-node", needs: "libdeflate-dev, pkg-config and a C++ compiler", code: "ERR_FILEIO_NOT_BUILT",
});

function checkInteger(name, value, max) {
    if (typeof value !== "number") {
        const error = new TypeError(`fileio-node: "${name}" must be a number, got ${typeof value}`);
        error.code = "ERR_INVALID_ARG_TYPE";
        return error;
    }
    if (!Number.isSafeInteger(value) || value < 0 || value > max) {
        const error = new RangeError(`fileio-node: "${name}" must be an integer from 0 to ${max}, got ${value}`);
        error.code = "ERR_OUT_OF_RANGE";
        return error;
    }
    return undefined;
}

function checkRange(fd, offset, length, flags, flagsName) {
    return checkInteger("fd", fd, 0x7fffffff) ?? checkInteger("offset", offset, Number.MAX_SAFE_INTEGER) ??
        checkInteger("length", length, Number.MAX_SAFE_INTEGER) ?? checkInteger(flagsName, flags, 0xffffffff);
}

function checkBuffers(value) {
    if (!Array.isArray(value) || !value.every(b => b instanceof Uint8Array)) {
        const error = new TypeError("fileio-node: \"buffers\" must be an array of Buffers or Uint8Arrays");
        error.code = "ERR_INVALID_ARG_TYPE";
        return error;
    }
    return undefined;
}

function writeSummed(fd, buffers, position, seed = 1) {
    const error = checkInteger("fd", fd, 0x7fffffff) ?? checkBuffers(buffers) ??
        checkInteger("position", position, Number.MAX_SAFE_INTEGER) ?? checkInteger("seed", seed, 0xffffffff);
    return error ? Promise.reject(error) : binding.writeSummed(fd, buffers, position, seed);
}

function syncFileRange(fd, offset, length, flags) {
    const error = checkRange(fd, offset, length, flags, "flags");
    return error ? Promise.reject(error) : binding.syncFileRange(fd, offset, length, flags);
}

function fadvise(fd, offset, length, advice) {
    const error = checkRange(fd, offset, length, advice, "advice");
    return error ? Promise.reject(error) : binding.fadvise(fd, offset, length, advice);
}

function tryLock(fd, lock = true) {
    const error = checkInteger("fd", fd, 0x7fffffff);
    if (error)
        throw error;
    if (typeof lock !== "boolean" && lock !== "shared") {
        const typeError = new TypeError(`fileio-node: "lock" must be a boolean or "shared", got ${typeof lock}`);
        typeError.code = "ERR_INVALID_ARG_TYPE";
        throw typeError;
    }
    return binding.tryLock(fd, lock);
}

/** A page in this binding's sense: the alignment of the buffers alignedBuffer() gives by default. */
const PAGE = 4096;

function checkPowerOfTwo(name, value) {
    if (value !== 0 && (value & (value - 1)) === 0)
        return undefined;
    const error = new RangeError(`fileio-node: "${name}" must be a power of two, got ${value}`);
    error.code = "ERR_OUT_OF_RANGE";
    return error;
}

function alignedBuffer(size, alignment = PAGE) {
    const error = checkInteger("size", size, MAX_LENGTH - PAGE) ?? checkInteger("alignment", alignment, 1 << 20) ?? checkPowerOfTwo("alignment", alignment);
    if (error)
        throw error;
    // Backing stores come from malloc (16 bytes past a page for big ones): over-allocate and skip to the boundary.
    const block = Buffer.allocUnsafeSlow(size + alignment - 1);
    const skip = binding.bytesToAlignment(block, alignment);
    return block.subarray(skip, skip + size);
}

function bytesToAlignment(view, alignment) {
    return binding.bytesToAlignment(view, alignment);
}

exports.writeSummed = writeSummed;
exports.alignedBuffer = alignedBuffer;
exports.bytesToAlignment = bytesToAlignment;
exports.tryLock = tryLock;
exports.syncFileRange = syncFileRange;
exports.fadvise = fadvise;
exports.constants = Object.freeze({ ...binding.constants });
