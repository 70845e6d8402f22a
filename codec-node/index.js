// SPDX-License-Identifier: GPL-3.0-or-later
"use strict";
// codec-node: loads the native binding and checks arguments before they reach it, so that mistakes
// surface as TypeError/RangeError with Node's usual codes; codec failures come from liblz4 itself.

const { loadAddon } = require("addon-tools");
const { constants: bufferConstants } = require("node:buffer");

const binding = loadAddon(__dirname, "codec_binding.node", {
    name: "codec-node", needs: "liblz4-dev, libdeflate-dev, pkg-config and a C++ compiler", code: "ERR_CODEC_NOT_BUILT",
});

function describe(value) {
    if (value === null) return "null";
    if (Array.isArray(value)) return "an array";
    if (typeof value === "object") return `an instance of ${value.constructor?.name ?? "Object"}`;
    if (typeof value === "string") return `the string ${JSON.stringify(value.slice(0, 40))}`;
    return `${typeof value} ${String(value)}`;
}

function argTypeError(name, expected, value) {
    const error = new TypeError(`codec-node: "${name}" must be ${expected}, got ${describe(value)}`);
    error.code = "ERR_INVALID_ARG_TYPE";
    return error;
}

function argRangeError(name, expected, value) {
    const error = new RangeError(`codec-node: "${name}" must be ${expected}, got ${String(value)}`);
    error.code = "ERR_OUT_OF_RANGE";
    return error;
}

// Each check returns an Error or undefined, so the async functions can reject instead of throwing.
function checkBytes(name, value) {
    return value instanceof Uint8Array ? undefined : argTypeError(name, "a Buffer or Uint8Array", value);
}

function checkSize(name, value) {
    if (typeof value !== "number") return argTypeError(name, "a number", value);
    if (!Number.isSafeInteger(value) || value < 0 || value > bufferConstants.MAX_LENGTH) {
        return argRangeError(name, `an integer from 0 to ${bufferConstants.MAX_LENGTH}`, value);
    }
    return undefined;
}

function checkSeed(value) {
    if (value === undefined) return undefined;
    if (typeof value !== "number") return argTypeError("seed", "a number", value);
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
        return argRangeError("seed", "an unsigned 32-bit integer", value);
    }
    return undefined;
}

const BOOLEAN_OPTIONS = ["blockChecksum", "contentChecksum", "contentSize"];

function checkCompressOptions(options) {
    if (options === undefined) return undefined;
    if (options === null || typeof options !== "object" || Array.isArray(options)) {
        return argTypeError("options", "an object", options);
    }
    const { level } = options;
    if (level !== undefined) {
        if (typeof level !== "number") return argTypeError("options.level", "a number", level);
        const { minLz4Level, maxLz4Level } = binding.limits;
        if (!Number.isInteger(level) || level < minLz4Level || level > maxLz4Level) {
            return argRangeError("options.level", `an integer from ${minLz4Level} to ${maxLz4Level}`, level);
        }
    }
    for (const name of BOOLEAN_OPTIONS) {
        const value = options[name];
        if (value !== undefined && typeof value !== "boolean") return argTypeError(`options.${name}`, "a boolean", value);
    }
    return undefined;
}

function throwIf(error) {
    if (error) throw error;
}

function adler32(data, seed) {
    throwIf(checkBytes("data", data) ?? checkSeed(seed));
    return binding.adler32(data, seed);
}

function lz4CompressFrame(data, options) {
    const error = checkBytes("data", data) ?? checkCompressOptions(options);
    return error ? Promise.reject(error) : binding.lz4CompressFrame(data, options);
}

async function lz4CompressFrames(inputs, options) {
    if (!Array.isArray(inputs)) throw argTypeError("inputs", "an array", inputs);
    const error = inputs.reduce((e, data, i) => e ?? checkBytes(`inputs[${i}]`, data), undefined) ?? checkCompressOptions(options);
    if (error) throw error;
    const { frames, sizes } = await binding.lz4CompressFrames(inputs, options);
    const out = new Array(sizes.length);
    let at = 0;
    for (let i = 0; i < sizes.length; i++) {
        out[i] = frames.subarray(at, at + sizes[i]);
        at += sizes[i];
    }
    return out;
}

function lz4CompressFrameInto(data, out, options) {
    const error = checkBytes("data", data) ?? checkBytes("out", out) ?? checkCompressOptions(options);
    if (error) return Promise.reject(error);
    // Overlapping memory would be read while it is written.
    if (data.buffer === out.buffer && data.byteOffset < out.byteOffset + out.byteLength && out.byteOffset < data.byteOffset + data.byteLength) {
        return Promise.reject(argRangeError("out", "memory apart from data's", "overlapping"));
    }
    return binding.lz4CompressFrameInto(data, out, options);
}

async function lz4CompressFramesInto(inputs, out, options) {
    if (!Array.isArray(inputs)) throw argTypeError("inputs", "an array", inputs);
    const error = inputs.reduce((e, data, i) => e ?? checkBytes(`inputs[${i}]`, data), undefined) ?? checkBytes("out", out) ?? checkCompressOptions(options);
    if (error) throw error;
    // Overlapping memory would be read while it is written.
    for (const data of inputs) {
        if (data.buffer === out.buffer && data.byteOffset < out.byteOffset + out.byteLength && out.byteOffset < data.byteOffset + data.byteLength)
            throw argRangeError("out", "memory apart from the inputs'", "overlapping");
    }
    return binding.lz4CompressFramesInto(inputs, out, options);
}

function lz4CompressFrameBound(size, options) {
    throwIf(checkSize("size", size) ?? checkCompressOptions(options));
    return binding.lz4CompressFrameBound(size, options);
}

function lz4CompressFrameSync(data, options) {
    throwIf(checkBytes("data", data) ?? checkCompressOptions(options));
    return binding.lz4CompressFrameSync(data, options);
}

function lz4DecompressFrame(data, expectedSize) {
    const error = checkBytes("data", data) ?? checkSize("expectedSize", expectedSize);
    return error ? Promise.reject(error) : binding.lz4DecompressFrame(data, expectedSize);
}

function lz4DecompressFrameInto(data, out, expectedSize) {
    const error = checkBytes("data", data) ?? checkBytes("out", out) ?? checkSize("expectedSize", expectedSize);
    if (error)
        return Promise.reject(error);
    try {
        return binding.lz4DecompressFrameInto(data, out, expectedSize);
    } catch (err) {
        return Promise.reject(err);
    }
}

function lz4DecompressFrameSync(data, expectedSize) {
    throwIf(checkBytes("data", data) ?? checkSize("expectedSize", expectedSize));
    return binding.lz4DecompressFrameSync(data, expectedSize);
}

exports.adler32 = adler32;
exports.lz4CompressFrame = lz4CompressFrame;
exports.lz4CompressFrames = lz4CompressFrames;
exports.lz4CompressFrameSync = lz4CompressFrameSync;
exports.lz4CompressFrameInto = lz4CompressFrameInto;
exports.lz4CompressFramesInto = lz4CompressFramesInto;
exports.lz4CompressFrameBound = lz4CompressFrameBound;
exports.lz4DecompressFrame = lz4DecompressFrame;
exports.lz4DecompressFrameSync = lz4DecompressFrameSync;
exports.lz4DecompressFrameInto = lz4DecompressFrameInto;
exports.versions = Object.freeze({ ...binding.versions });
