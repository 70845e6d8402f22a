// SPDX-License-Identifier: GPL-3.0-or-later
// Runs one blocking nbd_connect_* call on a libuv worker thread.
#pragma once

#include <libnbd.h>
#include <napi.h>

#include <string>
#include <vector>

#include "errors.h"

namespace nbdnode {

class Handle;

enum class ConnectKind { Uri, Unix, Command, SocketActivation };

class ConnectWorker : public Napi::AsyncWorker {
 public:
  ConnectWorker(Napi::Env env, Handle* owner, struct nbd_handle* nbd, Napi::Promise::Deferred deferred,
                ConnectKind kind, std::vector<std::string> args);

  void Execute() override;
  void OnOK() override;

 private:
  Handle* owner_;
  struct nbd_handle* nbd_;
  Napi::Promise::Deferred deferred_;
  ConnectKind kind_;
  std::vector<std::string> args_;
  bool ok_ = false;
  NbdError error_;
};

}  // namespace nbdnode
