// SPDX-License-Identifier: GPL-3.0-or-later
#include "handle.h"

#include <cerrno>
#include <cmath>

#include "addon.h"
#include "connect_worker.h"

namespace nbdnode {

namespace {

// ---- callbacks handed to libnbd -------------------------------------------------------------

int OnCommandComplete(void* userData, int* error) {
  auto* request = static_cast<Request*>(userData);
  request->owner->QueueCompletion(request, *error);
  return 1;  // retire the command at once; its outcome travels in our event queue
}

void OnCommandFree(void* userData) { static_cast<Request*>(userData)->Unref(); }

int OnExtents(void* userData, const char* metaContext, uint64_t offset, uint32_t* entries, size_t count,
              int* /*error*/) {
  auto* request = static_cast<Request*>(userData);
  request->owner->QueueExtents(request, metaContext, offset, entries, count);
  return 0;
}

nbd_completion_callback CompletionFor(Request* request) {
  return nbd_completion_callback{OnCommandComplete, request, OnCommandFree};
}

// ---- argument checks (the JS wrapper gives the friendly messages; these keep C safe) --------

constexpr double kMaxSafeInteger = 9007199254740991.0;

bool ToUint64(const Napi::Value& value, uint64_t* out) {
  if (!value.IsNumber()) return false;
  double d = value.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > kMaxSafeInteger || std::floor(d) != d) return false;
  *out = static_cast<uint64_t>(d);
  return true;
}

bool ToFlags(const Napi::Value& value, uint32_t* out) {
  if (value.IsUndefined()) {
    *out = 0;
    return true;
  }
  uint64_t flags;
  if (!ToUint64(value, &flags) || (flags & ~uint64_t{LIBNBD_CMD_FLAG_MASK}) != 0) return false;
  *out = static_cast<uint32_t>(flags);
  return true;
}

bool ToBytes(const Napi::Value& value, Napi::Uint8Array* out) {
  if (!value.IsTypedArray()) return false;
  Napi::TypedArray array = value.As<Napi::TypedArray>();
  if (array.TypedArrayType() != napi_uint8_array) return false;
  *out = value.As<Napi::Uint8Array>();
  return true;
}

// libnbd declares its buffer parameters non-null even when the length is zero.
void* DataOf(Napi::Uint8Array& bytes) {
  static char empty;
  return bytes.ByteLength() == 0 ? static_cast<void*>(&empty) : bytes.Data();
}

Napi::Error CodedError(Napi::Env env, const char* message, const char* code) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  return error;
}

Napi::Error ClosedError(Napi::Env env) {
  return CodedError(env, "libnbd-node: the handle is closed", "ERR_NBD_CLOSED");
}

Napi::Error BusyError(Napi::Env env) {
  return CodedError(env, "libnbd-node: a connect or shutdown is in progress on this handle", "ERR_NBD_BUSY");
}

Napi::Error BadArguments(Napi::Env env, const char* usage) {
  Napi::Error error = Napi::TypeError::New(env, std::string("libnbd-node: bad arguments, expected ") + usage);
  error.Set("code", Napi::String::New(env, "ERR_INVALID_ARG_TYPE"));
  return error;
}

}  // namespace

// ---- construction and destruction ------------------------------------------------------------

