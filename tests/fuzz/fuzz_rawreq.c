/* libFuzzer target: the raw request parser of `evident sign`, and the
 * signer on whatever parses. Signing options are drawn from a checksum of
 * the input, so the bytes the parser sees are the input unchanged. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "rawreq.h"
#include "sigv4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct ev_sigv4_credentials creds = {
    "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQ"};

/* Shared across inputs on purpose: cache hits and evictions get fuzzed
 * too. */
static struct ev_sigv4_cache cache;
static int cache_ready;

static void sign(const struct ev_rawreq *req, unsigned flags)
{
	struct ev_sigv4_header headers[EV_LIMIT_SIGV4_HEADERS];
	for (size_t i = 0; i < req->n_headers; i++)
		headers[i] = (struct ev_sigv4_header){req->headers[i].name,
						      req->headers[i].value};
	static const char *const services[] = {"s3", "service", "iam", "sts"};
	const struct ev_sigv4_request sreq = {
	    .method = req->method,
	    .path = req->path,
	    .query = req->query,
	    .headers = headers,
	    .n_headers = req->n_headers,
	    .body = req->body,
	    .body_len = req->body_len,
	    .payload_hash = (flags & 1) ? EV_SIGV4_UNSIGNED_PAYLOAD : NULL,
	};
	const struct ev_sigv4_params params = {
	    .region = (flags & 2) ? "eu-west-1" : "us-east-1",
	    .service = services[(flags >> 2) & 3],
	    .time = 1440938160 + (time_t)((flags >> 4) & 3) * 86400,
	    .s3_paths = ((flags >> 2) & 3) == 0,
	    .no_normalize_path = (flags & 64) != 0,
	    .content_sha256_header = (flags & 128) != 0,
	    .unsigned_session_token = (flags & 256) != 0,
	};
	struct ev_sigv4_credentials c = creds;
	if (flags & 512)
		c.session_token = NULL;
	struct ev_sigv4_result r;
	struct ev_error err;
	ev_sigv4_result_init(&r);
	if (ev_sigv4_sign(&sreq, &params, &c, (flags & 1024) ? NULL : &cache,
			  &r, &err) == EV_OK) {
		/* A success always carries a full signature. */
		if (strlen(r.signature) != EV_SHA256_HEX_LEN || r.n_added < 1 ||
		    strcmp(r.added[r.n_added - 1].name, "Authorization"))
			__builtin_trap();
	} else if (r.n_added != 0 || r.canonical_request.len != 0) {
		__builtin_trap();
	}
	ev_sigv4_result_cleanup(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!cache_ready) {
		ev_sigv4_cache_init(&cache);
		cache_ready = 1;
	}
	unsigned flags = 0;
	for (size_t i = 0; i < size; i++)
		flags = flags * 31 + data[i];
	struct ev_rawreq req;
	struct ev_error err;
	ev_rawreq_init(&req);
	if (ev_rawreq_parse(data, size, &req, &err) == EV_OK)
		sign(&req, flags);
	else if (req.method || req.n_headers || req.body)
		__builtin_trap(); /* a failed parse leaves nothing behind */
	ev_rawreq_cleanup(&req);
	return 0;
}
