// SPDX-License-Identifier: GPL-3.0-or-later
// fileio-node: what Node's fs lacks for streaming big checksummed files to disk: a positioned write
// that sums adler32 of its bytes in the same thread-pool job (the bytes are summed while hot in that
// core's cache, and the main thread stays free), and sync_file_range(2) / posix_fadvise(2) to write
// behind the writer without filling the page cache. All run on the libuv thread pool. Also flock(2),
// non-blocking, for locks the kernel releases when their process dies, however it dies.
#include <fcntl.h>
#include <libdeflate.h>
#include <napi.h>
#include <sys/file.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace fileionode {

namespace {

int64_t IntegerArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  Napi::Value value = info[index];
  if (!value.IsNumber()) {
    throw Napi::TypeError::New(info.Env(), std::string("fileio-node: \"") + name + "\" must be a number");
  }
  double number = value.As<Napi::Number>().DoubleValue();
  if (number < 0 || number > 9007199254740991.0 || number != static_cast<double>(static_cast<int64_t>(number))) {
    throw Napi::RangeError::New(info.Env(),
                                std::string("fileio-node: \"") + name + "\" must be a non-negative integer");
  }
  return static_cast<int64_t>(number);
}

std::string ErrnoName(int err) {
  const char* name = strerrorname_np(err);
  return name ? name : "E" + std::to_string(err);
}

Napi::Error ErrnoError(Napi::Env env, const char* syscall, int err) {
  Napi::Error error = Napi::Error::New(env, std::string(syscall) + ": " + std::strerror(err));
  error.Set("errno", Napi::Number::New(env, -err));
  error.Set("code", Napi::String::New(env, ErrnoName(err)));
  error.Set("syscall", Napi::String::New(env, syscall));
  return error;
}

// Runs one system call on the thread pool and settles a Promise with its outcome (errno as `code`,
// the name Node gives it, e.g. 'EIO').
class SyscallWorker : public Napi::AsyncWorker {
 public:
  using Call = int (*)(int fd, int64_t offset, int64_t length, unsigned flags);

  SyscallWorker(Napi::Env env, const char* name, Call call, int fd, int64_t offset, int64_t length, unsigned flags)
      : Napi::AsyncWorker(env, name),
        deferred_(Napi::Promise::Deferred::New(env)),
        name_(name),
        call_(call),
        fd_(fd),
        offset_(offset),
        length_(length),
        flags_(flags) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override { errno_ = call_(fd_, offset_, length_, flags_); }

  void OnOK() override {
    Napi::Env env = Env();
    if (errno_ == 0) {
      deferred_.Resolve(env.Undefined());
      return;
    }
    deferred_.Reject(ErrnoError(env, name_, errno_).Value());
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  const char* name_;
  Call call_;
  int fd_;
  int64_t offset_;
  int64_t length_;
  unsigned flags_;
  int errno_ = 0;
};

int CallSyncFileRange(int fd, int64_t offset, int64_t length, unsigned flags) {
  return sync_file_range(fd, offset, length, flags) == 0 ? 0 : errno;
}

int CallFadvise(int fd, int64_t offset, int64_t length, unsigned advice) {
  return posix_fadvise(fd, offset, length, static_cast<int>(advice));  // returns the error, not -1
}

Napi::Value Queue(const Napi::CallbackInfo& info, const char* name, SyscallWorker::Call call) {
  Napi::Env env = info.Env();
  int64_t fd = IntegerArg(info, 0, "fd");
  int64_t offset = IntegerArg(info, 1, "offset");
  int64_t length = IntegerArg(info, 2, "length");
  int64_t flags = IntegerArg(info, 3, "flags");
  if (fd > INT32_MAX || flags > UINT32_MAX) throw Napi::RangeError::New(env, "fileio-node: fd or flags out of range");
  auto* worker = new SyscallWorker(env, name, call, static_cast<int>(fd), offset, length, static_cast<unsigned>(flags));
  Napi::Promise promise = worker->Promise();
  worker->Queue();  // deletes itself when done
  return promise;
}

// Sums, then writes every byte (continuing short writes); the buffers stay referenced until it settles.
class WriteSummedWorker : public Napi::AsyncWorker {
 public:
  WriteSummedWorker(Napi::Env env, Napi::Array buffers, int fd, int64_t position, uint32_t seed)
      : Napi::AsyncWorker(env, "fileio-node:writeSummed"),
        deferred_(Napi::Promise::Deferred::New(env)),
        fd_(fd),
        position_(position),
        sum_(seed) {
    buffers_.Reset(buffers, 1);
    for (uint32_t i = 0; i < buffers.Length(); i++) {
      Napi::Value v = buffers.Get(i);
      if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
        throw Napi::TypeError::New(env, "fileio-node: \"buffers\" must be an array of Buffers or Uint8Arrays");
      }
      auto bytes = v.As<Napi::Uint8Array>();
      if (bytes.ByteLength() > 0) pieces_.push_back(iovec{bytes.Data(), bytes.ByteLength()});
    }
  }

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    for (const iovec& piece : pieces_) {
      sum_ = static_cast<uint32_t>(libdeflate_adler32(sum_, piece.iov_base, piece.iov_len));
    }
    size_t first = 0;
    off_t at = position_;
    while (first < pieces_.size()) {
      size_t count = std::min<size_t>(pieces_.size() - first, IOV_MAX);
      ssize_t done = pwritev(fd_, &pieces_[first], static_cast<int>(count), at);
      if (done < 0) {
        if (errno == EINTR) continue;
        errno_ = errno;
        return;
      }
      if (done == 0) {
        errno_ = EIO;  // no progress: never loop forever
        return;
      }
      at += done;
      // Drop what was written from the front of the list.
      size_t left = static_cast<size_t>(done);
      while (first < pieces_.size() && left >= pieces_[first].iov_len) left -= pieces_[first++].iov_len;
      if (left > 0) {
        pieces_[first].iov_base = static_cast<uint8_t*>(pieces_[first].iov_base) + left;
        pieces_[first].iov_len -= left;
      }
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    buffers_.Reset();
    if (errno_ != 0) {
      deferred_.Reject(ErrnoError(env, "pwritev", errno_).Value());
      return;
    }
    deferred_.Resolve(Napi::Number::New(env, static_cast<double>(sum_)));
  }

