// SPDX-License-Identifier: GPL-3.0-or-later
// Per-environment state of the addon.
#pragma once

#include <napi.h>

namespace nbdnode {

// The async context under which poll callbacks enter JS, so that Promise reactions and
// process.nextTick callbacks run as soon as a batch of completions has been delivered.
napi_async_context AddonAsyncContext(Napi::Env env);

}  // namespace nbdnode
