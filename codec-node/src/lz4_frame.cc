// SPDX-License-Identifier: GPL-3.0-or-later
#include "lz4_frame.h"

#include <lz4frame.h>

#include <cstdlib>
#include <memory>

#include "lz4_sums.h"

namespace codecnode {

namespace {

constexpr const char* kCodeLz4 = "ERR_LZ4";        // liblz4 refused the frame
constexpr const char* kCodeSize = "ERR_LZ4_SIZE";  // frame decodes, but not to the expected size
constexpr const char* kCodeTrailing = "ERR_LZ4_TRAILING";
constexpr const char* kCodeNoMemory = "ERR_LZ4_NO_MEMORY";

Lz4Outcome Fail(const char* code, std::string message) {
  Lz4Outcome out;
  out.error = std::move(message);
  out.code = code;
  return out;
}

Lz4Outcome FailLz4(const char* what, size_t lz4Result) {
  return Fail(kCodeLz4, std::string(what) + ": " + LZ4F_getErrorName(lz4Result));
}

struct DctxDeleter {
  void operator()(LZ4F_dctx* dctx) const { LZ4F_freeDecompressionContext(dctx); }
};

LZ4F_preferences_t Preferences(size_t size, const Lz4CompressOptions& options) {
  LZ4F_preferences_t prefs = LZ4F_INIT_PREFERENCES;
  prefs.compressionLevel = options.level;
  prefs.frameInfo.blockChecksumFlag = options.blockChecksum ? LZ4F_blockChecksumEnabled : LZ4F_noBlockChecksum;
  prefs.frameInfo.contentChecksumFlag = options.contentChecksum ? LZ4F_contentChecksumEnabled : LZ4F_noContentChecksum;
  // 0 means "unknown" in the frame format, so an empty frame never records its size.
  prefs.frameInfo.contentSize = options.contentSize ? size : 0;
  return prefs;
}

// The outcome holding the first `used` bytes of a block of `capacity`. The slack of the worst-case bound
// (most of it for compressible data) is given back: shrinking with realloc keeps the bytes in place (mremap
// for large blocks), so no copy is made.
Lz4Outcome Trimmed(std::unique_ptr<uint8_t, FreeDeleter> block, size_t used, size_t capacity) {
  if (used < capacity) {
    if (auto* shrunk = static_cast<uint8_t*>(std::realloc(block.get(), used == 0 ? 1 : used))) {
      block.release();
      block.reset(shrunk);
    }
  }
  Lz4Outcome out;
  out.bytes.data = std::move(block);
  out.bytes.size = used;
  return out;
}

// Room every frame of `inputs` may need at most, together (liblz4's bounds for these options).
Lz4Outcome FramesBound(const std::vector<Lz4Input>& inputs, const Lz4CompressOptions& options, size_t* total) {
  *total = 0;
  for (const Lz4Input& input : inputs) {
    LZ4F_preferences_t prefs = Preferences(input.size, options);
    size_t bound = LZ4F_compressFrameBound(input.size, &prefs);
    if (LZ4F_isError(bound)) return FailLz4("lz4 compression bound", bound);
    *total += bound;
  }
  return Lz4Outcome{};
}

// One frame into `out` (room for liblz4's bound with these options); `*written` is its length. The content sum is
// libxxhash's (lz4_sums.h), both ways: liblz4's was a third of `-z`'s CPU on incompressible data and most of a
// restore's decoding (bench/results/experiments.md §18).
Lz4Outcome WriteFrame(const uint8_t* data, size_t size, uint8_t* out, size_t capacity,
                      const Lz4CompressOptions& options, size_t* written) {
  LZ4F_preferences_t prefs = Preferences(size, options);
  prefs.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum;  // added below, faster
  size_t n = LZ4F_compressFrame(out, capacity, data, size, &prefs);
  if (LZ4F_isError(n)) return FailLz4("lz4 compression failed", n);
  if (options.contentChecksum) {
    // The bound with the sum is 4 bytes more than the one liblz4 kept to.
    if (capacity - n < LZ4_SUMS_CONTENT_SUM_SIZE) return Fail(kCodeLz4, "no room for the lz4 frame's content checksum");
    lz4_sums_add_content_sum(out, &n, data, size);
  }
  *written = n;
  return Lz4Outcome{};
}

// Writes each input's frame right after the one before into `out`, which the caller made at least
// FramesBound() large; `*used` is their total.
Lz4Outcome WriteFrames(const std::vector<Lz4Input>& inputs, uint8_t* out, size_t capacity,
                       const Lz4CompressOptions& options, std::vector<size_t>* sizes, size_t* used) {
  *used = 0;
  sizes->clear();
  sizes->reserve(inputs.size());
  for (const Lz4Input& input : inputs) {
    size_t written = 0;
    Lz4Outcome frame = WriteFrame(input.data, input.size, out + *used, capacity - *used, options, &written);
    if (!frame.ok()) return frame;
    *used += written;
    sizes->push_back(written);
  }
  return Lz4Outcome{};
}

}  // namespace

Lz4Outcome CompressFrame(const uint8_t* data, size_t size, const Lz4CompressOptions& options) {
  LZ4F_preferences_t prefs = Preferences(size, options);
  size_t bound = LZ4F_compressFrameBound(size, &prefs);
  if (LZ4F_isError(bound)) return FailLz4("lz4 compression bound", bound);
  std::unique_ptr<uint8_t, FreeDeleter> frame(AllocateBlock(bound));
  if (!frame) return Fail(kCodeNoMemory, "cannot allocate " + std::to_string(bound) + " bytes for an lz4 frame");
  size_t written = 0;
  Lz4Outcome out = CompressFrameInto(data, size, frame.get(), bound, options, &written);
  if (!out.ok()) return out;
  return Trimmed(std::move(frame), written, bound);
}

size_t CompressFrameBound(size_t size, const Lz4CompressOptions& options) {
  LZ4F_preferences_t prefs = Preferences(size, options);
  size_t bound = LZ4F_compressFrameBound(size, &prefs);
  return LZ4F_isError(bound) ? 0 : bound;
}

Lz4Outcome CompressFrameInto(const uint8_t* data, size_t size, uint8_t* out, size_t capacity,
                             const Lz4CompressOptions& options, size_t* written) {
  LZ4F_preferences_t prefs = Preferences(size, options);
  size_t bound = LZ4F_compressFrameBound(size, &prefs);
  if (LZ4F_isError(bound)) return FailLz4("lz4 compression bound", bound);
  // liblz4 may need the whole bound even for a frame that turns out smaller: refuse before it writes.
  if (capacity < bound) {
    return Fail(kCodeLz4, "an lz4 frame of " + std::to_string(size) + " bytes needs room for " + std::to_string(bound) +
                              " bytes, the output holds " + std::to_string(capacity));
  }
  return WriteFrame(data, size, out, capacity, options, written);
}

Lz4Outcome CompressFrames(const std::vector<Lz4Input>& inputs, const Lz4CompressOptions& options,
                          std::vector<size_t>* sizes) {
  // Room for every frame's worst case; each frame is then written right after the one before.
  size_t total = 0;
  Lz4Outcome bound = FramesBound(inputs, options, &total);
  if (!bound.ok()) return bound;
  std::unique_ptr<uint8_t, FreeDeleter> block(AllocateBlock(total));
  if (!block) return Fail(kCodeNoMemory, "cannot allocate " + std::to_string(total) + " bytes for lz4 frames");
  size_t used = 0;
  Lz4Outcome out = WriteFrames(inputs, block.get(), total, options, sizes, &used);
  if (!out.ok()) return out;
  return Trimmed(std::move(block), used, total);
}

Lz4Outcome CompressFramesInto(const std::vector<Lz4Input>& inputs, uint8_t* out, size_t capacity,
                              const Lz4CompressOptions& options, std::vector<size_t>* sizes) {
  size_t total = 0;
  Lz4Outcome bound = FramesBound(inputs, options, &total);
  if (!bound.ok()) return bound;
  // Each frame gets its worst case: refuse before anything is written.
  if (capacity < total) {
    return Fail(kCodeLz4, "lz4 frames of " + std::to_string(inputs.size()) + " inputs need room for " +
                              std::to_string(total) + " bytes, the output holds " + std::to_string(capacity));
  }
  size_t used = 0;
  return WriteFrames(inputs, out, capacity, options, sizes, &used);
}

namespace {

// Decodes the frame into `out`; with `liblz4Checks` false liblz4 skips the block and content sums (lz4_sums_hold
// checks them). `*info` and `*header` describe the frame once its header is read.
Lz4Outcome Decode(const uint8_t* data, size_t size, uint8_t* out, size_t expectedSize, bool liblz4Checks,
                  LZ4F_frameInfo_t* info, size_t* header) {
  if (size == 0) return Fail(kCodeLz4, "no bytes, not an lz4 frame");
  LZ4F_dctx* rawDctx = nullptr;
  size_t created = LZ4F_createDecompressionContext(&rawDctx, LZ4F_VERSION);
  if (LZ4F_isError(created)) return FailLz4("lz4 decompression context", created);
  std::unique_ptr<LZ4F_dctx, DctxDeleter> dctx(rawDctx);

  // The header first: a frame that records a different size fails before anything is written.
  *info = LZ4F_INIT_FRAMEINFO;
  size_t consumed = size;
  size_t hint = LZ4F_getFrameInfo(dctx.get(), info, data, &consumed);
  if (LZ4F_isError(hint)) return FailLz4("not a valid lz4 frame header", hint);
  if (info->frameType != LZ4F_frame) return Fail(kCodeLz4, "a skippable lz4 frame, not a data frame");
  if (info->contentSize != 0 && info->contentSize != expectedSize) {
    return Fail(kCodeSize, "lz4 frame records a content size of " + std::to_string(info->contentSize) +
                               " bytes, expected " + std::to_string(expectedSize));
  }
  *header = consumed;

  size_t inPos = consumed;
  size_t outPos = 0;
  // Once `out` is full, decoding continues into this scratch space: any byte landing here means the
  // frame holds more than expected, while the end mark and content checksum produce nothing.
  uint8_t overflow[64];
  LZ4F_decompressOptions_t opts = {};
  opts.skipChecksums = liblz4Checks ? 0 : 1;
  for (;;) {
    bool full = outPos == expectedSize;
    uint8_t* dst = full ? overflow : out + outPos;
    size_t dstSize = full ? sizeof overflow : expectedSize - outPos;
    size_t srcSize = size - inPos;
    size_t result = LZ4F_decompress(dctx.get(), dst, &dstSize, data + inPos, &srcSize, &opts);
    if (LZ4F_isError(result)) return FailLz4("lz4 frame does not decompress", result);
    if (full && dstSize > 0) {
      return Fail(kCodeSize, "lz4 frame holds more than the expected " + std::to_string(expectedSize) + " bytes");
    }
    inPos += srcSize;
    outPos += full ? 0 : dstSize;
    if (result == 0) break;  // frame complete
    if (srcSize == 0 && dstSize == 0) {
      return Fail(kCodeLz4, "lz4 frame truncated: " + std::to_string(size) + " bytes end inside it");
    }
  }
  if (inPos != size) {
    return Fail(kCodeTrailing,
                std::to_string(size - inPos) + " byte(s) follow the lz4 frame of " + std::to_string(inPos) + " bytes");
  }
  if (outPos != expectedSize) {
    return Fail(kCodeSize, "lz4 frame decompresses to " + std::to_string(outPos) + " bytes, expected " +
                               std::to_string(expectedSize));
  }
  return Lz4Outcome{};
}

}  // namespace

Lz4Outcome DecompressFrameInto(const uint8_t* data, size_t size, uint8_t* out, size_t expectedSize) {
  LZ4F_frameInfo_t info = LZ4F_INIT_FRAMEINFO;
  size_t header = 0;
  Lz4Outcome fast = Decode(data, size, out, expectedSize, false, &info, &header);
  if (fast.ok() && lz4_sums_hold(data, size, header, info.blockChecksumFlag == LZ4F_blockChecksumEnabled,
                                 info.contentChecksumFlag == LZ4F_contentChecksumEnabled, out, expectedSize)) {
    return fast;
  }
  // Damaged, truncated, or not what was expected: liblz4, with its checks on, says what is wrong.
  return Decode(data, size, out, expectedSize, true, &info, &header);
}

Lz4Outcome DecompressFrame(const uint8_t* data, size_t size, size_t expectedSize) {
  std::unique_ptr<uint8_t, FreeDeleter> out(AllocateBlock(expectedSize));
  if (!out) return Fail(kCodeNoMemory, "cannot allocate " + std::to_string(expectedSize) + " bytes for lz4 output");
  Lz4Outcome result = DecompressFrameInto(data, size, out.get(), expectedSize);
  if (!result.ok()) return result;
  result.bytes.data = std::move(out);
  result.bytes.size = expectedSize;
  return result;
}

}  // namespace codecnode
