// SPDX-License-Identifier: GPL-3.0-or-later
// The Handle class: one libnbd handle, its libuv poll watcher and the requests in flight on it.
#pragma once

#include <libnbd.h>
#include <napi.h>
#include <uv.h>

#include <deque>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "errors.h"
#include "request.h"

namespace nbdnode {

class Handle : public Napi::ObjectWrap<Handle> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit Handle(const Napi::CallbackInfo& info);
  ~Handle() override;

  // Called by libnbd from inside nbd_aio_* / nbd_close (main thread): queue only, no JS.
  void QueueCompletion(Request* request, int error);
  void QueueExtents(Request* request, const char* metaContext, uint64_t offset, const uint32_t* entries, size_t count);

  // Called by the connect worker on the main thread once the blocking connect returned.
  void ConnectFinished(Napi::Promise::Deferred deferred, bool ok, const NbdError& error);

 private:
  // Open: libnbd decides what is allowed (created, connected, or shut down).
  enum class State { Open, Connecting, Disconnecting, Closed };

  // set-up (synchronous, before connecting)
  Napi::Value SetExportName(const Napi::CallbackInfo& info);
  Napi::Value AddMetaContext(const Napi::CallbackInfo& info);
  Napi::Value SetHandleName(const Napi::CallbackInfo& info);
  Napi::Value GetHandleName(const Napi::CallbackInfo& info);
  Napi::Value SetPreadInitialize(const Napi::CallbackInfo& info);
  // connecting (Promise; runs on a libuv worker thread)
  Napi::Value ConnectUri(const Napi::CallbackInfo& info);
  Napi::Value ConnectUnix(const Napi::CallbackInfo& info);
  Napi::Value ConnectCommand(const Napi::CallbackInfo& info);
  Napi::Value ConnectSocketActivation(const Napi::CallbackInfo& info);
  // what the server negotiated (synchronous: libnbd answers from cached state)
  Napi::Value GetSize(const Napi::CallbackInfo& info);
  Napi::Value GetBlockSize(const Napi::CallbackInfo& info);
  Napi::Value CanMetaContext(const Napi::CallbackInfo& info);
  template <int (*Query)(struct nbd_handle*)>
  Napi::Value BoolQuery(const Napi::CallbackInfo& info);
  Napi::Value AioInFlight(const Napi::CallbackInfo& info);
  // I/O (Promise; aio on the main thread)
  Napi::Value Pread(const Napi::CallbackInfo& info);
  Napi::Value Pwrite(const Napi::CallbackInfo& info);
  Napi::Value Zero(const Napi::CallbackInfo& info);
  Napi::Value Trim(const Napi::CallbackInfo& info);
  Napi::Value SetString(const Napi::CallbackInfo& info, const char* usage, int (*set)(struct nbd_handle*, const char*));
  Napi::Value BufferCommand(const Napi::CallbackInfo& info, Op op, const char* usage,
                            int64_t (*submit)(struct nbd_handle*, void*, size_t, uint64_t, nbd_completion_callback,
                                              uint32_t));
  Napi::Value RangeCommand(const Napi::CallbackInfo& info, Op op, const char* usage,
                           int64_t (*submit)(struct nbd_handle*, uint64_t, uint64_t, nbd_completion_callback,
                                             uint32_t));
  Napi::Value Flush(const Napi::CallbackInfo& info);
  Napi::Value BlockStatus(const Napi::CallbackInfo& info);
  // ending
  Napi::Value Shutdown(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  // Throws (synchronous methods) unless libnbd may be called now.
  void RequireIdleHandle(Napi::Env env);
  // Rejects and returns false unless a command may be submitted now.
  bool CheckSubmit(Napi::Promise::Deferred& deferred);
  Napi::Value StartConnect(const Napi::CallbackInfo& info, int kind);
  // Registers a request whose submission returned `cookie`; settles it at once on failure.
  void Submitted(Request* request, int64_t cookie);

  // After every libnbd call that may run its state machine.
  void AfterStateMachine();
  void Dispatch();
  void Settle(Request* request, int error);
  void RejectRequest(Request* request, Napi::Value reason);
  void CheckShutdownDone();
  void UpdatePoll();
  void ClosePoll();
  void UpdateHold();
  bool Busy() const;
  void PollReady(int status, int events);
  static void OnPoll(uv_poll_t* poll, int status, int events);

  // Frees the libnbd handle; `withJs` is false during GC finalisation or environment teardown.
  void CloseNow(bool withJs);
  static void OnEnvCleanup(void* arg);

  struct nbd_handle* nbd_ = nullptr;
  State state_ = State::Open;
  uv_loop_t* loop_ = nullptr;
  uv_poll_t* poll_ = nullptr;
  int pollFd_ = -1;
  int pollEvents_ = 0;
  std::unordered_set<Request*> pending_;
  std::deque<Event> events_;
  bool dispatching_ = false;
  bool held_ = false;
  bool closeRequested_ = false;
  bool disconnectSent_ = false;
  bool cleanupHookAdded_ = false;
  std::unique_ptr<Napi::Promise::Deferred> shutdownDeferred_;
  NbdError shutdownError_;
};

}  // namespace nbdnode
