/* Hashes, MACs and encodings on OpenSSL. Pure functions over caller memory. */
#ifndef EV_DIGEST_H
#define EV_DIGEST_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

#define EV_SHA256_LEN	  32
#define EV_SHA256_HEX_LEN 64
#define EV_MD5_LEN	  16

void ev_sha256(const void *p, size_t n, unsigned char out[EV_SHA256_LEN]);
/* Lower-case hex and a NUL. */
void ev_sha256_hex(const void *p, size_t n, char out[EV_SHA256_HEX_LEN + 1]);
void ev_md5(const void *p, size_t n, unsigned char out[EV_MD5_LEN]);
/* HMAC-SHA256; EV_E_INTERNAL if OpenSSL fails. Callers wipe key and out
 * when they are secrets. */
enum ev_err ev_hmac_sha256(const void *key, size_t key_len, const void *msg,
			   size_t msg_len,
			   unsigned char out[EV_SHA256_LEN]) EV_MUST_CHECK;

/* SHA-256 over data that arrives in pieces (a streamed object). Caller
 * storage: ev_sha256_stream_begin, _update any number of times, then _end
 * (which releases it) or _cleanup to abandon it. Cleanup is safe on a
 * zeroed or ended stream. Errors: EV_E_NOMEM, EV_E_INTERNAL (OpenSSL). */
struct ev_sha256_stream {
	void *md; /* EVP_MD_CTX *, owned */
	unsigned long long bytes;
};

enum ev_err ev_sha256_stream_begin(struct ev_sha256_stream *s) EV_MUST_CHECK;
enum ev_err ev_sha256_stream_update(struct ev_sha256_stream *s, const void *p,
				    size_t n) EV_MUST_CHECK;
enum ev_err
ev_sha256_stream_end(struct ev_sha256_stream *s,
		     unsigned char out[EV_SHA256_LEN]) EV_MUST_CHECK;
void ev_sha256_stream_cleanup(struct ev_sha256_stream *s);

/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void ev_hex_encode(const unsigned char *in, size_t n, char *out);

/* Standard base64 (with padding) appended to out. */
enum ev_err ev_base64_encode(const void *in, size_t n,
			     struct ev_buf *out) EV_MUST_CHECK;
/* Decodes standard base64 (padding required, whitespace ignored) appended to
 * out; EV_E_MALFORMED on any other byte. */
enum ev_err ev_base64_decode(const char *in, size_t n,
			     struct ev_buf *out) EV_MUST_CHECK;

#endif
