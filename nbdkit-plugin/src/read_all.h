// SPDX-License-Identifier: GPL-3.0-or-later
/* pread until `length` bytes are read. */
#ifndef READ_ALL_H
#define READ_ALL_H

#include <errno.h>
#include <stdint.h>
#include <unistd.h>

/* Returns 0, or -1 with errno set (0: the file ended first). */
static inline int
read_all (int fd, char *buf, uint64_t length, uint64_t offset)
{
  while (length > 0) {
    ssize_t got = pread (fd, buf, length, offset);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0) {
      if (got == 0)
        errno = 0;
      return -1;
    }
    buf += got;
    length -= got;
    offset += got;
  }
  return 0;
}

#endif
