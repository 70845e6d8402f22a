// SPDX-License-Identifier: GPL-3.0-or-later
// One NBD command in flight: its Promise, the JS values it must keep alive, and its queued events.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace nbdnode {

class Handle;

enum class Op { Pread, Pwrite, Zero, Trim, Flush, BlockStatus };

inline const char* OpName(Op op) {
  switch (op) {
    case Op::Pread:
      return "pread";
    case Op::Pwrite:
      return "pwrite";
    case Op::Zero:
      return "zero";
    case Op::Trim:
      return "trim";
    case Op::Flush:
      return "flush";
    case Op::BlockStatus:
      return "block_status";
  }
  return "command";
}

// Reference counted because three parties may outlive each other: libnbd (which owns the
// command until it calls the completion's free hook), the Handle's pending set (until the
// Promise is settled) and each queued event (until it is delivered to JS).
struct Request {
  Request(Handle* owner, Op op, Napi::Promise::Deferred deferred) : owner(owner), op(op), deferred(deferred) {}

  Handle* owner;
  Op op;
  Napi::Promise::Deferred deferred;
  // pread/pwrite: libnbd reads from or writes into this memory until the command is freed.
  Napi::Reference<Napi::Object> buffer;
  // blockStatus: the user's callback and the first exception it threw.
  Napi::FunctionReference extentCallback;
  Napi::Reference<Napi::Value> callbackError;
  bool settled = false;
  int refs = 2;  // libnbd's and the pending set's

  void AddRef() { ++refs; }
  void Unref() {
    if (--refs == 0) delete this;
  }
};

// Something libnbd reported from inside one of its calls; delivered to JS only after that call
// returned, so that user code never runs while libnbd holds the handle's lock.
struct Event {
  Request* request;
  bool isExtent;
  int error;  // completion: errno, 0 for success
  std::string metaContext;
  uint64_t offset;
  std::vector<uint32_t> entries;
};

}  // namespace nbdnode
