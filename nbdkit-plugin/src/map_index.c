// SPDX-License-Identifier: GPL-3.0-or-later
/* Checking and searching the map index: no I/O, so a damaged index is refused before serving. */
#include "map_index.h"

#include <string.h>

static int
range_ok (uint64_t offset, uint64_t count, uint64_t item, size_t size)
{
  return offset <= size && count <= (size - offset) / item;
}

static const char *
check_extent (const struct map_index *index, const struct map_extent *e, uint64_t expected)
{
  if (e->offset != expected || e->length == 0)
    return "extents do not cover the disk in order";
  if (e->length > index->header->disk_size - e->offset)
    return "an extent runs past the disk size";
  if (e->file == MAP_NO_FILE)
    return NULL;
  if (e->file >= index->header->file_count)
    return "an extent names a file that is not in the index";
  const struct map_file *f = &index->files[e->file];
  if (e->stored_length > f->size || e->file_offset > f->size - e->stored_length)
    return "an extent's bytes lie past the end of its file";
  if (e->offset < e->frame_offset || e->length > e->frame_length
      || e->offset - e->frame_offset > e->frame_length - e->length)
    return "an extent is not inside its frame";
  if (f->flags & MAP_FILE_LZ4) {
    if (e->frame_length > MAP_MAX_FRAME)
      return "an lz4 frame is larger than 64 MiB";
  }
  else if (e->stored_length != e->frame_length)
    return "a plain frame's stored length differs from its length";
  return NULL;
}

const char *
map_index_check (const void *data, size_t size, struct map_index *index)
{
  const char *base = data;

  if (size < sizeof (struct map_header))
    return "shorter than its header";
  index->header = data;
  index->size = size;
  const struct map_header *h = index->header;
  if (memcmp (h->magic, MAP_INDEX_MAGIC, 8) != 0)
    return "not a map index (bad magic)";
  if (h->disk_size == 0 || h->extent_count == 0)
    return "the disk is empty";
  if (!range_ok (h->files_offset, h->file_count, sizeof (struct map_file), size)
      || !range_ok (h->extents_offset, h->extent_count, sizeof (struct map_extent), size)
      || !range_ok (h->strings_offset, h->strings_length, 1, size))
    return "a table lies past the end of the index";
  if (h->files_offset % 8 || h->extents_offset % 8)
    return "a table is not aligned";
  if (h->strings_length == 0 || base[h->strings_offset + h->strings_length - 1] != '\0')
    return "the strings area does not end with a NUL";
  index->files = (const void *) (base + h->files_offset);
  index->extents = (const void *) (base + h->extents_offset);
  index->strings = base + h->strings_offset;

  for (uint64_t i = 0; i < h->file_count; i++)
    if (index->files[i].path_offset >= h->strings_length)
      return "a file's path lies outside the strings area";
  uint64_t next = 0;
  for (uint64_t i = 0; i < h->extent_count; i++) {
    const char *problem = check_extent (index, &index->extents[i], next);
    if (problem)
      return problem;
    next += index->extents[i].length;
  }
  if (next != h->disk_size)
    return "extents do not cover the whole disk";
  return NULL;
}

const struct map_extent *
map_index_find (const struct map_index *index, uint64_t offset)
{
  uint64_t lo = 0, hi = index->header->extent_count;

  /* The last extent starting at or before `offset`. */
  while (hi - lo > 1) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (index->extents[mid].offset <= offset)
      lo = mid;
    else
      hi = mid;
  }
  return &index->extents[lo];
}

const char *
map_index_path (const struct map_index *index, uint64_t file)
{
  return index->strings + index->files[file].path_offset;
}
