// SPDX-License-Identifier: GPL-3.0-or-later
// lz4CompressFrame / lz4DecompressFrame (Promise, libuv thread pool) and their *Sync twins; lz4CompressFrames,
// several frames in one thread-pool job.
#pragma once

#include <napi.h>

namespace codecnode {

Napi::Value Lz4CompressFrame(const Napi::CallbackInfo& info);
Napi::Value Lz4CompressFrames(const Napi::CallbackInfo& info);
Napi::Value Lz4CompressFrameSync(const Napi::CallbackInfo& info);
Napi::Value Lz4CompressFrameInto(const Napi::CallbackInfo& info);
Napi::Value Lz4CompressFramesInto(const Napi::CallbackInfo& info);
Napi::Value Lz4CompressFrameBound(const Napi::CallbackInfo& info);
Napi::Value Lz4DecompressFrame(const Napi::CallbackInfo& info);
Napi::Value Lz4DecompressFrameSync(const Napi::CallbackInfo& info);
Napi::Value Lz4DecompressFrameInto(const Napi::CallbackInfo& info);

}  // namespace codecnode
