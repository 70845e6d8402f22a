// SPDX-License-Identifier: GPL-3.0-or-later
/* Decompressed lz4 frames, shared by all connections: a sequential reader asks for many small pieces
 * of one frame (up to 32 MiB), which is decompressed once. */
#ifndef FRAME_CACHE_H
#define FRAME_CACHE_H

#include <stdint.h>

struct frame_key {
  int fd;
  uint64_t file_offset;
  uint64_t stored_length;
  uint64_t frame_length;
};

/* Sets up `slots` cache slots (memory is taken when a frame is first decompressed). */
int frame_cache_init (unsigned slots);
void frame_cache_free (void);

/* Copies `count` bytes at `skip` of the decompressed frame `key` into `buf`. Returns 0, or -1 with
 * nbdkit_error() said and errno set (EIO: the frame is damaged; the read fails, nothing is served). */
int frame_cache_read (const struct frame_key *key, const char *file, void *buf, uint64_t skip,
                      uint32_t count);

#endif
