// SPDX-License-Identifier: GPL-3.0-or-later
/* nbdkit-virtnbdbackup-plugin: serves one disk of one restore point of a virtnbdbackup chain, read-only,
 * as a raw disk. The helper scans the chain and writes a map index (which file, frame and byte holds
 * each range of the disk: the newest file wins); this plugin maps the index, opens the files it names
 * and answers reads and block-status queries from them. It copies no data at start.
 *
 *   nbdkit -r --unix SOCKET nbdkit-virtnbdbackup-plugin.so index=FILE [cache=SLOTS]
 */
#define NBDKIT_API_VERSION 2
#include <nbdkit-plugin.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frame_cache.h"
#include "map_index.h"
#include "read_all.h"

#define THREAD_MODEL NBDKIT_THREAD_MODEL_PARALLEL

static char *index_path;
static unsigned cache_slots = 8;
static void *index_data;
static size_t index_size;
static struct map_index map;
static int *fds;
static uint64_t fd_count;

static void
vnbd_unload (void)
{
  for (uint64_t i = 0; i < fd_count; i++)
    if (fds[i] >= 0)
      close (fds[i]);
  free (fds);
  if (index_data)
    munmap (index_data, index_size);
  frame_cache_free ();
  free (index_path);
}

static int
vnbd_config (const char *key, const char *value)
{
  if (strcmp (key, "index") == 0) {
    free (index_path);
    index_path = nbdkit_absolute_path (value);
    return index_path ? 0 : -1;
  }
  if (strcmp (key, "cache") == 0)
    return nbdkit_parse_unsigned ("cache", value, &cache_slots);
  nbdkit_error ("unknown parameter '%s'", key);
  return -1;
}

static int
vnbd_config_complete (void)
{
  if (!index_path) {
    nbdkit_error ("the index parameter is required");
    return -1;
  }
  return 0;
}

static int
load_index (void)
{
  int fd = open (index_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  struct stat st;

  if (fd == -1 || fstat (fd, &st) == -1) {
    nbdkit_error ("%s: cannot open the map index: %m", index_path);
    if (fd >= 0)
      close (fd);
    return -1;
  }
  index_size = st.st_size;
  index_data = index_size ? mmap (NULL, index_size, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
  close (fd);
  if (index_data == MAP_FAILED) {
    index_data = NULL;
    nbdkit_error ("%s: cannot map the map index: %m", index_path);
    return -1;
  }
  const char *problem = map_index_check (index_data, index_size, &map);
  if (problem) {
    nbdkit_error ("%s: damaged map index: %s", index_path, problem);
    return -1;
  }
  return 0;
}

/* Opens each file and checks it is the one indexed (same inode, size and time): a file replaced or
 * changed since would serve other data. */
static int
open_files (void)
{
  fd_count = map.header->file_count;
  fds = calloc (fd_count ? fd_count : 1, sizeof *fds);
  if (!fds) {
    nbdkit_error ("cannot allocate the file table");
    return -1;
  }
  for (uint64_t i = 0; i < fd_count; i++)
    fds[i] = -1;
  for (uint64_t i = 0; i < fd_count; i++) {
    const struct map_file *f = &map.files[i];
    const char *file = map_index_path (&map, i);
    struct stat st;
    fds[i] = open (file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fds[i] == -1 || fstat (fds[i], &st) == -1) {
      nbdkit_error ("%s: cannot open: %m", file);
      return -1;
    }
    uint64_t mtime = (uint64_t) st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    if ((uint64_t) st.st_size != f->size || mtime != f->mtime_ns || (uint64_t) st.st_dev != f->dev
        || (uint64_t) st.st_ino != f->ino) {
      nbdkit_error ("%s: changed since it was indexed (size, time or inode differ): map the point again",
                    file);
      return -1;
    }
    posix_fadvise (fds[i], 0, 0, POSIX_FADV_SEQUENTIAL);
  }
  return 0;
}

static int
vnbd_get_ready (void)
{
  if (load_index () == -1 || open_files () == -1)
    return -1;
  return frame_cache_init (cache_slots);
}

static void *
vnbd_open (int readonly)
{
  static int handle;
  return &handle;
}

static int64_t
vnbd_get_size (void *handle)
{
  return map.header->disk_size;
}

static int
vnbd_can_multi_conn (void *handle)
{
  return 1;
}

static int
vnbd_can_extents (void *handle)
{
  return 1;
}

static int
vnbd_can_cache (void *handle)
{
  return NBDKIT_CACHE_EMULATE;
}

static int
read_plain (const struct map_extent *e, char *buf, uint64_t offset, uint32_t count)
{
  uint64_t at = e->file_offset + (offset - e->frame_offset);

  if (read_all (fds[e->file], buf, count, at) == -1) {
    nbdkit_error ("%s: cannot read %" PRIu32 " bytes at byte %" PRIu64 ": %s", map_index_path (&map, e->file),
                  count, at, errno ? strerror (errno) : "the file is shorter");
    errno = EIO;
    return -1;
  }
  return 0;
}

static int
vnbd_pread (void *handle, void *buf, uint32_t count, uint64_t offset, uint32_t flags)
{
  char *out = buf;

  while (count > 0) {
    const struct map_extent *e = map_index_find (&map, offset);
    uint64_t left = e->offset + e->length - offset;
    uint32_t n = left < count ? left : count;
    int r = 0;
    if (e->file == MAP_NO_FILE)
      memset (out, 0, n);
    else if (map.files[e->file].flags & MAP_FILE_LZ4) {
      struct frame_key key = { fds[e->file], e->file_offset, e->stored_length, e->frame_length };
      r = frame_cache_read (&key, map_index_path (&map, e->file), out, offset - e->frame_offset, n);
    }
    else
      r = read_plain (e, out, offset, n);
    if (r == -1)
      return -1;
    out += n;
    offset += n;
    count -= n;
  }
  return 0;
}

static int
vnbd_extents (void *handle, uint32_t count, uint64_t offset, uint32_t flags, struct nbdkit_extents *extents)
{
  uint64_t end = offset + count;

  while (offset < end) {
    const struct map_extent *e = map_index_find (&map, offset);
    uint64_t stop = e->offset + e->length;
    uint32_t type = e->file == MAP_NO_FILE ? NBDKIT_EXTENT_HOLE | NBDKIT_EXTENT_ZERO : 0;
    if (nbdkit_add_extent (extents, offset, (stop < end ? stop : end) - offset, type) == -1)
      return -1;
    if (flags & NBDKIT_FLAG_REQ_ONE)
      break;
    offset = stop;
  }
  return 0;
}

static struct nbdkit_plugin plugin = {
  .name = "virtnbdbackup",
  .longname = "virtnbdbackup restore point",
  .version = "1",
  .description = "Serves one disk of one restore point of a virtnbdbackup chain, read-only.",
  .unload = vnbd_unload,
  .config = vnbd_config,
  .config_complete = vnbd_config_complete,
  .config_help = "index=<FILE>   (required) the map index the helper wrote\n"
                 "cache=<N>      decompressed lz4 frames kept (default 8)",
  .magic_config_key = "index",
  .get_ready = vnbd_get_ready,
  .open = vnbd_open,
  .get_size = vnbd_get_size,
  .can_multi_conn = vnbd_can_multi_conn,
  .can_extents = vnbd_can_extents,
  .can_cache = vnbd_can_cache,
  .pread = vnbd_pread,
  .extents = vnbd_extents,
  .errno_is_preserved = 1,
};

NBDKIT_REGISTER_PLUGIN (plugin)
