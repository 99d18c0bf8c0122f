#include "digest.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

void ev_sha256(const void *p, size_t n, unsigned char out[EV_SHA256_LEN])
{
	unsigned int len = 0;
	EVP_Digest(p, n, out, &len, EVP_sha256(), NULL);
}

void ev_sha256_hex(const void *p, size_t n, char out[EV_SHA256_HEX_LEN + 1])
{
	unsigned char d[EV_SHA256_LEN];
	ev_sha256(p, n, d);
	ev_hex_encode(d, sizeof(d), out);
}

enum ev_err ev_sha256_stream_begin(struct ev_sha256_stream *s)
{
	s->bytes = 0;
	s->md = EVP_MD_CTX_new();
	if (!s->md)
		return EV_E_NOMEM;
	if (EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1) {
		ev_sha256_stream_cleanup(s);
		return EV_E_INTERNAL;
	}
	return EV_OK;
}

enum ev_err ev_sha256_stream_update(struct ev_sha256_stream *s, const void *p,
				    size_t n)
{
	if (!s->md)
		return EV_E_INVALID;
	if (n == 0)
		return EV_OK;
	if (EVP_DigestUpdate(s->md, p, n) != 1)
		return EV_E_INTERNAL;
	s->bytes += n;
	return EV_OK;
}

enum ev_err ev_sha256_stream_end(struct ev_sha256_stream *s,
				 unsigned char out[EV_SHA256_LEN])
{
	if (!s->md)
		return EV_E_INVALID;
	unsigned int len = 0;
	int ok = EVP_DigestFinal_ex(s->md, out, &len);
	ev_sha256_stream_cleanup(s);
	return ok == 1 && len == EV_SHA256_LEN ? EV_OK : EV_E_INTERNAL;
}

void ev_sha256_stream_cleanup(struct ev_sha256_stream *s)
{
	EVP_MD_CTX_free(s->md);
	s->md = NULL;
}

void ev_md5(const void *p, size_t n, unsigned char out[EV_MD5_LEN])
{
	unsigned int len = 0;
	EVP_Digest(p, n, out, &len, EVP_md5(), NULL);
}

enum ev_err ev_hmac_sha256(const void *key, size_t key_len, const void *msg,
			   size_t msg_len, unsigned char out[EV_SHA256_LEN])
{
	unsigned int len = 0;
	EV_ENSURE(key_len <= 0x7fffffff, EV_E_INTERNAL);
	if (!HMAC(EVP_sha256(), key, (int)key_len, msg, msg_len, out, &len))
		return EV_E_INTERNAL;
	EV_ENSURE(len == EV_SHA256_LEN, EV_E_INTERNAL);
	return EV_OK;
}

void ev_hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

enum ev_err ev_base64_encode(const void *in, size_t n, struct ev_buf *out)
{
	const unsigned char *p = in;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		char q[4] = {b64[(v >> 18) & 63], b64[(v >> 12) & 63],
			     i + 1 < n ? b64[(v >> 6) & 63] : '=',
			     i + 2 < n ? b64[v & 63] : '='};
		EV_TRY(ev_buf_append(out, q, 4));
	}
	return EV_OK;
}

static int b64_value(unsigned char c)
{
	const char *p = c ? strchr(b64, c) : NULL;
	return p ? (int)(p - b64) : -1;
}

enum ev_err ev_base64_decode(const char *in, size_t n, struct ev_buf *out)
{
	unsigned v = 0;
	int have = 0, pad = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
			continue;
		if (c == '=') {
			pad++;
			EV_ENSURE(pad <= 2, EV_E_MALFORMED);
			v <<= 6;
			have++;
		} else {
			int x = b64_value(c);
			EV_ENSURE(x >= 0 && pad == 0, EV_E_MALFORMED);
			v = (v << 6) | (unsigned)x;
			have++;
		}
		if (have == 4) {
			char bytes[3] = {(char)(v >> 16), (char)(v >> 8),
					 (char)v};
			EV_TRY(ev_buf_append(out, bytes, (size_t)(3 - pad)));
			v = 0;
			have = 0;
		}
	}
	EV_ENSURE(have == 0, EV_E_MALFORMED);
	return EV_OK;
}
