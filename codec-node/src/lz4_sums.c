// SPDX-License-Identifier: GPL-3.0-or-later
#include "lz4_sums.h"

#include <xxhash.h>

enum {
  MAGIC_SIZE = 4,
  FLG_DICT_ID = 0x01,
  FLG_CONTENT_SUM = 0x04,
  FLG_BLOCK_SUM = 0x10,
  FLG_CONTENT_SIZE = 0x08,
  SUM_SIZE = 4,
};

static const uint32_t UNCOMPRESSED_BIT = 0x80000000u;

static uint32_t load_le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void store_le32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

/* Magic, descriptor (FLG, BD, the optional content size and dictionary id) and the header check byte. */
static size_t header_size(const uint8_t *frame) {
  uint8_t flg = frame[MAGIC_SIZE];
  return MAGIC_SIZE + 2 + ((flg & FLG_CONTENT_SIZE) ? 8 : 0) + ((flg & FLG_DICT_ID) ? 4 : 0) + 1;
}

/* Sets `flags` in the descriptor and its check byte, the second byte of the descriptor's sum. */
static void set_flags(uint8_t *frame, size_t header, uint8_t flags) {
  frame[MAGIC_SIZE] |= flags;
  frame[header - 1] = (uint8_t)(XXH32(frame + MAGIC_SIZE, header - MAGIC_SIZE - 1, 0) >> 8);
}

void lz4_sums_add_content_sum(uint8_t *frame, size_t *length, const uint8_t *content, size_t content_size) {
  set_flags(frame, header_size(frame), FLG_CONTENT_SUM);
  store_le32(frame + *length, XXH32(content, content_size, 0));
  *length += SUM_SIZE;
}

int lz4_sums_add_one_block_sums(uint8_t *frame, size_t *length, const uint8_t *content, size_t content_size) {
  size_t header = header_size(frame);
  uint32_t content_sum = XXH32(content, content_size, 0);
  size_t end_mark = header;
  if (*length < header + 4) return 0;
  uint32_t word = load_le32(frame + header);
  if (word != 0) {
    size_t stored = word & ~UNCOMPRESSED_BIT;
    end_mark = header + 4 + stored;
    if (*length < end_mark + 4 || load_le32(frame + end_mark) != 0) return 0; /* a second block */
    /* liblz4 stores a block as is only when compressing does not make it smaller: a copy of the content. */
    int as_is = (word & UNCOMPRESSED_BIT) && stored == content_size;
    store_le32(frame + end_mark, as_is ? content_sum : XXH32(frame + header + 4, stored, 0));
    end_mark += SUM_SIZE;
    store_le32(frame + end_mark, 0);
  }
  set_flags(frame, header, FLG_BLOCK_SUM | FLG_CONTENT_SUM);
  store_le32(frame + end_mark + 4, content_sum);
  *length = end_mark + 4 + SUM_SIZE;
  return 1;
}

int lz4_sums_hold(const uint8_t *frame, size_t size, size_t header, int block_sums, int content_sum,
                  const uint8_t *content, size_t content_size) {
  size_t block_tail = block_sums ? SUM_SIZE : 0;
  size_t at = header;
  if (at > size) return 0;
  for (;;) {
    if (size - at < 4) return 0;
    uint32_t word = load_le32(frame + at);
    at += 4;
    if (word == 0) break; /* the end mark */
    size_t stored = word & ~UNCOMPRESSED_BIT;
    if (size - at < stored + block_tail) return 0;
    if (block_sums && XXH32(frame + at, stored, 0) != load_le32(frame + at + stored)) return 0;
    at += stored + block_tail;
  }
  if (content_sum) {
    if (size - at < SUM_SIZE || XXH32(content, content_size, 0) != load_le32(frame + at)) return 0;
    at += SUM_SIZE;
  }
  return at == size;
}
