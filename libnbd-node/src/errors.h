// SPDX-License-Identifier: GPL-3.0-or-later
// Error objects for libnbd failures: libnbd's message plus errno (and its symbolic code).
#pragma once

#include <napi.h>

#include <string>

namespace nbdnode {

// libnbd keeps its last error per thread; copy it right after the failing call.
struct NbdError {
  std::string message;
  int errnum = 0;
};

NbdError LastNbdError();

// An Error with .errno (positive, as libnbd reports it) and .code ("ENOENT") when known.
Napi::Error MakeError(Napi::Env env, const std::string& message, int errnum);
Napi::Error MakeError(Napi::Env env, const NbdError& error);

// For failures reported asynchronously (completion callbacks carry only an errno).
Napi::Error MakeCommandError(Napi::Env env, const char* op, int errnum);

}  // namespace nbdnode
