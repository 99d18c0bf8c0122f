#include "sigv4.h"

#include <openssl/crypto.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "timefmt.h"
#include "uri.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
/* Bound of the canonical request, the string to sign and the Authorization
 * value: far above what a request of EV_LIMIT_REQUEST_TEXT bytes can grow
 * to once its path is encoded twice. */
#define SIGV4_TEXT_LIMIT     (8u * EV_LIMIT_REQUEST_TEXT)
#define SIGV4_SCOPE_PART_MAX 63
#define SIGV4_KEY_ID_MAX     128
/* The request's headers plus X-Amz-Date, X-Amz-Security-Token and
 * x-amz-content-sha256. */
#define SIGV4_MAX_ENTRIES (EV_LIMIT_SIGV4_HEADERS + 3)
/* 9999-12-31T23:59:59Z: the last instant an amz date can spell. */
#define SIGV4_TIME_MAX 253402300799LL

/* One header of the canonical request, before sorting. */
struct entry {
	const char *name;
	const char *value;
	size_t order; /* keeps repeated names in the order given */
};

static char ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static int name_cmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned char x = (unsigned char)ascii_lower(*a);
		unsigned char y = (unsigned char)ascii_lower(*b);
		if (x != y || !x)
			return (int)x - (int)y;
	}
}

static bool name_eq(const char *a, const char *b)
{
	return name_cmp(a, b) == 0;
}

/* RFC 7230 tchar. */
static bool is_tchar(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_token(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!is_tchar((unsigned char)*s))
			return false;
	return true;
}

/* A header value may hold any byte but the controls (tab excepted): a CR or
 * LF would let a value inject headers once it is sent. */
static bool value_ok(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

/* Region and service: they become part of the scope, which the
 * Authorization header carries between '/' separators. */
static bool scope_part_ok(const char *s)
{
	if (!s || !*s || strlen(s) > SIGV4_SCOPE_PART_MAX)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '.'))
			return false;
	}
	return true;
}

static bool key_id_ok(const char *s)
{
	if (!s || !*s || strlen(s) > SIGV4_KEY_ID_MAX)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= 0x20 || c >= 0x7f || strchr("/,;=\"", c))
			return false;
	}
	return true;
}

/* A payload hash goes on the last line of the canonical request and maybe
 * into a header: printable, no spaces, and it must fit the result. */
