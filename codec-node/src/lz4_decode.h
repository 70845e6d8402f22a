// SPDX-License-Identifier: GPL-3.0-or-later
/* Decoding one whole lz4 frame, held in memory, into a buffer of the size its content must have. liblz4 decodes
 * with its own checks off and the frame's sums are checked by lz4_sums_hold (libxxhash, several times faster); a
 * frame that fails anything is decoded again with liblz4's checks on, so that liblz4 names what is wrong. Plain C:
 * the codec addon (restore, verify) and the nbdkit plugin (the map) decode the same way. */
#ifndef LZ4_DECODE_H
#define LZ4_DECODE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum lz4_decode_status {
  LZ4_DECODE_OK = 0,
  LZ4_DECODE_EMPTY,      /* no bytes at all */
  LZ4_DECODE_NO_CONTEXT, /* liblz4 made no decompression context (`lz4_error`) */
  LZ4_DECODE_BAD_HEADER, /* liblz4 refused the frame's header (`lz4_error`) */
  LZ4_DECODE_SKIPPABLE,  /* a skippable frame, not a data frame */
  LZ4_DECODE_OTHER_SIZE, /* the header records a content size (`recorded_size`) other than the expected one */
  LZ4_DECODE_CORRUPT,    /* liblz4 refused the frame's blocks or sums (`lz4_error`) */
  LZ4_DECODE_TOO_LONG,   /* the content is longer than expected */
  LZ4_DECODE_TRUNCATED,  /* the bytes end inside the frame */
  LZ4_DECODE_TRAILING,   /* bytes follow the frame, which ends after `consumed` bytes */
  LZ4_DECODE_TOO_SHORT,  /* the content is `produced` bytes, fewer than expected */
};

struct lz4_decode_result {
  enum lz4_decode_status status;
  size_t lz4_error; /* liblz4's error code (LZ4F_getErrorName names it) */
  uint64_t recorded_size;
  size_t consumed;
  size_t produced;
};

/* Decodes the frame of `size` bytes into `out`, which must receive exactly `expected` bytes. `out` may hold
 * anything when the status is not LZ4_DECODE_OK. */
void lz4_decode_frame(const uint8_t *frame, size_t size, uint8_t *out, size_t expected,
                      struct lz4_decode_result *result);

#ifdef __cplusplus
}
#endif

#endif
