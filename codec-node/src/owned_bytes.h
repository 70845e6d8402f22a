// SPDX-License-Identifier: GPL-3.0-or-later
// Bytes in a malloc'd block, handed to JavaScript as a Buffer whose finalizer frees the block, so
// results made on the thread pool reach JS without a copy and without outliving their Buffer.
#pragma once

#include <napi.h>

#include <cstdint>
#include <cstdlib>
#include <memory>

namespace codecnode {

struct FreeDeleter {
  void operator()(uint8_t* p) const { std::free(p); }
};

struct OwnedBytes {
  std::unique_ptr<uint8_t, FreeDeleter> data;
  size_t size = 0;
};

// A block of `size` bytes (at least one) for a result, freed with std::free; NULL when out of memory.
uint8_t* AllocateBlock(size_t size);

// Gives the block to a new Buffer (its finalizer frees it); an empty result is a plain empty Buffer.
Napi::Buffer<uint8_t> ToBuffer(Napi::Env env, OwnedBytes bytes);

}  // namespace codecnode
