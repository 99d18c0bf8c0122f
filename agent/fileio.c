#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

enum ev_err ev_file_read(int dirfd, const char *path, bool nofollow,
			 struct ev_buf *out, mode_t *mode_out,
			 struct ev_error *err)
{
	/* O_NONBLOCK: opening a FIFO must not wait for a writer before the
	 * type check below refuses it. */
	int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	if (nofollow)
		flags |= O_NOFOLLOW;
	int fd = openat(dirfd, path, flags);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT || e == ENOTDIR)
			return ev_error_set(err, EV_E_NOT_FOUND,
					    "%s: no such file", path);
		return ev_error_set(err, EV_E_IO, "%s: cannot open: %s", path,
				    strerror(e));
	}
	enum ev_err rc = EV_OK;
	char chunk[16384];
	struct stat st;
	if (fstat(fd, &st) != 0) {
		rc = ev_error_set(err, EV_E_IO, "%s: cannot stat: %s", path,
				  strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = ev_error_set(err, EV_E_IO, "%s: not a regular file", path);
		goto out;
	}
	if (mode_out)
		*mode_out = st.st_mode;
	size_t room = out->limit >= out->len ? out->limit - out->len : 0;
	if (st.st_size < 0 || (unsigned long long)st.st_size > room) {
		rc = ev_error_set(err, EV_E_LIMIT, "%s: larger than %zu bytes",
				  path, room);
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = ev_error_set(err, EV_E_IO, "%s: cannot read: %s",
					  path, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		rc = ev_buf_append(out, chunk, (size_t)n);
		if (rc == EV_E_LIMIT) {
			ev_error_set(err, rc, "%s: larger than %zu bytes", path,
				     room);
			break;
		}
		if (rc != EV_OK) {
			ev_error_set(err, rc, "%s: out of memory", path);
			break;
		}
	}
out:
	if (out->secret)
		OPENSSL_cleanse(chunk, sizeof(chunk));
	close(fd);
	return rc;
}
