/* Reading a whole small file the way every untrusted file is read: a
 * regular file only, bounded, wiped when the buffer is secret. */
#ifndef EV_FILEIO_H
#define EV_FILEIO_H

#include <stdbool.h>
#include <sys/types.h>

#include "buf.h"
#include "err.h"

/* Appends the whole file `path` (relative to dirfd; AT_FDCWD for a plain
 * path) to out, whose limit bounds it and whose secret flag decides
 * wiping (the read chunk is wiped too). A FIFO or device is refused
 * without blocking; nofollow refuses a symbolic link as the last
 * component. *mode_out (if given) receives the file's mode, for callers
 * that check permissions. Messages name the path, never the content.
 * Errors: EV_E_NOT_FOUND (no such file), EV_E_IO (cannot open or read, not
 * a regular file), EV_E_LIMIT (larger than out's limit, checked before and
 * while reading since the file may grow), EV_E_NOMEM. On error out keeps
 * what it had before plus, possibly, part of the file. */
enum ev_err ev_file_read(int dirfd, const char *path, bool nofollow,
			 struct ev_buf *out, mode_t *mode_out,
			 struct ev_error *err) EV_MUST_CHECK;

#endif
