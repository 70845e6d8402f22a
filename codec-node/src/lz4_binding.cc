// SPDX-License-Identifier: GPL-3.0-or-later
#include "lz4_binding.h"

#include <functional>
#include <utility>
#include <vector>

#include "args.h"
#include "lz4_frame.h"

namespace codecnode {

namespace {

Napi::Error MakeLz4Error(Napi::Env env, const Lz4Outcome& outcome) {
  Napi::Error error = Napi::Error::New(env, "codec-node: " + outcome.error);
  error.Set("code", Napi::String::New(env, outcome.code));
  return error;
}

Napi::Value Settle(Napi::Env env, Lz4Outcome outcome) {
  if (!outcome.ok()) throw MakeLz4Error(env, outcome);
  return ToBuffer(env, std::move(outcome.bytes));
}

// Runs `job` on the thread pool and settles a Promise with its outcome. The input array stays
// referenced until then, so the bytes the job reads cannot be collected under it.
class Lz4Worker : public Napi::AsyncWorker {
 public:
  using Job = std::function<Lz4Outcome()>;

  Lz4Worker(Napi::Env env, const char* name, Napi::TypedArray input, Job job)
      : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)), job_(std::move(job)) {
    input_.Reset(input, 1);
  }

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override { outcome_ = job_(); }

  void OnOK() override {
    Napi::Env env = Env();
    input_.Reset();
    if (!outcome_.ok()) {
      deferred_.Reject(MakeLz4Error(env, outcome_).Value());
      return;
    }
    deferred_.Resolve(ToBuffer(env, std::move(outcome_.bytes)));
  }

  void OnError(const Napi::Error& error) override {
    input_.Reset();
    deferred_.Reject(error.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::Reference<Napi::TypedArray> input_;
  Job job_;
  Lz4Outcome outcome_;
};

Napi::Value Queue(Napi::Env env, const char* name, Napi::TypedArray input, Lz4Worker::Job job) {
  auto* worker = new Lz4Worker(env, name, input, std::move(job));  // deletes itself when done
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// lz4CompressFrames' job: its inputs stay referenced (in an array of its own) until it settles; resolves
// with { frames: one Buffer holding every frame, sizes: each frame's length }.
// With an output array (lz4CompressFramesInto, kept in `keep` too) the frames are written into it and the job
// resolves with the sizes alone.
class Lz4FramesWorker : public Napi::AsyncWorker {
 public:
  Lz4FramesWorker(Napi::Env env, Napi::Array keep, std::vector<Lz4Input> inputs, Lz4CompressOptions options,
                  bool into = false, uint8_t* out = nullptr, size_t capacity = 0)
      : Napi::AsyncWorker(env, "codec-node:lz4CompressFrames"),
        deferred_(Napi::Promise::Deferred::New(env)),
        inputs_(std::move(inputs)),
        options_(options),
        into_(into),
        out_(out),
        capacity_(capacity) {
    keep_.Reset(keep, 1);
  }

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    outcome_ = into_ ? CompressFramesInto(inputs_, out_, capacity_, options_, &sizes_)
                     : CompressFrames(inputs_, options_, &sizes_);
  }

  void OnOK() override {
    Napi::Env env = Env();
    keep_.Reset();
    if (!outcome_.ok()) {
      deferred_.Reject(MakeLz4Error(env, outcome_).Value());
      return;
    }
    Napi::Array sizes = Napi::Array::New(env, sizes_.size());
    for (size_t i = 0; i < sizes_.size(); i++)
      sizes.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(sizes_[i])));
    if (into_) {
      deferred_.Resolve(sizes);
      return;
    }
    Napi::Object result = Napi::Object::New(env);
    result.Set("frames", ToBuffer(env, std::move(outcome_.bytes)));
    result.Set("sizes", sizes);
    deferred_.Resolve(result);
  }

  void OnError(const Napi::Error& error) override {
    keep_.Reset();
    deferred_.Reject(error.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::Reference<Napi::Array> keep_;
  std::vector<Lz4Input> inputs_;
  Lz4CompressOptions options_;
  bool into_;
  uint8_t* out_;
  size_t capacity_;
  std::vector<size_t> sizes_;
  Lz4Outcome outcome_;
};

// The job of lz4CompressFrameInto and lz4DecompressFrameInto: input and output stay referenced until it settles;
// resolves with the byte count the job reports (the frame's length, the content's size).
class Lz4IntoWorker : public Napi::AsyncWorker {
 public:
  using Job = std::function<Lz4Outcome(size_t* count)>;

  Lz4IntoWorker(Napi::Env env, const char* name, Napi::TypedArray input, Napi::Uint8Array out, Job job)
      : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)), job_(std::move(job)) {
    input_.Reset(input, 1);
    output_.Reset(out, 1);
  }

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override { outcome_ = job_(&count_); }

  void OnOK() override {
    Napi::Env env = Env();
    input_.Reset();
    output_.Reset();
    if (!outcome_.ok()) {
      deferred_.Reject(MakeLz4Error(env, outcome_).Value());
      return;
    }
    deferred_.Resolve(Napi::Number::New(env, static_cast<double>(count_)));
  }

