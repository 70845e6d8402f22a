// SPDX-License-Identifier: GPL-3.0-or-later
// adler32(data, seed = 1): zlib's checksum, computed by libdeflate (SIMD), synchronously.
#pragma once

#include <napi.h>

namespace codecnode {

Napi::Value Adler32(const Napi::CallbackInfo& info);

}  // namespace codecnode