  void OnError(const Napi::Error& error) override {
    buffers_.Reset();
    deferred_.Reject(error.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::Reference<Napi::Array> buffers_;
  std::vector<iovec> pieces_;
  int fd_;
  off_t position_;
  uint32_t sum_;
  int errno_ = 0;
};

Napi::Value WriteSummed(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t fd = IntegerArg(info, 0, "fd");
  if (!info[1].IsArray()) throw Napi::TypeError::New(env, "fileio-node: \"buffers\" must be an array");
  int64_t position = IntegerArg(info, 2, "position");
  int64_t seed = IntegerArg(info, 3, "seed");
  if (fd > INT32_MAX || seed > UINT32_MAX) throw Napi::RangeError::New(env, "fileio-node: fd or seed out of range");
  auto* worker = new WriteSummedWorker(env, info[1].As<Napi::Array>(), static_cast<int>(fd), position,
                                       static_cast<uint32_t>(seed));
  Napi::Promise promise = worker->Promise();
  worker->Queue();  // deletes itself when done
  return promise;
}

// flock(fd, LOCK_EX | LOCK_NB), LOCK_SH | LOCK_NB ("shared") or LOCK_UN (false): never blocks, so it runs on
// the calling thread. true: taken (or released), false: another open file description holds it in a way that
// excludes this one; any other failure throws errno's code.
Napi::Value TryLock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t fd = IntegerArg(info, 0, "fd");
  if (fd > INT32_MAX) throw Napi::RangeError::New(env, "fileio-node: fd out of range");
  int operation;
  if (info[1].IsBoolean())
    operation = info[1].As<Napi::Boolean>().Value() ? (LOCK_EX | LOCK_NB) : LOCK_UN;
  else if (info[1].IsString() && info[1].As<Napi::String>().Utf8Value() == "shared")
    operation = LOCK_SH | LOCK_NB;
  else
    throw Napi::TypeError::New(env, "fileio-node: \"lock\" must be a boolean or \"shared\"");
  int result;
  do {
    result = flock(static_cast<int>(fd), operation);
  } while (result != 0 && errno == EINTR);
  if (result == 0) return Napi::Boolean::New(env, true);
  if (errno == EWOULDBLOCK) return Napi::Boolean::New(env, false);
  throw ErrnoError(env, "flock", errno);
}

// How many bytes from the start of a Uint8Array's bytes to the next address that is a multiple of
// `alignment` (a power of two); 0 when it starts on one. Backing stores do not move, so the answer holds.
Napi::Value BytesToAlignment(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(env, "fileio-node: \"view\" must be a Uint8Array");
  int64_t alignment = IntegerArg(info, 1, "alignment");
  if (alignment == 0 || (alignment & (alignment - 1)) != 0)
    throw Napi::RangeError::New(env, "fileio-node: \"alignment\" must be a power of two");
  auto address = reinterpret_cast<uintptr_t>(info[0].As<Napi::Uint8Array>().Data());
  auto align = static_cast<uintptr_t>(alignment);
  return Napi::Number::New(env, static_cast<double>((align - address % align) % align));
}

Napi::Value SyncFileRange(const Napi::CallbackInfo& info) { return Queue(info, "sync_file_range", CallSyncFileRange); }

Napi::Value Fadvise(const Napi::CallbackInfo& info) { return Queue(info, "posix_fadvise", CallFadvise); }

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("writeSummed", Napi::Function::New(env, WriteSummed, "writeSummed"));
  exports.Set("syncFileRange", Napi::Function::New(env, SyncFileRange, "syncFileRange"));
  exports.Set("fadvise", Napi::Function::New(env, Fadvise, "fadvise"));
  exports.Set("tryLock", Napi::Function::New(env, TryLock, "tryLock"));
  exports.Set("bytesToAlignment", Napi::Function::New(env, BytesToAlignment, "bytesToAlignment"));

  Napi::Object constants = Napi::Object::New(env);
  constants.Set("SYNC_FILE_RANGE_WAIT_BEFORE", Napi::Number::New(env, SYNC_FILE_RANGE_WAIT_BEFORE));
  constants.Set("SYNC_FILE_RANGE_WRITE", Napi::Number::New(env, SYNC_FILE_RANGE_WRITE));
  constants.Set("SYNC_FILE_RANGE_WAIT_AFTER", Napi::Number::New(env, SYNC_FILE_RANGE_WAIT_AFTER));
  constants.Set("POSIX_FADV_NORMAL", Napi::Number::New(env, POSIX_FADV_NORMAL));
  constants.Set("POSIX_FADV_SEQUENTIAL", Napi::Number::New(env, POSIX_FADV_SEQUENTIAL));
  constants.Set("POSIX_FADV_WILLNEED", Napi::Number::New(env, POSIX_FADV_WILLNEED));
  constants.Set("POSIX_FADV_DONTNEED", Napi::Number::New(env, POSIX_FADV_DONTNEED));
  exports.Set("constants", constants);
  return exports;
}

}  // namespace fileionode

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return fileionode::Init(env, exports); }

NODE_API_MODULE(fileio_binding, InitModule)
