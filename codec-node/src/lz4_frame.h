// SPDX-License-Identifier: GPL-3.0-or-later
// One lz4 frame in, one out, through liblz4's frame API. Plain C++ (no N-API), so the same code runs
// on the libuv thread pool and on the main thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "owned_bytes.h"

namespace codecnode {

// Any int: liblz4 runs levels below 3 in its fast mode (negative = faster, "acceleration") and counts
// levels above 12 as 12 (Python's lz4.frame and the other tool accept up to 16).
constexpr int kMinLz4Level = -2147483647;
constexpr int kMaxLz4Level = 2147483647;

struct Lz4CompressOptions {
  int level = 0;
  bool blockChecksum = false;
  bool contentChecksum = false;
  bool contentSize = true;
};

// The result or why there is none. `code` is the Error's .code for JavaScript.
struct Lz4Outcome {
  OwnedBytes bytes;
  std::string error;
  const char* code = nullptr;
  bool ok() const { return error.empty(); }
};

// A complete frame holding `size` bytes, in a block of exactly the frame's length.
Lz4Outcome CompressFrame(const uint8_t* data, size_t size, const Lz4CompressOptions& options);

// Room a frame of `size` bytes may need at most (liblz4's bound for these options); 0 when liblz4 refuses.
size_t CompressFrameBound(size_t size, const Lz4CompressOptions& options);

// The frame CompressFrame makes, written into `out` (at least CompressFrameBound bytes): no allocation. On
// success `*written` is the frame's length.
Lz4Outcome CompressFrameInto(const uint8_t* data, size_t size, uint8_t* out, size_t capacity,
                             const Lz4CompressOptions& options, size_t* written);

// One frame per input, each exactly as CompressFrame makes it, back to back in one block of exactly their
// summed length; `sizes` receives each frame's length, in order.
struct Lz4Input {
  const uint8_t* data;
  size_t size;
};
Lz4Outcome CompressFrames(const std::vector<Lz4Input>& inputs, const Lz4CompressOptions& options,
                          std::vector<size_t>* sizes);

// CompressFrames into `out` (at least the summed CompressFrameBound of the inputs): no allocation. On success
// `sizes` receives each frame's length; the frames lie back to back from the start of `out`.
Lz4Outcome CompressFramesInto(const std::vector<Lz4Input>& inputs, uint8_t* out, size_t capacity,
                              const Lz4CompressOptions& options, std::vector<size_t>* sizes);

// The content of the single lz4 frame that is all of `data`; fails unless it is exactly
// `expectedSize` bytes, or when the frame is damaged (its checksums are verified) or followed by bytes.
Lz4Outcome DecompressFrame(const uint8_t* data, size_t size, size_t expectedSize);

// DecompressFrame into `out` (at least `expectedSize` bytes): no allocation; on failure `out` may hold part
// of the content.
Lz4Outcome DecompressFrameInto(const uint8_t* data, size_t size, uint8_t* out, size_t expectedSize);

}  // namespace codecnode