Napi::Function Handle::Init(Napi::Env env) {
  return DefineClass(env, "Handle",
                     {
                         InstanceMethod("setExportName", &Handle::SetExportName),
                         InstanceMethod("addMetaContext", &Handle::AddMetaContext),
                         InstanceMethod("setHandleName", &Handle::SetHandleName),
                         InstanceMethod("getHandleName", &Handle::GetHandleName),
                         InstanceMethod("setPreadInitialize", &Handle::SetPreadInitialize),
                         InstanceMethod("connectUri", &Handle::ConnectUri),
                         InstanceMethod("connectUnix", &Handle::ConnectUnix),
                         InstanceMethod("connectCommand", &Handle::ConnectCommand),
                         InstanceMethod("connectSystemdSocketActivation", &Handle::ConnectSocketActivation),
                         InstanceMethod("getSize", &Handle::GetSize),
                         InstanceMethod("getBlockSize", &Handle::GetBlockSize),
                         InstanceMethod("canMetaContext", &Handle::CanMetaContext),
                         InstanceMethod("canMultiConn", &Handle::BoolQuery<nbd_can_multi_conn>),
                         InstanceMethod("canZero", &Handle::BoolQuery<nbd_can_zero>),
                         InstanceMethod("canFastZero", &Handle::BoolQuery<nbd_can_fast_zero>),
                         InstanceMethod("canTrim", &Handle::BoolQuery<nbd_can_trim>),
                         InstanceMethod("canFlush", &Handle::BoolQuery<nbd_can_flush>),
                         InstanceMethod("canFua", &Handle::BoolQuery<nbd_can_fua>),
                         InstanceMethod("canCache", &Handle::BoolQuery<nbd_can_cache>),
                         InstanceMethod("isReadOnly", &Handle::BoolQuery<nbd_is_read_only>),
                         InstanceMethod("aioInFlight", &Handle::AioInFlight),
                         InstanceMethod("pread", &Handle::Pread),
                         InstanceMethod("pwrite", &Handle::Pwrite),
                         InstanceMethod("zero", &Handle::Zero),
                         InstanceMethod("trim", &Handle::Trim),
                         InstanceMethod("flush", &Handle::Flush),
                         InstanceMethod("blockStatus", &Handle::BlockStatus),
                         InstanceMethod("shutdown", &Handle::Shutdown),
                         InstanceMethod("close", &Handle::Close),
                     });
}

Handle::Handle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Handle>(info) {
  Napi::Env env = info.Env();
  nbd_ = nbd_create();
  if (nbd_ == nullptr) {
    NbdError error = LastNbdError();
    throw MakeError(env, error);
  }
  if (napi_get_uv_event_loop(env, &loop_) != napi_ok) {
    nbd_close(nbd_);
    nbd_ = nullptr;
    throw Napi::Error::New(env, "libnbd-node: no libuv loop");
  }
  // At environment teardown (process exit, worker exit) the handle is freed without JS.
  if (napi_add_env_cleanup_hook(env, &Handle::OnEnvCleanup, this) == napi_ok) {
    cleanupHookAdded_ = true;
  }
}

Handle::~Handle() {
  if (cleanupHookAdded_) {
    napi_remove_env_cleanup_hook(Env(), &Handle::OnEnvCleanup, this);
    cleanupHookAdded_ = false;
  }
  // The object is held strongly while anything is in flight, so nothing is pending here.
  CloseNow(false);
}

void Handle::OnEnvCleanup(void* arg) {
  auto* self = static_cast<Handle*>(arg);
  self->cleanupHookAdded_ = false;
  // A worker thread may still be inside nbd_connect_*: leave that handle to the process exit.
  if (self->state_ == State::Connecting) return;
  self->CloseNow(false);
}

void Handle::CloseNow(bool withJs) {
  if (state_ == State::Closed) return;
  if (state_ == State::Connecting) {
    // The worker owns the libnbd handle until its connect returns; finish in ConnectFinished.
    closeRequested_ = true;
    return;
  }
  ClosePoll();
  state_ = State::Closed;
  struct nbd_handle* nbd = nbd_;
  nbd_ = nullptr;
  // nbd_close completes every command with ENOTCONN (ignored: state_ is Closed) and calls our
  // free hooks; after it returns libnbd touches no buffer of ours.
  if (nbd != nullptr) nbd_close(nbd);

  for (Event& event : events_) event.request->Unref();
  events_.clear();

  std::vector<Request*> pending(pending_.begin(), pending_.end());
  std::unique_ptr<Napi::Promise::Deferred> shutdown = std::move(shutdownDeferred_);
  if (withJs) {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    for (Request* request : pending) {
      Napi::Error error =
          CodedError(env, "libnbd-node: the handle was closed before the reply arrived", "ERR_NBD_CLOSED");
      error.Set("operation", Napi::String::New(env, OpName(request->op)));
      RejectRequest(request, error.Value());
    }
    if (shutdown) shutdown->Reject(ClosedError(env).Value());
    UpdateHold();
  } else {
    for (Request* request : pending) {
      request->settled = true;
      pending_.erase(request);
      request->Unref();
    }
  }
}

// ---- state checks ------------------------------------------------------------------------------