static bool payload_hash_ok(const char *s, size_t n)
{
	if (n == 0 || n > EV_SHA256_HEX_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

/* The value without leading and trailing blanks, as a view. */
static void trim_view(const char *s, const char **p, size_t *n)
{
	size_t len = strlen(s);
	while (len && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	*p = s;
	*n = len;
}

/* Appends v trimmed, each inner run of blanks written as one space. */
static enum ev_err append_trimmed(struct ev_buf *out, const char *v)
{
	const char *p;
	size_t n;
	trim_view(v, &p, &n);
	size_t i = 0;
	while (i < n) {
		size_t run = 0;
		while (i + run < n && p[i + run] != ' ' && p[i + run] != '\t')
			run++;
		EV_TRY(ev_buf_append(out, p + i, run));
		i += run;
		if (i < n) {
			EV_TRY(ev_buf_append_char(out, ' '));
			while (i < n && (p[i] == ' ' || p[i] == '\t'))
				i++;
		}
	}
	return EV_OK;
}

static enum ev_err append_lower(struct ev_buf *out, const char *s)
{
	for (; *s; s++)
		EV_TRY(ev_buf_append_char(out, ascii_lower(*s)));
	return EV_OK;
}

/* Where the headers the signer adds already are in the request. */
struct specials {
	size_t date;   /* index of X-Amz-Date, or SIZE_MAX */
	size_t token;  /* X-Amz-Security-Token */
	size_t sha256; /* x-amz-content-sha256 */
};

static enum ev_err check_request(const struct ev_sigv4_request *req,
				 const struct ev_sigv4_params *params,
				 const struct ev_sigv4_credentials *creds,
				 struct specials *sp, struct ev_error *err)
{
	EV_ENSURE_E(err, is_token(req->method), EV_E_INVALID,
		    "sigv4: the method is not an HTTP token");
	EV_ENSURE_E(err, scope_part_ok(params->region), EV_E_INVALID,
		    "sigv4: the region is empty or malformed");
	EV_ENSURE_E(err, scope_part_ok(params->service), EV_E_INVALID,
		    "sigv4: the service is empty or malformed");
	EV_ENSURE_E(err, creds && key_id_ok(creds->access_key_id), EV_E_INVALID,
		    "sigv4: the access key id is malformed");
	EV_ENSURE_E(err, creds->secret_access_key && *creds->secret_access_key,
		    EV_E_INVALID, "sigv4: the secret access key is empty");
	EV_ENSURE_E(err,
		    strnlen(creds->secret_access_key, EV_LIMIT_SECRET + 1) <=
			EV_LIMIT_SECRET,
		    EV_E_LIMIT, "sigv4: the secret access key is too long");
	const char *token = creds->session_token;
	if (token && *token) {
		EV_ENSURE_E(
		    err, strnlen(token, EV_LIMIT_SECRET + 1) <= EV_LIMIT_SECRET,
		    EV_E_LIMIT, "sigv4: the session token is too long");
		EV_ENSURE_E(err, value_ok(token), EV_E_INVALID,
			    "sigv4: the session token holds a control byte");
	}
	const char *path = req->path ? req->path : "";
	size_t path_len = strnlen(path, EV_LIMIT_URL + 1);
	EV_ENSURE_E(err, path_len <= EV_LIMIT_URL, EV_E_LIMIT,
		    "sigv4: the path is longer than %d bytes", EV_LIMIT_URL);
	EV_ENSURE_E(err, path_len == 0 || path[0] == '/', EV_E_INVALID,
		    "sigv4: the path does not start with '/'");
	EV_ENSURE_E(err,
		    !req->query ||
			strnlen(req->query, EV_LIMIT_URL + 1) <= EV_LIMIT_URL,
		    EV_E_LIMIT, "sigv4: the query is longer than %d bytes",
		    EV_LIMIT_URL);
	EV_ENSURE_E(err, req->body || req->body_len == 0, EV_E_INVALID,
		    "sigv4: a body length without a body");
	EV_ENSURE_E(err, req->n_headers <= EV_LIMIT_SIGV4_HEADERS, EV_E_LIMIT,
		    "sigv4: more than %d headers", EV_LIMIT_SIGV4_HEADERS);
	EV_ENSURE_E(err, req->headers || req->n_headers == 0, EV_E_INVALID,
		    "sigv4: no headers");

	sp->date = sp->token = sp->sha256 = SIZE_MAX;
	bool host = false;
	for (size_t i = 0; i < req->n_headers; i++) {
		const struct ev_sigv4_header *h = &req->headers[i];
		EV_ENSURE_E(err, is_token(h->name), EV_E_INVALID,
			    "sigv4: header %zu has no valid name", i + 1);
		EV_ENSURE_E(err, !h->value || value_ok(h->value), EV_E_INVALID,
			    "sigv4: header %.64s holds a control byte",
			    h->name);
		EV_ENSURE_E(err, !name_eq(h->name, "authorization"),
			    EV_E_INVALID,
			    "sigv4: the request is already signed "
			    "(Authorization)");
		size_t *slot = NULL;
		if (name_eq(h->name, "host"))
			host = true;
		else if (name_eq(h->name, "x-amz-date"))
			slot = &sp->date;
		else if (name_eq(h->name, "x-amz-security-token"))
			slot = &sp->token;
		else if (name_eq(h->name, "x-amz-content-sha256"))
			slot = &sp->sha256;
		if (slot) {
			EV_ENSURE_E(err, *slot == SIZE_MAX, EV_E_INVALID,
				    "sigv4: header %.64s is repeated", h->name);
			*slot = i;
		}
	}
	EV_ENSURE_E(err, host, EV_E_INVALID, "sigv4: no Host header");
	return EV_OK;
}

static const char *header_value(const struct ev_sigv4_request *req, size_t i)
{
	return req->headers[i].value ? req->headers[i].value : "";
}

static enum ev_err resolve_date(const struct ev_sigv4_request *req,
				const struct ev_sigv4_params *params,
				const struct specials *sp,
				struct ev_sigv4_result *r, struct ev_error *err)
{
	if (sp->date == SIZE_MAX) {
		EV_ENSURE_E(err,
			    params->time >= 0 &&
				(long long)params->time <= SIGV4_TIME_MAX,
			    EV_E_INVALID,
			    "sigv4: the signing time is out of range");
		ev_time_format_amz(params->time, r->amz_date);
		return EV_OK;
	}
	const char *p;
	size_t n;
	trim_view(header_value(req, sp->date), &p, &n);
	EV_ENSURE_E(err, n == EV_AMZ_DATE_LEN, EV_E_INVALID,
		    "sigv4: X-Amz-Date is not YYYYMMDDTHHMMSSZ");
	memcpy(r->amz_date, p, n);
	r->amz_date[n] = '\0';
	time_t t;
	EV_ENSURE_E(err, ev_time_parse_amz(r->amz_date, &t) == EV_OK,
		    EV_E_INVALID, "sigv4: X-Amz-Date is not YYYYMMDDTHHMMSSZ");
	return EV_OK;
}

static enum ev_err resolve_payload(const struct ev_sigv4_request *req,
				   const struct specials *sp,
				   struct ev_sigv4_result *r,
				   struct ev_error *err)
{
	const char *p = NULL;
	size_t n = 0;
	if (sp->sha256 != SIZE_MAX) {
		trim_view(header_value(req, sp->sha256), &p, &n);
		EV_ENSURE_E(err, payload_hash_ok(p, n), EV_E_INVALID,
			    "sigv4: x-amz-content-sha256 is malformed");
	}
	if (req->payload_hash) {
		size_t m = strlen(req->payload_hash);
		EV_ENSURE_E(err, payload_hash_ok(req->payload_hash, m),
			    EV_E_INVALID,
			    "sigv4: the payload hash is malformed");
		EV_ENSURE_E(err,
			    !p || (m == n && !memcmp(p, req->payload_hash, n)),
			    EV_E_INVALID,
			    "sigv4: x-amz-content-sha256 disagrees with the "
			    "payload hash");
		memcpy(r->payload_hash, req->payload_hash, m + 1);
	} else if (p) {
		memcpy(r->payload_hash, p, n);
		r->payload_hash[n] = '\0';
	} else {
		ev_sha256_hex(req->body ? req->body : "", req->body_len,
			      r->payload_hash);
	}
	return EV_OK;
}

static enum ev_err append_canonical_uri(const char *path,
					const struct ev_sigv4_params *params,
					struct ev_buf *scratch,
					struct ev_buf *out)
{
	size_t n = path ? strlen(path) : 0;
	if (n == 0)
		return ev_buf_append_char(out, '/');
	if (params->s3_paths)
		return ev_uri_reencode_path(path, n, out);
	if (params->no_normalize_path)
		return ev_uri_encode(path, n, false, out);
	EV_TRY(ev_uri_normalize_path(path, n, scratch));
	return ev_uri_encode(scratch->data, scratch->len, false, out);
}

static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = name_cmp(x->name, y->name);
	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Appends the canonical header lines to creq and the signed header list to
 * list. entries must be sorted. */
static enum ev_err append_headers(const struct entry *e, size_t n,
				  struct ev_buf *creq, struct ev_buf *list)
{
	for (size_t i = 0; i < n; i++) {
		bool same = i > 0 && name_eq(e[i - 1].name, e[i].name);
		if (same) {
			EV_TRY(ev_buf_append_char(creq, ','));
		} else {
			if (i > 0) {
				EV_TRY(ev_buf_append_char(creq, '\n'));
				EV_TRY(ev_buf_append_char(list, ';'));
			}
			EV_TRY(append_lower(creq, e[i].name));
			EV_TRY(ev_buf_append_char(creq, ':'));
			EV_TRY(append_lower(list, e[i].name));
		}
		EV_TRY(append_trimmed(creq, e[i].value));
	}
	if (n)
		EV_TRY(ev_buf_append_char(creq, '\n'));
	return EV_OK;
}

static enum ev_err derive_key(const char *secret, const char *date,
			      const char *region, const char *service,
			      unsigned char out[EV_SHA256_LEN])
{
	unsigned char k_secret[4 + EV_LIMIT_SECRET];
	unsigned char k_date[EV_SHA256_LEN];
	unsigned char k_region[EV_SHA256_LEN];
	unsigned char k_service[EV_SHA256_LEN];
	size_t n = strlen(secret); /* checked against EV_LIMIT_SECRET */
	memcpy(k_secret, "AWS4", 4);
	memcpy(k_secret + 4, secret, n);
	enum ev_err rc = ev_hmac_sha256(k_secret, 4 + n, date, 8, k_date);
	if (rc == EV_OK)
		rc = ev_hmac_sha256(k_date, sizeof(k_date), region,
				    strlen(region), k_region);
	if (rc == EV_OK)
		rc = ev_hmac_sha256(k_region, sizeof(k_region), service,
				    strlen(service), k_service);
	if (rc == EV_OK)
		rc = ev_hmac_sha256(k_service, sizeof(k_service),
				    "aws4_request", 12, out);
	OPENSSL_cleanse(k_secret, 4 + n);
	OPENSSL_cleanse(k_date, sizeof(k_date));
	OPENSSL_cleanse(k_region, sizeof(k_region));
	OPENSSL_cleanse(k_service, sizeof(k_service));
	if (rc != EV_OK)
		OPENSSL_cleanse(out, EV_SHA256_LEN);
	return rc;
}

static bool cacheable(const char *region, const char *service,
		      const char *key_id)
{
	struct ev_sigv4_cache_slot s;
	return strlen(region) < sizeof(s.region) &&
	       strlen(service) < sizeof(s.service) &&
	       strlen(key_id) < sizeof(s.key_id);
}

static struct ev_sigv4_cache_slot *
cache_find(struct ev_sigv4_cache *c, const char *date, const char *region,
	   const char *service, const char *key_id)
{
	for (size_t i = 0; i < EV_SIGV4_CACHE_SLOTS; i++) {
		struct ev_sigv4_cache_slot *s = &c->slots[i];
		if (s->used && !strcmp(s->date, date) &&
		    !strcmp(s->region, region) &&
		    !strcmp(s->service, service) && !strcmp(s->key_id, key_id))
			return s;
	}
	return NULL;
}

/* A free slot, else the least recently used one, wiped. */
static struct ev_sigv4_cache_slot *cache_victim(struct ev_sigv4_cache *c)
{
	struct ev_sigv4_cache_slot *v = &c->slots[0];
	for (size_t i = 0; i < EV_SIGV4_CACHE_SLOTS; i++) {
		struct ev_sigv4_cache_slot *s = &c->slots[i];
		if (!s->used) {
			v = s;
			break;
		}
		if (s->stamp < v->stamp)
			v = s;
	}
	OPENSSL_cleanse(v, sizeof(*v));
	return v;
}

static void copy_field(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src); /* checked by cacheable() */
	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* The derived signing key for the scope, from the cache or computed (and
 * then cached). out is secret: the caller wipes it. */
static enum ev_err signing_key(struct ev_sigv4_cache *c,
			       const struct ev_sigv4_credentials *creds,
			       const char *date, const char *region,
			       const char *service,
			       unsigned char out[EV_SHA256_LEN])
{
	const char *key_id = creds->access_key_id;
	bool use = c && cacheable(region, service, key_id);
	if (use) {
		pthread_mutex_lock(&c->lock);
		struct ev_sigv4_cache_slot *s =
		    cache_find(c, date, region, service, key_id);
		if (s) {
			memcpy(out, s->key, EV_SHA256_LEN);
			s->stamp = ++c->clock;
			c->hits++;
		} else {
			c->misses++;
		}
		pthread_mutex_unlock(&c->lock);
		if (s)
			return EV_OK;
	}
	/* Derived outside the lock: HMACs are the slow part, and two threads
	 * deriving the same key at once store the same bytes. */
	EV_TRY(
	    derive_key(creds->secret_access_key, date, region, service, out));
	if (use) {
		pthread_mutex_lock(&c->lock);
		struct ev_sigv4_cache_slot *s =
		    cache_find(c, date, region, service, key_id);
		if (!s)
			s = cache_victim(c);
		copy_field(s->date, sizeof(s->date), date);
		copy_field(s->region, sizeof(s->region), region);
		copy_field(s->service, sizeof(s->service), service);
		copy_field(s->key_id, sizeof(s->key_id), key_id);
		memcpy(s->key, out, EV_SHA256_LEN);
		s->used = true;
		s->stamp = ++c->clock;
		pthread_mutex_unlock(&c->lock);
	}
	return EV_OK;
}

void ev_sigv4_cache_init(struct ev_sigv4_cache *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
}

void ev_sigv4_cache_cleanup(struct ev_sigv4_cache *c)
{
	if (!c)
		return;
	OPENSSL_cleanse(c->slots, sizeof(c->slots));
	c->clock = 0;
	pthread_mutex_destroy(&c->lock);
	memset(&c->lock, 0, sizeof(c->lock));
}

void ev_sigv4_result_init(struct ev_sigv4_result *r)
{
	memset(r, 0, sizeof(*r));
	/* The canonical request holds the session token when it is signed. */
	ev_buf_init_secret(&r->canonical_request, SIGV4_TEXT_LIMIT);
	ev_buf_init(&r->string_to_sign, SIGV4_TEXT_LIMIT);
	ev_buf_init(&r->authorization, SIGV4_TEXT_LIMIT);
}

void ev_sigv4_result_cleanup(struct ev_sigv4_result *r)
{
	if (!r)
		return;
	ev_buf_cleanup(&r->canonical_request);
	ev_buf_cleanup(&r->string_to_sign);
	ev_buf_cleanup(&r->authorization);
	OPENSSL_cleanse(r->signature, sizeof(r->signature));
	ev_secret_free_str(r->token_copy);
	r->token_copy = NULL;
	memset(r->added, 0, sizeof(r->added));
	r->n_added = 0;
}

static enum ev_err buf_error(enum ev_err rc, struct ev_error *err,
			     const char *what)
{
	if (rc == EV_E_LIMIT)
		return ev_error_set(err, rc, "sigv4: the %s is too long", what);
	return ev_error_set(err, rc, "sigv4: building the %s: %s", what,
			    ev_err_name(rc));
}

/* Everything after the checks: the canonical request, the string to sign,
 * the signature, the Authorization value and the added headers. */
static enum ev_err sign_checked(const struct ev_sigv4_request *req,
				const struct ev_sigv4_params *params,
				const struct ev_sigv4_credentials *creds,
				const struct specials *sp,
				struct ev_sigv4_cache *cache,
				struct ev_sigv4_result *r, struct ev_error *err)
{
	enum ev_err rc;
	struct ev_buf scratch, list;
	unsigned char key[EV_SHA256_LEN];
	unsigned char mac[EV_SHA256_LEN];
	ev_buf_init(&scratch, EV_LIMIT_URL);
	ev_buf_init(&list, SIGV4_TEXT_LIMIT);
	memset(key, 0, sizeof(key));

	const char *token = creds->session_token;
	bool have_token = token && *token;
	bool add_token = have_token && sp->token == SIZE_MAX;
	bool add_sha256 = (params->content_sha256_header || params->s3_paths) &&
			  sp->sha256 == SIZE_MAX;
	bool add_date = sp->date == SIZE_MAX;
	if (add_token) {
		r->token_copy = ev_strdup(token);
		if (!r->token_copy) {
			rc = ev_error_set(err, EV_E_NOMEM,
					  "sigv4: copying the session token");
			goto out;
		}
	}

	struct entry entries[SIGV4_MAX_ENTRIES];
	size_t n = 0;
	for (size_t i = 0; i < req->n_headers; i++) {
		if (i == sp->token && params->unsigned_session_token)
			continue;
		entries[n].name = req->headers[i].name;
		entries[n].value = header_value(req, i);
		entries[n].order = n;
		n++;
	}
	if (add_date) {
		entries[n] = (struct entry){"x-amz-date", r->amz_date, n};
		n++;
	}
	if (add_token && !params->unsigned_session_token) {
		entries[n] =
		    (struct entry){"x-amz-security-token", r->token_copy, n};
		n++;
	}
	if (add_sha256) {
		entries[n] =
		    (struct entry){"x-amz-content-sha256", r->payload_hash, n};
		n++;
	}
	qsort(entries, n, sizeof(entries[0]), entry_cmp);

	struct ev_buf *creq = &r->canonical_request;
	rc = ev_buf_append_str(creq, req->method);
	if (rc == EV_OK)
		rc = ev_buf_append_char(creq, '\n');
	if (rc == EV_OK)
		rc = append_canonical_uri(req->path, params, &scratch, creq);
	if (rc == EV_OK)
		rc = ev_buf_append_char(creq, '\n');
	if (rc == EV_OK && req->query)
		rc = ev_uri_canonical_query(req->query, strlen(req->query),
					    creq);
	if (rc == EV_OK)
		rc = ev_buf_append_char(creq, '\n');
	if (rc == EV_OK)
		rc = append_headers(entries, n, creq, &list);
	if (rc == EV_OK)
		rc = ev_buf_printf(creq, "\n%s\n%s", ev_buf_str(&list),
				   r->payload_hash);
	if (rc != EV_OK) {
		rc = buf_error(rc, err, "canonical request");
		goto out;
	}

	char date[9];
	memcpy(date, r->amz_date, 8);
	date[8] = '\0';
	char creq_hash[EV_SHA256_HEX_LEN + 1];
	ev_sha256_hex(creq->data, creq->len, creq_hash);
	rc = ev_buf_printf(&r->string_to_sign,
			   SIGV4_ALGORITHM "\n%s\n%s/%s/%s/aws4_request\n%s",
			   r->amz_date, date, params->region, params->service,
			   creq_hash);
	if (rc != EV_OK) {
		rc = buf_error(rc, err, "string to sign");
		goto out;
	}

	rc = signing_key(cache, creds, date, params->region, params->service,
			 key);
	if (rc == EV_OK)
		rc = ev_hmac_sha256(key, sizeof(key), r->string_to_sign.data,
				    r->string_to_sign.len, mac);
	if (rc != EV_OK) {
		rc = ev_error_set(err, rc, "sigv4: computing the signature");
		goto out;
	}
	ev_hex_encode(mac, sizeof(mac), r->signature);

	rc =
	    ev_buf_printf(&r->authorization,
			  SIGV4_ALGORITHM " Credential=%s/%s/%s/%s/aws4_request"
					  ", SignedHeaders=%s, Signature=%s",
			  creds->access_key_id, date, params->region,
			  params->service, ev_buf_str(&list), r->signature);
	if (rc != EV_OK) {
		rc = buf_error(rc, err, "Authorization value");
		goto out;
	}

	if (add_date)
		r->added[r->n_added++] =
		    (struct ev_sigv4_header){"X-Amz-Date", r->amz_date};
	if (add_token)
		r->added[r->n_added++] = (struct ev_sigv4_header){
		    "X-Amz-Security-Token", r->token_copy};
	if (add_sha256)
		r->added[r->n_added++] = (struct ev_sigv4_header){
		    "x-amz-content-sha256", r->payload_hash};
	r->added[r->n_added++] =
	    (struct ev_sigv4_header){"Authorization", r->authorization.data};

out:
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(mac, sizeof(mac));
	ev_buf_cleanup(&scratch);
	ev_buf_cleanup(&list);
	return rc;
}

enum ev_err ev_sigv4_sign(const struct ev_sigv4_request *req,
			  const struct ev_sigv4_params *params,
			  const struct ev_sigv4_credentials *creds,
			  struct ev_sigv4_cache *cache,
			  struct ev_sigv4_result *r, struct ev_error *err)
{
	ev_sigv4_result_cleanup(r);
	ev_sigv4_result_init(r);
	struct specials sp;
	enum ev_err rc = check_request(req, params, creds, &sp, err);
	if (rc == EV_OK)
		rc = resolve_date(req, params, &sp, r, err);
	if (rc == EV_OK)
		rc = resolve_payload(req, &sp, r, err);
	if (rc == EV_OK)
		rc = sign_checked(req, params, creds, &sp, cache, r, err);
	if (rc != EV_OK) {
		ev_sigv4_result_cleanup(r);
		ev_sigv4_result_init(r);
	}
	return rc;
}