  void OnError(const Napi::Error& error) override {
    input_.Reset();
    output_.Reset();
    deferred_.Reject(error.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::Reference<Napi::TypedArray> input_;
  Napi::Reference<Napi::Uint8Array> output_;
  Job job_;
  size_t count_ = 0;
  Lz4Outcome outcome_;
};

Napi::Value QueueInto(Napi::Env env, const char* name, const ByteView& input, const ByteView& out,
                      Lz4IntoWorker::Job job) {
  // Deletes itself when done.
  auto* worker = new Lz4IntoWorker(env, name, input.array, out.array.As<Napi::Uint8Array>(), std::move(job));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace

Napi::Value Lz4CompressFrameInto(const Napi::CallbackInfo& info) {
  ByteView input = ByteViewArg(info, 0, "data");
  ByteView out = ByteViewArg(info, 1, "out");
  Lz4CompressOptions options = CompressOptionsArg(info, 2);
  const uint8_t* data = input.data;
  size_t size = input.size;
  uint8_t* dst = const_cast<uint8_t*>(out.data);
  size_t capacity = out.size;
  return QueueInto(info.Env(), "codec-node:lz4CompressFrameInto", input, out,
                   [=](size_t* written) { return CompressFrameInto(data, size, dst, capacity, options, written); });
}

Napi::Value Lz4CompressFrameBound(const Napi::CallbackInfo& info) {
  size_t size = SizeArg(info, 0, "size");
  Lz4CompressOptions options = CompressOptionsArg(info, 1);
  return Napi::Number::New(info.Env(), static_cast<double>(CompressFrameBound(size, options)));
}

namespace {

Napi::Value QueueFrames(const Napi::CallbackInfo& info, bool into) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray())
    throw Napi::TypeError::New(env, "codec-node: \"inputs\" must be an array of Buffers or Uint8Arrays");
  Napi::Array given = info[0].As<Napi::Array>();
  ByteView out;
  if (into) out = ByteViewArg(info, 1, "out");
  Lz4CompressOptions options = CompressOptionsArg(info, into ? 2 : 1);
  Napi::Array keep = Napi::Array::New(env, given.Length() + (into ? 1 : 0));
  if (into) keep.Set(given.Length(), out.array);
  std::vector<Lz4Input> inputs;
  inputs.reserve(given.Length());
  for (uint32_t i = 0; i < given.Length(); i++) {
    Napi::Value v = given.Get(i);
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      throw Napi::TypeError::New(env, "codec-node: \"inputs\" must be an array of Buffers or Uint8Arrays");
    }
    auto array = v.As<Napi::Uint8Array>();
    keep.Set(i, array);
    inputs.push_back(Lz4Input{array.Data(), array.ByteLength()});
  }
  // Deletes itself when done.
  auto* worker = new Lz4FramesWorker(env, keep, std::move(inputs), options, into,
                                     into ? const_cast<uint8_t*>(out.data) : nullptr, into ? out.size : 0);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace

Napi::Value Lz4CompressFrames(const Napi::CallbackInfo& info) { return QueueFrames(info, false); }

Napi::Value Lz4CompressFramesInto(const Napi::CallbackInfo& info) { return QueueFrames(info, true); }

Napi::Value Lz4CompressFrame(const Napi::CallbackInfo& info) {
  ByteView input = ByteViewArg(info, 0, "data");
  Lz4CompressOptions options = CompressOptionsArg(info, 1);
  const uint8_t* data = input.data;
  size_t size = input.size;
  return Queue(info.Env(), "codec-node:lz4CompressFrame", input.array,
               [data, size, options] { return CompressFrame(data, size, options); });
}

Napi::Value Lz4CompressFrameSync(const Napi::CallbackInfo& info) {
  ByteView input = ByteViewArg(info, 0, "data");
  Lz4CompressOptions options = CompressOptionsArg(info, 1);
  return Settle(info.Env(), CompressFrame(input.data, input.size, options));
}

Napi::Value Lz4DecompressFrame(const Napi::CallbackInfo& info) {
  ByteView input = ByteViewArg(info, 0, "data");
  size_t expectedSize = SizeArg(info, 1, "expectedSize");
  const uint8_t* data = input.data;
  size_t size = input.size;
  return Queue(info.Env(), "codec-node:lz4DecompressFrame", input.array,
               [data, size, expectedSize] { return DecompressFrame(data, size, expectedSize); });
}

Napi::Value Lz4DecompressFrameInto(const Napi::CallbackInfo& info) {
  ByteView input = ByteViewArg(info, 0, "data");
  ByteView out = ByteViewArg(info, 1, "out");
  size_t expectedSize = SizeArg(info, 2, "expectedSize");
  if (out.size < expectedSize) {
    throw Napi::RangeError::New(info.Env(), "codec-node: \"out\" holds " + std::to_string(out.size) +
                                                " bytes, the content needs " + std::to_string(expectedSize));
  }
  const uint8_t* data = input.data;
  size_t size = input.size;
  uint8_t* dst = const_cast<uint8_t*>(out.data);
  return QueueInto(info.Env(), "codec-node:lz4DecompressFrameInto", input, out, [=](size_t* count) {
    *count = expectedSize;
    return DecompressFrameInto(data, size, dst, expectedSize);
  });
}

Napi::Value Lz4DecompressFrameSync(const Napi::CallbackInfo& info) {
  ByteView input = ByteViewArg(info, 0, "data");
  size_t expectedSize = SizeArg(info, 1, "expectedSize");
  return Settle(info.Env(), DecompressFrame(input.data, input.size, expectedSize));
}

}  // namespace codecnode
