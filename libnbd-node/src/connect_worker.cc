// SPDX-License-Identifier: GPL-3.0-or-later
#include "connect_worker.h"

#include <fcntl.h>

#include "handle.h"

namespace nbdnode {

ConnectWorker::ConnectWorker(Napi::Env env, Handle* owner, struct nbd_handle* nbd, Napi::Promise::Deferred deferred,
                             ConnectKind kind, std::vector<std::string> args)
    : Napi::AsyncWorker(env, "libnbd-node:connect"),
      owner_(owner),
      nbd_(nbd),
      deferred_(deferred),
      kind_(kind),
      args_(std::move(args)) {}

void ConnectWorker::Execute() {
  int rc = -1;
  switch (kind_) {
    case ConnectKind::Uri:
      rc = nbd_connect_uri(nbd_, args_[0].c_str());
      break;
    case ConnectKind::Unix:
      rc = nbd_connect_unix(nbd_, args_[0].c_str());
      break;
    case ConnectKind::Command:
    case ConnectKind::SocketActivation: {
      std::vector<char*> argv;
      for (std::string& arg : args_) argv.push_back(arg.data());
      argv.push_back(nullptr);
      // Node marks stdio close-on-exec, and libnbd only sets up the child's stdin/stdout (or
      // its listening socket): without this the server would start with no stderr (nbdkit
      // then exits at once). Descriptor flags are copied at fork, so restoring right after
      // is safe.
      int stderrFlags = fcntl(STDERR_FILENO, F_GETFD);
      bool cleared = stderrFlags != -1 && (stderrFlags & FD_CLOEXEC) != 0 &&
                     fcntl(STDERR_FILENO, F_SETFD, stderrFlags & ~FD_CLOEXEC) != -1;
      rc = kind_ == ConnectKind::Command ? nbd_connect_command(nbd_, argv.data())
                                         : nbd_connect_systemd_socket_activation(nbd_, argv.data());
      if (cleared) fcntl(STDERR_FILENO, F_SETFD, stderrFlags);
      break;
    }
  }
  ok_ = rc != -1;
  // libnbd's error is thread-local: it must be read here, on the worker thread.
  if (!ok_) error_ = LastNbdError();
}

void ConnectWorker::OnOK() { owner_->ConnectFinished(deferred_, ok_, error_); }

}  // namespace nbdnode
