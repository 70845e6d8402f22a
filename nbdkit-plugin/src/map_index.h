// SPDX-License-Identifier: GPL-3.0-or-later
/* The map index: which bytes of which backup file hold each range of one disk at one restore point.
 * Written by the helper (helper/map/index-file.ts), mapped read-only here. All numbers are
 * little-endian uint64; layout in ../README.md. */
#ifndef MAP_INDEX_H
#define MAP_INDEX_H

#include <stddef.h>
#include <stdint.h>

#define MAP_INDEX_MAGIC "VNBDMAP1"
#define MAP_NO_FILE UINT64_MAX
#define MAP_FILE_LZ4 1
/* Largest lz4 frame a map may name: both tools write at most 32 MiB per frame. */
#define MAP_MAX_FRAME (64u * 1024 * 1024)

struct map_header {
  char magic[8];
  uint64_t disk_size;
  uint64_t file_count;
  uint64_t extent_count;
  uint64_t files_offset;
  uint64_t extents_offset;
  uint64_t strings_offset;
  uint64_t strings_length;
};

struct map_file {
  uint64_t path_offset; /* into the strings area, NUL-terminated */
  uint64_t flags;       /* MAP_FILE_LZ4 */
  uint64_t size;        /* what fstat must say, so the file read is the file indexed */
  uint64_t mtime_ns;
  uint64_t dev;
  uint64_t ino;
};

/* A window of one stored frame: the disk range [offset, offset + length) read from the frame that
 * holds [frame_offset, frame_offset + frame_length) of the disk (a plain data payload, or one lz4
 * frame), stored at file_offset in its file, stored_length bytes long. */
struct map_extent {
  uint64_t offset;
  uint64_t length;
  uint64_t file; /* index into the files, or MAP_NO_FILE: reads as zeroes */
  uint64_t file_offset;
  uint64_t stored_length; /* plain: frame_length; lz4: the compressed size */
  uint64_t frame_offset;
  uint64_t frame_length;
  uint64_t reserved;
};

struct map_index {
  const struct map_header *header;
  const struct map_file *files;
  const struct map_extent *extents;
  const char *strings;
  size_t size;
};

/* Checks every field of the index in `data` (size bytes) and fills `index`. Returns NULL when it is
 * sound, else a static message saying what is wrong. */
const char *map_index_check (const void *data, size_t size, struct map_index *index);

/* The extent that holds `offset` (which must be below the disk size). */
const struct map_extent *map_index_find (const struct map_index *index, uint64_t offset);

const char *map_index_path (const struct map_index *index, uint64_t file);

#endif
