// SPDX-License-Identifier: GPL-3.0-or-later
// Module entry: exports the checksum and the lz4 frame functions, and the library versions.
#include <libdeflate.h>
#include <lz4.h>
#include <napi.h>

#include "adler32.h"
#include "lz4_binding.h"
#include "lz4_frame.h"

namespace codecnode {

Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  exports.Set("adler32", Napi::Function::New(env, Adler32, "adler32"));
  exports.Set("lz4CompressFrame", Napi::Function::New(env, Lz4CompressFrame, "lz4CompressFrame"));
  exports.Set("lz4CompressFrames", Napi::Function::New(env, Lz4CompressFrames, "lz4CompressFrames"));
  exports.Set("lz4CompressFrameSync", Napi::Function::New(env, Lz4CompressFrameSync, "lz4CompressFrameSync"));
  exports.Set("lz4CompressFrameInto", Napi::Function::New(env, Lz4CompressFrameInto, "lz4CompressFrameInto"));
  exports.Set("lz4CompressFramesInto", Napi::Function::New(env, Lz4CompressFramesInto, "lz4CompressFramesInto"));
  exports.Set("lz4CompressFrameBound", Napi::Function::New(env, Lz4CompressFrameBound, "lz4CompressFrameBound"));
  exports.Set("lz4DecompressFrame", Napi::Function::New(env, Lz4DecompressFrame, "lz4DecompressFrame"));
  exports.Set("lz4DecompressFrameSync", Napi::Function::New(env, Lz4DecompressFrameSync, "lz4DecompressFrameSync"));
  exports.Set("lz4DecompressFrameInto", Napi::Function::New(env, Lz4DecompressFrameInto, "lz4DecompressFrameInto"));

  Napi::Object versions = Napi::Object::New(env);
  versions.Set("lz4", Napi::String::New(env, LZ4_versionString()));
  versions.Set("libdeflate", Napi::String::New(env, LIBDEFLATE_VERSION_STRING));
  exports.Set("versions", versions);

  Napi::Object limits = Napi::Object::New(env);
  limits.Set("minLz4Level", Napi::Number::New(env, kMinLz4Level));
  limits.Set("maxLz4Level", Napi::Number::New(env, kMaxLz4Level));
  exports.Set("limits", limits);
  return exports;
}

}  // namespace codecnode

static Napi::Object Init(Napi::Env env, Napi::Object exports) { return codecnode::InitAddon(env, exports); }

NODE_API_MODULE(codec_binding, Init)