void Handle::RequireIdleHandle(Napi::Env env) {
  if (state_ == State::Closed || closeRequested_) throw ClosedError(env);
  if (state_ == State::Connecting) throw BusyError(env);
}

bool Handle::CheckSubmit(Napi::Promise::Deferred& deferred) {
  Napi::Env env = deferred.Env();
  if (state_ == State::Closed || closeRequested_) {
    deferred.Reject(ClosedError(env).Value());
    return false;
  }
  if (state_ == State::Connecting || state_ == State::Disconnecting) {
    deferred.Reject(BusyError(env).Value());
    return false;
  }
  return true;
}

bool Handle::Busy() const {
  return !pending_.empty() || !events_.empty() || state_ == State::Connecting || state_ == State::Disconnecting;
}

// While requests are in flight the JS object must not be collected (its callbacks would run on
// freed memory) and the event loop must stay alive; when idle, neither is held.
void Handle::UpdateHold() {
  bool busy = Busy();
  if (busy && !held_) {
    Ref();
    held_ = true;
  } else if (!busy && held_) {
    Unref();
    held_ = false;
  }
}

// ---- set-up ------------------------------------------------------------------------------------

// setExportName, addMetaContext, setHandleName: one string, set before connecting.
Napi::Value Handle::SetString(const Napi::CallbackInfo& info, const char* usage,
                              int (*set)(struct nbd_handle*, const char*)) {
  Napi::Env env = info.Env();
  RequireIdleHandle(env);
  if (!info[0].IsString()) throw BadArguments(env, usage);
  std::string value = info[0].As<Napi::String>();
  if (set(nbd_, value.c_str()) == -1) throw MakeError(env, LastNbdError());
  return env.Undefined();
}

Napi::Value Handle::SetExportName(const Napi::CallbackInfo& info) {
  return SetString(info, "setExportName(name: string)", nbd_set_export_name);
}

Napi::Value Handle::AddMetaContext(const Napi::CallbackInfo& info) {
  return SetString(info, "addMetaContext(name: string)", nbd_add_meta_context);
}

Napi::Value Handle::SetHandleName(const Napi::CallbackInfo& info) {
  return SetString(info, "setHandleName(name: string)", nbd_set_handle_name);
}

Napi::Value Handle::GetHandleName(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireIdleHandle(env);
  char* name = nbd_get_handle_name(nbd_);
  if (name == nullptr) throw MakeError(env, LastNbdError());
  Napi::String result = Napi::String::New(env, name);
  free(name);
  return result;
}

Napi::Value Handle::SetPreadInitialize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireIdleHandle(env);
  if (!info[0].IsBoolean()) throw BadArguments(env, "setPreadInitialize(request: boolean)");
  if (nbd_set_pread_initialize(nbd_, info[0].As<Napi::Boolean>().Value()) == -1) {
    throw MakeError(env, LastNbdError());
  }
  return env.Undefined();
}

// ---- connecting --------------------------------------------------------------------------------

Napi::Value Handle::ConnectUri(const Napi::CallbackInfo& info) {
  return StartConnect(info, static_cast<int>(ConnectKind::Uri));
}

Napi::Value Handle::ConnectUnix(const Napi::CallbackInfo& info) {
  return StartConnect(info, static_cast<int>(ConnectKind::Unix));
}

Napi::Value Handle::ConnectCommand(const Napi::CallbackInfo& info) {
  return StartConnect(info, static_cast<int>(ConnectKind::Command));
}

Napi::Value Handle::ConnectSocketActivation(const Napi::CallbackInfo& info) {
  return StartConnect(info, static_cast<int>(ConnectKind::SocketActivation));
}

