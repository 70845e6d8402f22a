// SPDX-License-Identifier: GPL-3.0-or-later
// Module entry: the Handle class and libnbd's constants.
#include "addon.h"

#include <libnbd.h>

#include "handle.h"

namespace nbdnode {

namespace {

struct AddonData {
  // Never destroyed: it lives as long as the environment, and napi_async_destroy must not run
  // during environment teardown.
  napi_async_context asyncContext = nullptr;
};

void SetConstant(Napi::Object target, const char* name, int64_t value) {
  target.Set(name, Napi::Number::New(target.Env(), static_cast<double>(value)));
}

}  // namespace

Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  napi_status status =
      napi_async_init(env, Napi::Object::New(env), Napi::String::New(env, "libnbd-node"), &data->asyncContext);
  NAPI_THROW_IF_FAILED(env, status, exports);
  env.SetInstanceData<AddonData>(data);

  exports.Set("Handle", Handle::Init(env));

  Napi::Object constants = Napi::Object::New(env);
  SetConstant(constants, "CMD_FLAG_FUA", LIBNBD_CMD_FLAG_FUA);
  SetConstant(constants, "CMD_FLAG_NO_HOLE", LIBNBD_CMD_FLAG_NO_HOLE);
  SetConstant(constants, "CMD_FLAG_DF", LIBNBD_CMD_FLAG_DF);
  SetConstant(constants, "CMD_FLAG_REQ_ONE", LIBNBD_CMD_FLAG_REQ_ONE);
  SetConstant(constants, "CMD_FLAG_FAST_ZERO", LIBNBD_CMD_FLAG_FAST_ZERO);
  SetConstant(constants, "CMD_FLAG_MASK", LIBNBD_CMD_FLAG_MASK);
  SetConstant(constants, "STATE_HOLE", LIBNBD_STATE_HOLE);
  SetConstant(constants, "STATE_ZERO", LIBNBD_STATE_ZERO);
  SetConstant(constants, "SIZE_MINIMUM", LIBNBD_SIZE_MINIMUM);
  SetConstant(constants, "SIZE_PREFERRED", LIBNBD_SIZE_PREFERRED);
  SetConstant(constants, "SIZE_MAXIMUM", LIBNBD_SIZE_MAXIMUM);
  exports.Set("constants", constants);
  return exports;
}

napi_async_context AddonAsyncContext(Napi::Env env) { return env.GetInstanceData<AddonData>()->asyncContext; }

}  // namespace nbdnode

static Napi::Object Init(Napi::Env env, Napi::Object exports) { return nbdnode::InitAddon(env, exports); }

NODE_API_MODULE(nbd_binding, Init)
