// SPDX-License-Identifier: GPL-3.0-or-later
#include "lz4_decode.h"

#include <lz4frame.h>
#include <string.h>

#include "lz4_sums.h"

/* One decoding pass; `*info` and `*header` describe the frame once its header is read. */
static void decode(const uint8_t *frame, size_t size, uint8_t *out, size_t expected, int liblz4_checks,
                   struct lz4_decode_result *r, LZ4F_frameInfo_t *info, size_t *header) {
  memset(r, 0, sizeof *r);
  if (size == 0) {
    r->status = LZ4_DECODE_EMPTY;
    return;
  }
  LZ4F_dctx *dctx = NULL;
  size_t created = LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION);
  if (LZ4F_isError(created)) {
    r->status = LZ4_DECODE_NO_CONTEXT;
    r->lz4_error = created;
    return;
  }
  /* The header first: a frame that records a different size fails before anything is written. */
  *info = (LZ4F_frameInfo_t)LZ4F_INIT_FRAMEINFO;
  size_t consumed = size;
  size_t hint = LZ4F_getFrameInfo(dctx, info, frame, &consumed);
  if (LZ4F_isError(hint)) {
    r->status = LZ4_DECODE_BAD_HEADER;
    r->lz4_error = hint;
  } else if (info->frameType != LZ4F_frame) {
    r->status = LZ4_DECODE_SKIPPABLE;
  } else if (info->contentSize != 0 && info->contentSize != expected) {
    r->status = LZ4_DECODE_OTHER_SIZE;
    r->recorded_size = info->contentSize;
  } else {
    *header = consumed;
    size_t in = consumed;
    size_t produced = 0;
    /* Once `out` is full, decoding goes on into this scratch space: any byte landing here means the frame holds
     * more than expected, while the end mark and the content sum produce nothing. */
    uint8_t overflow[64];
    LZ4F_decompressOptions_t options;
    memset(&options, 0, sizeof options);
    options.skipChecksums = !liblz4_checks;
    for (;;) {
      int full = produced == expected;
      uint8_t *dst = full ? overflow : out + produced;
      size_t dst_size = full ? sizeof overflow : expected - produced;
      size_t src_size = size - in;
      size_t step = LZ4F_decompress(dctx, dst, &dst_size, frame + in, &src_size, &options);
      if (LZ4F_isError(step)) {
        r->status = LZ4_DECODE_CORRUPT;
        r->lz4_error = step;
        break;
      }
      if (full && dst_size > 0) {
        r->status = LZ4_DECODE_TOO_LONG;
        break;
      }
      in += src_size;
      produced += full ? 0 : dst_size;
      if (step == 0) { /* the frame is complete */
        r->status = in != size ? LZ4_DECODE_TRAILING : produced != expected ? LZ4_DECODE_TOO_SHORT : LZ4_DECODE_OK;
        break;
      }
      if (src_size == 0 && dst_size == 0) {
        r->status = LZ4_DECODE_TRUNCATED;
        break;
      }
    }
    r->consumed = in;
    r->produced = produced;
  }
  LZ4F_freeDecompressionContext(dctx);
}

void lz4_decode_frame(const uint8_t *frame, size_t size, uint8_t *out, size_t expected,
                      struct lz4_decode_result *result) {
  LZ4F_frameInfo_t info;
  size_t header = 0;
  decode(frame, size, out, expected, 0, result, &info, &header);
  if (result->status == LZ4_DECODE_OK &&
      lz4_sums_hold(frame, size, header, info.blockChecksumFlag == LZ4F_blockChecksumEnabled,
                    info.contentChecksumFlag == LZ4F_contentChecksumEnabled, out, expected))
    return;
  /* Damaged, truncated, or not what was expected: liblz4, with its checks on, says what is wrong. */
  decode(frame, size, out, expected, 1, result, &info, &header);
}