Napi::Value Handle::StartConnect(const Napi::CallbackInfo& info, int kindValue) {
  Napi::Env env = info.Env();
  auto kind = static_cast<ConnectKind>(kindValue);
  Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
  if (!CheckSubmit(deferred)) return deferred.Promise();

  std::vector<std::string> args;
  if (kind == ConnectKind::Command || kind == ConnectKind::SocketActivation) {
    if (info[0].IsArray()) {
      Napi::Array argv = info[0].As<Napi::Array>();
      for (uint32_t i = 0; i < argv.Length(); i++) {
        Napi::Value arg = argv.Get(i);
        if (!arg.IsString()) {
          args.clear();
          break;
        }
        args.push_back(arg.As<Napi::String>());
      }
    }
    if (args.empty()) {
      deferred.Reject(BadArguments(env, "argv: a non-empty string[]").Value());
      return deferred.Promise();
    }
  } else {
    if (!info[0].IsString()) {
      deferred.Reject(
          BadArguments(env, kind == ConnectKind::Uri ? "connectUri(uri: string)" : "connectUnix(path: string)")
              .Value());
      return deferred.Promise();
    }
    args.push_back(info[0].As<Napi::String>());
  }

  // The handshake is a short, one-off exchange whose socket may be replaced on the way (TCP
  // address fallback, subprocess socketpair): libnbd runs it synchronously on a worker thread,
  // and this thread leaves the handle alone until ConnectFinished.
  state_ = State::Connecting;
  auto* worker = new ConnectWorker(env, this, nbd_, deferred, kind, std::move(args));
  worker->Queue();
  UpdateHold();
  return deferred.Promise();
}

void Handle::ConnectFinished(Napi::Promise::Deferred deferred, bool ok, const NbdError& error) {
  Napi::Env env = Env();
  state_ = State::Open;
  if (closeRequested_) {
    closeRequested_ = false;
    CloseNow(true);
    deferred.Reject(CodedError(env, "libnbd-node: the handle was closed while connecting", "ERR_NBD_CLOSED").Value());
    UpdateHold();
    return;
  }
  if (ok) {
    deferred.Resolve(env.Undefined());
  } else {
    deferred.Reject(MakeError(env, error).Value());
  }
  AfterStateMachine();
}

// ---- negotiated properties ---------------------------------------------------------------------

Napi::Value Handle::GetSize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireIdleHandle(env);
  int64_t size = nbd_get_size(nbd_);
  if (size == -1) throw MakeError(env, LastNbdError());
  return Napi::Number::New(env, static_cast<double>(size));
}

Napi::Value Handle::GetBlockSize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireIdleHandle(env);
  uint64_t which;
  if (!ToUint64(info[0], &which) || which > LIBNBD_SIZE_MAXIMUM) {
    throw BadArguments(env, "getBlockSize(which: 0 | 1 | 2)");
  }
  int64_t size = nbd_get_block_size(nbd_, static_cast<int>(which));
  if (size == -1) throw MakeError(env, LastNbdError());
  return Napi::Number::New(env, static_cast<double>(size));
}

Napi::Value Handle::CanMetaContext(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireIdleHandle(env);
  if (!info[0].IsString()) throw BadArguments(env, "canMetaContext(name: string)");
  std::string name = info[0].As<Napi::String>();
  int result = nbd_can_meta_context(nbd_, name.c_str());
  if (result == -1) throw MakeError(env, LastNbdError());
  return Napi::Boolean::New(env, result == 1);
}

template <int (*Query)(struct nbd_handle*)>
Napi::Value Handle::BoolQuery(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireIdleHandle(env);
  int result = Query(nbd_);
  if (result == -1) throw MakeError(env, LastNbdError());
  return Napi::Boolean::New(env, result == 1);
}

Napi::Value Handle::AioInFlight(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireIdleHandle(env);
  int count = nbd_aio_in_flight(nbd_);
  if (count == -1) throw MakeError(env, LastNbdError());
  return Napi::Number::New(env, count);
}

// ---- I/O ---------------------------------------------------------------------------------------

// pread and pwrite: the same (buffer, offset, flags) request; the buffer stays referenced until it completes.
Napi::Value Handle::BufferCommand(const Napi::CallbackInfo& info, Op op, const char* usage,
                                  int64_t (*submit)(struct nbd_handle*, void*, size_t, uint64_t,
                                                    nbd_completion_callback, uint32_t)) {
  Napi::Env env = info.Env();
  Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
  if (!CheckSubmit(deferred)) return deferred.Promise();
  Napi::Uint8Array bytes;
  uint64_t offset;
  uint32_t flags;
  if (!ToBytes(info[0], &bytes) || !ToUint64(info[1], &offset) || !ToFlags(info[2], &flags)) {
    deferred.Reject(BadArguments(env, usage).Value());
    return deferred.Promise();
  }
  auto* request = new Request(this, op, deferred);
  request->buffer = Napi::Persistent(bytes.As<Napi::Object>());
  int64_t cookie = submit(nbd_, DataOf(bytes), bytes.ByteLength(), offset, CompletionFor(request), flags);
  Submitted(request, cookie);
  return deferred.Promise();
}

