// SPDX-License-Identifier: GPL-3.0-or-later
#include "args.h"

#include <cmath>
#include <string>

namespace codecnode {

namespace {

constexpr double kMaxSafeInteger = 9007199254740991.0;

[[noreturn]] void ThrowType(Napi::Env env, const std::string& message) {
  throw Napi::TypeError::New(env, "codec-node: " + message);
}

[[noreturn]] void ThrowRange(Napi::Env env, const std::string& message) {
  throw Napi::RangeError::New(env, "codec-node: " + message);
}

bool IsInteger(double v) { return std::isfinite(v) && std::trunc(v) == v; }

bool BoolOption(Napi::Object options, const char* name, bool fallback) {
  Napi::Value v = options.Get(name);
  if (v.IsUndefined()) return fallback;
  if (!v.IsBoolean()) ThrowType(options.Env(), std::string("option \"") + name + "\" must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

}  // namespace

ByteView ByteViewArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  Napi::Value v = info[index];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    ThrowType(info.Env(), std::string("\"") + name + "\" must be a Buffer or Uint8Array");
  }
  auto array = v.As<Napi::Uint8Array>();
  return ByteView{array, array.Data(), array.ByteLength()};
}

size_t SizeArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  Napi::Value v = info[index];
  if (!v.IsNumber()) ThrowType(info.Env(), std::string("\"") + name + "\" must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!IsInteger(d) || d < 0 || d > kMaxSafeInteger) {
    ThrowRange(info.Env(), std::string("\"") + name + "\" must be a non-negative safe integer");
  }
  return static_cast<size_t>(d);
}

uint32_t Uint32ArgOr(const Napi::CallbackInfo& info, size_t index, const char* name, uint32_t fallback) {
  Napi::Value v = info[index];
  if (v.IsUndefined()) return fallback;
  if (!v.IsNumber()) ThrowType(info.Env(), std::string("\"") + name + "\" must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!IsInteger(d) || d < 0 || d > 4294967295.0) {
    ThrowRange(info.Env(), std::string("\"") + name + "\" must be an unsigned 32-bit integer");
  }
  return static_cast<uint32_t>(d);
}

Lz4CompressOptions CompressOptionsArg(const Napi::CallbackInfo& info, size_t index) {
  Lz4CompressOptions options;
  Napi::Value v = info[index];
  if (v.IsUndefined()) return options;
  if (!v.IsObject() || v.IsArray()) ThrowType(info.Env(), "\"options\" must be an object");
  Napi::Object o = v.As<Napi::Object>();
  Napi::Value level = o.Get("level");
  if (!level.IsUndefined()) {
    if (!level.IsNumber()) ThrowType(info.Env(), "option \"level\" must be a number");
    double d = level.As<Napi::Number>().DoubleValue();
    if (!IsInteger(d) || d < kMinLz4Level || d > kMaxLz4Level) {
      ThrowRange(info.Env(), "option \"level\" must be an integer from " + std::to_string(kMinLz4Level) + " to " +
                                 std::to_string(kMaxLz4Level));
    }
    options.level = static_cast<int>(d);
  }
  options.blockChecksum = BoolOption(o, "blockChecksum", options.blockChecksum);
  options.contentChecksum = BoolOption(o, "contentChecksum", options.contentChecksum);
  options.contentSize = BoolOption(o, "contentSize", options.contentSize);
  return options;
}

}  // namespace codecnode
