// SPDX-License-Identifier: GPL-3.0-or-later
#include "errors.h"

#include <libnbd.h>

#include <cstring>

namespace nbdnode {

NbdError LastNbdError() {
  NbdError e;
  const char* msg = nbd_get_error();
  e.message = msg != nullptr ? msg : "unknown libnbd error";
  e.errnum = nbd_get_errno();
  return e;
}

Napi::Error MakeError(Napi::Env env, const std::string& message, int errnum) {
  Napi::Error error = Napi::Error::New(env, message);
  if (errnum > 0) {
    error.Set("errno", Napi::Number::New(env, errnum));
    const char* name = strerrorname_np(errnum);
    if (name != nullptr) error.Set("code", Napi::String::New(env, name));
  }
  return error;
}

Napi::Error MakeError(Napi::Env env, const NbdError& error) { return MakeError(env, error.message, error.errnum); }

Napi::Error MakeCommandError(Napi::Env env, const char* op, int errnum) {
  std::string message = std::string(op) + ": " + std::strerror(errnum);
  return MakeError(env, message, errnum);
}

}  // namespace nbdnode