Napi::Value Handle::Pread(const Napi::CallbackInfo& info) {
  return BufferCommand(info, Op::Pread, "pread(buffer: Uint8Array, offset: number, flags?: number)",
                       [](struct nbd_handle* h, void* buf, size_t count, uint64_t offset, nbd_completion_callback done,
                          uint32_t flags) { return nbd_aio_pread(h, buf, count, offset, done, flags); });
}

Napi::Value Handle::Pwrite(const Napi::CallbackInfo& info) {
  return BufferCommand(info, Op::Pwrite, "pwrite(buffer: Uint8Array, offset: number, flags?: number)",
                       [](struct nbd_handle* h, void* buf, size_t count, uint64_t offset, nbd_completion_callback done,
                          uint32_t flags) { return nbd_aio_pwrite(h, buf, count, offset, done, flags); });
}

// zero and trim: the same (length, offset, flags) request with no data buffer.
Napi::Value Handle::RangeCommand(const Napi::CallbackInfo& info, Op op, const char* usage,
                                 int64_t (*submit)(struct nbd_handle*, uint64_t, uint64_t, nbd_completion_callback,
                                                   uint32_t)) {
  Napi::Env env = info.Env();
  Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
  if (!CheckSubmit(deferred)) return deferred.Promise();
  uint64_t length, offset;
  uint32_t flags;
  if (!ToUint64(info[0], &length) || !ToUint64(info[1], &offset) || !ToFlags(info[2], &flags)) {
    deferred.Reject(BadArguments(env, usage).Value());
    return deferred.Promise();
  }
  auto* request = new Request(this, op, deferred);
  int64_t cookie = submit(nbd_, length, offset, CompletionFor(request), flags);
  Submitted(request, cookie);
  return deferred.Promise();
}

Napi::Value Handle::Zero(const Napi::CallbackInfo& info) {
  return RangeCommand(info, Op::Zero, "zero(length: number, offset: number, flags?: number)", nbd_aio_zero);
}

Napi::Value Handle::Trim(const Napi::CallbackInfo& info) {
  return RangeCommand(info, Op::Trim, "trim(length: number, offset: number, flags?: number)", nbd_aio_trim);
}

Napi::Value Handle::Flush(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
  if (!CheckSubmit(deferred)) return deferred.Promise();
  uint32_t flags;
  if (!ToFlags(info[0], &flags)) {
    deferred.Reject(BadArguments(env, "flush(flags?: number)").Value());
    return deferred.Promise();
  }
  auto* request = new Request(this, Op::Flush, deferred);
  int64_t cookie = nbd_aio_flush(nbd_, CompletionFor(request), flags);
  Submitted(request, cookie);
  return deferred.Promise();
}

Napi::Value Handle::BlockStatus(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
  if (!CheckSubmit(deferred)) return deferred.Promise();
  uint64_t length, offset;
  uint32_t flags;
  if (!ToUint64(info[0], &length) || !ToUint64(info[1], &offset) || !info[2].IsFunction() ||
      !ToFlags(info[3], &flags)) {
    deferred.Reject(BadArguments(env,
                                 "blockStatus(length: number, offset: number, "
                                 "callback: function, flags?: number)")
                        .Value());
    return deferred.Promise();
  }
  auto* request = new Request(this, Op::BlockStatus, deferred);
  request->extentCallback = Napi::Persistent(info[2].As<Napi::Function>());
  nbd_extent_callback extents{OnExtents, request, nullptr};
  int64_t cookie = nbd_aio_block_status(nbd_, length, offset, extents, CompletionFor(request), flags);
  Submitted(request, cookie);
  return deferred.Promise();
}

