// SPDX-License-Identifier: GPL-3.0-or-later
/* A small LRU of decompressed lz4 frames. A slot being filled is marked LOADING; readers of the same
 * frame wait for it instead of decompressing it again. A slot in use (refs > 0) is never evicted; when
 * every slot is busy the frame is decompressed into a private buffer. The frame's block and content
 * checksums are checked, and the size must be the one the index says: damage is an I/O error, never
 * wrong data. */
#include "frame_cache.h"
#include "lz4_decode.h"
#include "read_all.h"

#include <errno.h>
#include <inttypes.h>
#include <lz4frame.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nbdkit-plugin.h>

enum slot_state { SLOT_EMPTY, SLOT_LOADING, SLOT_READY };

struct slot {
  struct frame_key key;
  enum slot_state state;
  unsigned refs;
  uint64_t used; /* LRU clock */
  char *data;
  uint64_t capacity;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t loaded = PTHREAD_COND_INITIALIZER;
static struct slot *slots;
static unsigned slot_count;
static uint64_t clock_now;

int
frame_cache_init (unsigned count)
{
  slots = calloc (count, sizeof *slots);
  if (!slots && count) {
    nbdkit_error ("cannot allocate the frame cache");
    return -1;
  }
  slot_count = count;
  return 0;
}

void
frame_cache_free (void)
{
  for (unsigned i = 0; i < slot_count; i++)
    free (slots[i].data);
  free (slots);
  slots = NULL;
  slot_count = 0;
}

static int
same_key (const struct frame_key *a, const struct frame_key *b)
{
  return a->fd == b->fd && a->file_offset == b->file_offset;
}

/* Reads and decompresses one frame into `out` (frame_length bytes). */
static int
decompress (const struct frame_key *key, const char *file, char *out)
{
  /* Page-aligned: a read from the page cache into a buffer malloc placed 16 bytes past a boundary costs
   * several times the kernel's copy time on some CPUs (AMD EPYC here: ~6x). */
  char *stored = NULL;
  int ret = -1;

  if (posix_memalign ((void **) &stored, 4096, key->stored_length ? key->stored_length : 1) != 0) {
    nbdkit_error ("%s: cannot allocate %" PRIu64 " bytes for an lz4 frame", file, key->stored_length);
    errno = ENOMEM;
    return -1;
  }
  if (read_all (key->fd, stored, key->stored_length, key->file_offset) == -1) {
    nbdkit_error ("%s: cannot read the lz4 frame at byte %" PRIu64 ": %s", file, key->file_offset,
                  errno ? strerror (errno) : "file is shorter");
    errno = EIO;
    goto out;
  }
  struct lz4_decode_result r;
  lz4_decode_frame ((const uint8_t *) stored, key->stored_length, (uint8_t *) out, key->frame_length, &r);
  switch (r.status) {
  case LZ4_DECODE_OK:
    ret = 0;
    break;
  case LZ4_DECODE_NO_CONTEXT:
    nbdkit_error ("cannot create an lz4 decompression context");
    errno = ENOMEM;
    goto out;
  case LZ4_DECODE_BAD_HEADER:
  case LZ4_DECODE_CORRUPT:
    nbdkit_error ("%s: lz4 frame at byte %" PRIu64 " does not decompress: %s", file, key->file_offset,
                  LZ4F_getErrorName (r.lz4_error));
    break;
  default:
    nbdkit_error ("%s: lz4 frame at byte %" PRIu64 " does not hold the %" PRIu64 " bytes it should", file,
                  key->file_offset, key->frame_length);
  }
  if (ret == -1)
    errno = EIO;
out:
  free (stored);
  return ret;
}

/* Under the lock: the slot holding `key` (waiting while it loads), or a free slot claimed as LOADING
 * (*claimed = 1), or NULL when every slot is in use. */
static struct slot *
acquire (const struct frame_key *key, int *claimed)
{
  for (;;) {
    struct slot *victim = NULL, *hit = NULL;
    for (unsigned i = 0; i < slot_count; i++) {
      struct slot *s = &slots[i];
      if (s->state != SLOT_EMPTY && same_key (&s->key, key))
        hit = s;
      else if (s->refs == 0 && s->state != SLOT_LOADING && (!victim || s->used < victim->used))
        victim = s;
    }
    if (hit && hit->state == SLOT_LOADING) {
      pthread_cond_wait (&loaded, &lock);
      continue;
    }
    struct slot *s = hit ? hit : victim;
    if (!s)
      return NULL;
    *claimed = !hit;
    if (!hit) {
      s->key = *key;
      s->state = SLOT_LOADING;
    }
    s->refs++;
    s->used = ++clock_now;
    return s;
  }
}

int
frame_cache_read (const struct frame_key *key, const char *file, void *buf, uint64_t skip, uint32_t count)
{
  int claimed = 0;

  pthread_mutex_lock (&lock);
  struct slot *s = acquire (key, &claimed);
  pthread_mutex_unlock (&lock);

  if (!s) {
    char *data = malloc (key->frame_length);
    if (!data) {
      nbdkit_error ("%s: cannot allocate %" PRIu64 " bytes for an lz4 frame", file, key->frame_length);
      errno = ENOMEM;
      return -1;
    }
    int r = decompress (key, file, data);
    if (r == 0)
      memcpy (buf, data + skip, count);
    free (data);
    return r;
  }

  int r = 0;
  if (claimed) {
    if (s->capacity < key->frame_length) {
      free (s->data);
      s->capacity = 0;
      s->data = malloc (key->frame_length);
      if (s->data)
        s->capacity = key->frame_length;
    }
    r = s->data ? decompress (key, file, s->data) : -1;
    if (!s->data) {
      nbdkit_error ("%s: cannot allocate %" PRIu64 " bytes for an lz4 frame", file, key->frame_length);
      errno = ENOMEM;
    }
  }
  if (r == 0)
    memcpy (buf, s->data + skip, count);
  int saved = errno;

  pthread_mutex_lock (&lock);
  if (claimed) {
    /* A damaged frame is not kept: the next read tries (and fails) again. */
    s->state = r == 0 ? SLOT_READY : SLOT_EMPTY;
    pthread_cond_broadcast (&loaded);
  }
  s->refs--;
  pthread_mutex_unlock (&lock);
  errno = saved;
  return r;
}
