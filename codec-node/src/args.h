// SPDX-License-Identifier: GPL-3.0-or-later
// Argument checks shared by the exported functions. index.js checks first and words its errors for
// users; these keep the native side safe when it is called directly.
#pragma once

#include <napi.h>

#include <cstdint>

#include "lz4_frame.h"

namespace codecnode {

// The bytes of a Uint8Array (Buffers included) argument; throws TypeError otherwise.
struct ByteView {
  Napi::TypedArray array;
  const uint8_t* data = nullptr;
  size_t size = 0;
};
ByteView ByteViewArg(const Napi::CallbackInfo& info, size_t index, const char* name);

// A non-negative safe integer argument.
size_t SizeArg(const Napi::CallbackInfo& info, size_t index, const char* name);

// An unsigned 32-bit integer argument, or `fallback` when it is undefined.
uint32_t Uint32ArgOr(const Napi::CallbackInfo& info, size_t index, const char* name, uint32_t fallback);

// { level, blockChecksum, contentChecksum, contentSize }, each optional; undefined means all defaults.
Lz4CompressOptions CompressOptionsArg(const Napi::CallbackInfo& info, size_t index);

}  // namespace codecnode
