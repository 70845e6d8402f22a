// SPDX-License-Identifier: GPL-3.0-or-later
#include "lz4_frame.h"

#include <lz4frame.h>

#include <cstdlib>
#include <memory>

#include "lz4_decode.h"
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

LZ4F_preferences_t Preferences(size_t size, const Lz4CompressOptions& options) {
  LZ4F_preferences_t prefs = LZ4F_INIT_PREFERENCES;
  prefs.compressionLevel = options.level;
  prefs.frameInfo.blockChecksumFlag = options.blockChecksum ? LZ4F_blockChecksumEnabled : LZ4F_noBlockChecksum;
  prefs.frameInfo.contentChecksumFlag = options.contentChecksum ? LZ4F_contentChecksumEnabled : LZ4F_noContentChecksum;
  // 0 means "unknown" in the frame format, so an empty frame never records its size.
  prefs.frameInfo.contentSize = options.contentSize ? size : 0;
  return prefs;
}

// The largest block of a frame made with `prefs` (liblz4's default is 64 KiB).
size_t BlockSize(const LZ4F_preferences_t& prefs) {
  switch (prefs.frameInfo.blockSizeID) {
    case LZ4F_max256KB:
      return 256 * 1024;
    case LZ4F_max1MB:
      return 1024 * 1024;
    case LZ4F_max4MB:
      return 4 * 1024 * 1024;
    default:
      return 64 * 1024;
  }
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
  // A frame of one block gets both sums from us, in one pass when the block is stored as is (incompressible data:
  // a third less CPU per 64 KiB frame, bench/results/experiments.md §19).
  const bool oneBlock = options.blockChecksum && options.contentChecksum && size <= BlockSize(prefs);
  if (oneBlock) prefs.frameInfo.blockChecksumFlag = LZ4F_noBlockChecksum;
  size_t n = LZ4F_compressFrame(out, capacity, data, size, &prefs);
  if (LZ4F_isError(n)) return FailLz4("lz4 compression failed", n);
  if (oneBlock) {
    // The bound with both sums is 8 bytes more than the one liblz4 kept to.
    if (capacity - n < LZ4_SUMS_ONE_BLOCK_SUMS_SIZE) return Fail(kCodeLz4, "no room for the lz4 frame's checksums");
    if (!lz4_sums_add_one_block_sums(out, &n, data, size))
      return Fail(kCodeLz4, "liblz4 made more than one block of a frame that fits in one");
  } else if (options.contentChecksum) {
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

Lz4Outcome DecompressFrameInto(const uint8_t* data, size_t size, uint8_t* out, size_t expectedSize) {
  lz4_decode_result r;
  lz4_decode_frame(data, size, out, expectedSize, &r);
  const std::string expected = std::to_string(expectedSize);
  switch (r.status) {
    case LZ4_DECODE_OK:
      return Lz4Outcome{};
    case LZ4_DECODE_EMPTY:
      return Fail(kCodeLz4, "no bytes, not an lz4 frame");
    case LZ4_DECODE_NO_CONTEXT:
      return FailLz4("lz4 decompression context", r.lz4_error);
    case LZ4_DECODE_BAD_HEADER:
      return FailLz4("not a valid lz4 frame header", r.lz4_error);
    case LZ4_DECODE_SKIPPABLE:
      return Fail(kCodeLz4, "a skippable lz4 frame, not a data frame");
    case LZ4_DECODE_OTHER_SIZE:
      return Fail(kCodeSize, "lz4 frame records a content size of " + std::to_string(r.recorded_size) +
                                 " bytes, expected " + expected);
    case LZ4_DECODE_CORRUPT:
      return FailLz4("lz4 frame does not decompress", r.lz4_error);
    case LZ4_DECODE_TOO_LONG:
      return Fail(kCodeSize, "lz4 frame holds more than the expected " + expected + " bytes");
    case LZ4_DECODE_TRUNCATED:
      return Fail(kCodeLz4, "lz4 frame truncated: " + std::to_string(size) + " bytes end inside it");
    case LZ4_DECODE_TRAILING:
      return Fail(kCodeTrailing, std::to_string(size - r.consumed) + " byte(s) follow the lz4 frame of " +
                                     std::to_string(r.consumed) + " bytes");
    case LZ4_DECODE_TOO_SHORT:
      return Fail(kCodeSize,
                  "lz4 frame decompresses to " + std::to_string(r.produced) + " bytes, expected " + expected);
  }
  return Fail(kCodeLz4, "lz4 frame: unknown decoding outcome");
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
