// SPDX-License-Identifier: GPL-3.0-or-later
/* The xxHash32 sums of an lz4 frame, computed with libxxhash instead of liblz4. liblz4 1.9.4 sums a frame's
 * content at ~1 GB/s on the project's test machine, libxxhash's XXH32 at ~7 GB/s: the same sums, so a frame is made
 * without its content sum and given it here (byte for byte liblz4's frame), and decoded with liblz4's checks off and
 * checked here. A frame of one block also gets its block sum here: stored as is (incompressible data), the block is
 * the content, and one pass gives both sums. Plain C: the codec addon and the nbdkit plugin both use it. */
#ifndef LZ4_SUMS_H
#define LZ4_SUMS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes a frame's content sum adds. */
#define LZ4_SUMS_CONTENT_SUM_SIZE 4

/* Makes the frame liblz4 wrote without a content sum (`*length` bytes, with room for 4 more) into the frame it
 * writes with one: the flag, the header's check byte, the sum of `content` after the end mark. */
void lz4_sums_add_content_sum(uint8_t *frame, size_t *length, const uint8_t *content, size_t content_size);

/* Bytes a frame's two sums add when it has one block: the block's sum and the content's. */
#define LZ4_SUMS_ONE_BLOCK_SUMS_SIZE 8

/* Makes the frame liblz4 wrote with neither sum (`*length` bytes, at most one block, with room for 8 more) into
 * the frame it writes with both: the flags, the header's check byte, the block's sum after it and the content's
 * after the end mark. A block stored as is holds the content itself, so its sum is the content's: one pass over
 * the bytes instead of liblz4's two. 0 (frame unchanged) when the frame has more than one block. */
int lz4_sums_add_one_block_sums(uint8_t *frame, size_t *length, const uint8_t *content, size_t content_size);

/* 1 when every block sum (over its stored bytes) and the content sum that the frame's flags announce match, and
 * the blocks walk exactly to the frame's end; 0 otherwise. `header` is the frame header's length (as
 * LZ4F_getFrameInfo consumed it), `content` what the frame decoded to. */
int lz4_sums_hold(const uint8_t *frame, size_t size, size_t header, int block_sums, int content_sum,
                  const uint8_t *content, size_t content_size);

#ifdef __cplusplus
}
#endif

#endif