void Handle::Submitted(Request* request, int64_t cookie) {
  if (cookie == -1) {
    // Read libnbd's thread-local error before anything else calls into libnbd.
    NbdError error = LastNbdError();
    RejectRequest(request, MakeError(Env(), error).Value());
  } else {
    pending_.insert(request);
  }
  AfterStateMachine();
}

// ---- events from libnbd ------------------------------------------------------------------------

void Handle::QueueCompletion(Request* request, int error) {
  if (state_ == State::Closed) return;
  request->AddRef();
  events_.push_back(Event{request, false, error, std::string(), 0, {}});
}

void Handle::QueueExtents(Request* request, const char* metaContext, uint64_t offset, const uint32_t* entries,
                          size_t count) {
  if (state_ == State::Closed) return;
  request->AddRef();
  events_.push_back(
      Event{request, true, 0, std::string(metaContext), offset, std::vector<uint32_t>(entries, entries + count)});
}

void Handle::AfterStateMachine() {
  Dispatch();
  CheckShutdownDone();
  UpdatePoll();
  UpdateHold();
}

// Delivers queued events in the order libnbd reported them. User code may call back into this
// handle (even close() it) from a block status callback, so the queue is re-read every time.
void Handle::Dispatch() {
  if (dispatching_) return;
  dispatching_ = true;
  Napi::Env env = Env();
  while (!events_.empty()) {
    Event event = std::move(events_.front());
    events_.pop_front();
    Request* request = event.request;
    if (!request->settled) {
      if (!event.isExtent) {
        Settle(request, event.error);
      } else if (request->callbackError.IsEmpty() && !request->extentCallback.IsEmpty()) {
        Napi::HandleScope scope(env);
        Napi::Array entries = Napi::Array::New(env, event.entries.size());
        for (size_t i = 0; i < event.entries.size(); i++) {
          entries.Set(static_cast<uint32_t>(i), Napi::Number::New(env, event.entries[i]));
        }
        try {
          request->extentCallback.Call({Napi::String::New(env, event.metaContext),
                                        Napi::Number::New(env, static_cast<double>(event.offset)), entries});
        } catch (const Napi::Error& error) {
          // Reported when the command completes, as the rejection of its Promise.
          request->callbackError = Napi::Reference<Napi::Value>::New(error.Value(), 1);
        }
      }
    }
    request->Unref();
  }
  dispatching_ = false;
}

void Handle::Settle(Request* request, int error) {
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  if (!request->callbackError.IsEmpty()) {
    RejectRequest(request, request->callbackError.Value());
    return;
  }
  if (error != 0) {
    RejectRequest(request, MakeCommandError(env, OpName(request->op), error).Value());
    return;
  }
  request->settled = true;
  pending_.erase(request);
  if (request->op == Op::Pread) {
    request->deferred.Resolve(request->buffer.Value());
  } else {
    request->deferred.Resolve(env.Undefined());
  }
  request->Unref();
}

void Handle::RejectRequest(Request* request, Napi::Value reason) {
  if (request->settled) return;
  request->settled = true;
  pending_.erase(request);
  request->deferred.Reject(reason);
  request->Unref();
}

// ---- shutdown and close --------------------------------------------------------------------------

Napi::Value Handle::Shutdown(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
  if (!CheckSubmit(deferred)) return deferred.Promise();
  // Only a connected handle can be shut down; let libnbd say why not otherwise.
  if (nbd_aio_is_ready(nbd_) != 1 && nbd_aio_is_processing(nbd_) != 1) {
    if (nbd_aio_disconnect(nbd_, 0) == -1) {
      NbdError error = LastNbdError();
      deferred.Reject(MakeError(env, error).Value());
    } else {
      deferred.Reject(MakeError(env, "shutdown: the handle is not connected", ENOTCONN).Value());
    }
    return deferred.Promise();
  }
  // New commands are refused from now on; NBD_CMD_DISC goes out once the replies to those
  // already in flight have arrived (servers may drop unanswered requests on disconnect).
  state_ = State::Disconnecting;
  disconnectSent_ = false;
  shutdownDeferred_ = std::make_unique<Napi::Promise::Deferred>(deferred);
  shutdownError_ = NbdError();
  AfterStateMachine();
  return deferred.Promise();
}

