// SPDX-License-Identifier: GPL-3.0-or-later
#include "owned_bytes.h"

#include <sys/mman.h>

namespace codecnode {

namespace {

constexpr size_t kHugePage = 2 * 1024 * 1024;
constexpr size_t kHugeMinimum = 8 * 1024 * 1024;

}  // namespace

// Results of 32 MiB chunks are fresh mappings every time (glibc mmaps blocks that large and unmaps
// them on free), and faulting them in 4 KiB pages cost ~30 % of lz4's time on the test machine. Asking
// for transparent huge pages (effective when THP is "always" or "madvise", a no-op with "never") makes
// that 16 faults per 32 MiB instead of 8192: compression with 2 in flight went from ~1.0 to ~1.35 GB/s.
uint8_t* AllocateBlock(size_t size) {
  if (size < kHugeMinimum) return static_cast<uint8_t*>(std::malloc(size == 0 ? 1 : size));
  void* block = nullptr;
  if (posix_memalign(&block, kHugePage, size) != 0) return nullptr;
  madvise(block, size & ~(kHugePage - 1), MADV_HUGEPAGE);  // advice only: failure changes nothing
  return static_cast<uint8_t*>(block);
}

Napi::Buffer<uint8_t> ToBuffer(Napi::Env env, OwnedBytes bytes) {
  if (bytes.size == 0) return Napi::Buffer<uint8_t>::New(env, 0);
  // V8 must know about memory it does not allocate, or it sees no reason to collect the Buffers that
  // hold it: a backup's dead 8 MiB results then pile up by the hundred MiB before a GC happens.
  const int64_t size = static_cast<int64_t>(bytes.size);
  Napi::MemoryManagement::AdjustExternalMemory(env, size);
  // NewOrCopy: where external buffers are not allowed it copies and runs the finalizer at once.
  auto buffer = Napi::Buffer<uint8_t>::NewOrCopy(
      env, bytes.data.get(), bytes.size,
      [](Napi::Env env, uint8_t* block, int64_t* accounted) {
        Napi::MemoryManagement::AdjustExternalMemory(env, -*accounted);
        delete accounted;
        std::free(block);
      },
      new int64_t(size));
  bytes.data.release();  // the Buffer owns it now
  return buffer;
}

}  // namespace codecnode