void Handle::CheckShutdownDone() {
  if (state_ != State::Disconnecting || nbd_ == nullptr) return;
  if (!disconnectSent_) {
    if (!pending_.empty()) return;
    disconnectSent_ = true;
    if (nbd_aio_disconnect(nbd_, 0) == -1) shutdownError_ = LastNbdError();
  }
  bool closed = nbd_aio_is_closed(nbd_) == 1;
  bool dead = nbd_aio_is_dead(nbd_) == 1;
  if (!closed && !dead && shutdownError_.message.empty()) return;
  state_ = State::Open;
  std::unique_ptr<Napi::Promise::Deferred> deferred = std::move(shutdownDeferred_);
  if (!deferred) return;
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  if (closed) {
    deferred->Resolve(env.Undefined());
  } else if (!shutdownError_.message.empty()) {
    deferred->Reject(MakeError(env, shutdownError_).Value());
  } else {
    deferred->Reject(MakeError(env, "shutdown: the connection died", ENOTCONN).Value());
  }
}

Napi::Value Handle::Close(const Napi::CallbackInfo& info) {
  CloseNow(true);
  return info.Env().Undefined();
}

// ---- the libuv side ----------------------------------------------------------------------------

void Handle::UpdatePoll() {
  bool connected = nbd_ != nullptr && (state_ == State::Open || state_ == State::Disconnecting) &&
                   (nbd_aio_is_ready(nbd_) == 1 || nbd_aio_is_processing(nbd_) == 1);
  int fd = connected ? nbd_aio_get_fd(nbd_) : -1;
  if (fd < 0) {
    ClosePoll();
    return;
  }
  if (poll_ != nullptr && fd != pollFd_) ClosePoll();
  if (poll_ == nullptr) {
    auto* poll = new uv_poll_t;
    if (uv_poll_init(loop_, poll, fd) != 0) {
      delete poll;
      return;
    }
    poll->data = this;
    poll_ = poll;
    pollFd_ = fd;
    pollEvents_ = 0;
  }
  // Always watch for reading (replies, or the server hanging up); for writing only while
  // libnbd has request bytes the socket did not take yet.
  unsigned direction = nbd_aio_get_direction(nbd_);
  int wanted = UV_READABLE | ((direction & LIBNBD_AIO_DIRECTION_WRITE) != 0 ? UV_WRITABLE : 0);
  if (wanted != pollEvents_) {
    uv_poll_start(poll_, wanted, &Handle::OnPoll);
    pollEvents_ = wanted;
  }
  // An idle connection must not keep the process alive.
  if (Busy()) {
    uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
  } else {
    uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
  }
}

void Handle::ClosePoll() {
  if (poll_ == nullptr) return;
  poll_->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(poll_),
           [](uv_handle_t* handle) { delete reinterpret_cast<uv_poll_t*>(handle); });
  poll_ = nullptr;
  pollFd_ = -1;
  pollEvents_ = 0;
}

void Handle::OnPoll(uv_poll_t* poll, int status, int events) {
  auto* self = static_cast<Handle*>(poll->data);
  if (self != nullptr) self->PollReady(status, events);
}

void Handle::PollReady(int status, int events) {
  Napi::Env env = Env();
  Napi::HandleScope scope(env);
  // Closing the callback scope runs Promise reactions and nextTick callbacks.
  Napi::CallbackScope callbackScope(env, AddonAsyncContext(env));
  // On a socket error (a server that reset the connection with replies still queued) libuv
  // reports the status and stops watching; UpdatePoll must start it again, since libnbd reads one
  // reply per notification and the rest (then the error) are still waiting to be read.
  if (status < 0) pollEvents_ = 0;
  try {
    if (nbd_ != nullptr && (state_ == State::Open || state_ == State::Disconnecting)) {
      int rc = 0;
      if (status < 0 || (events & UV_READABLE) != 0) rc = nbd_aio_notify_read(nbd_);
      if (rc != -1 && (events & UV_WRITABLE) != 0) rc = nbd_aio_notify_write(nbd_);
      if (rc == -1 && state_ == State::Disconnecting) shutdownError_ = LastNbdError();
    }
    AfterStateMachine();
  } catch (const Napi::Error& error) {
    napi_fatal_exception(env, error.Value());
  }
}

}  // namespace nbdnode
