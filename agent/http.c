#include "http.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define DEFAULT_CONNECT_TIMEOUT_MS 5000L
#define DEFAULT_TIMEOUT_MS	   60000L
/* Idle easy handles kept (each with its open connections); more than the
 * worker count only happens after a burst and is not worth keeping. */
#define IDLE_HANDLES_MAX 32
#define METHOD_MAX	 32
#define HOST_MSG_MAX	 128

/* ---- response helpers and the header-line parser ---- */

static void free_headers(struct ev_http_response *r)
{
	for (size_t i = 0; i < r->n_headers; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
		r->headers[i].name = NULL;
		r->headers[i].value = NULL;
	}
	r->n_headers = 0;
	r->headers_truncated = false;
	r->fold_open = false;
}

void ev_http_response_init(struct ev_http_response *r, size_t body_limit)
{
	memset(r, 0, sizeof(*r));
	/* STS, IMDS and container answers carry credentials: the body is
	 * wiped as it grows and when freed, whoever the caller is. */
	ev_buf_init_secret(&r->body,
			   body_limit ? body_limit : EV_LIMIT_HTTP_BODY);
}

void ev_http_response_cleanup(struct ev_http_response *r)
{
	if (!r)
		return;
	free_headers(r);
	ev_buf_cleanup(&r->body);
	r->status = 0;
	r->seconds = 0;
	r->streamed = 0;
	r->timed_out = false;
	r->fold_open = false;
}

void ev_http_response_reset(struct ev_http_response *r)
{
	free_headers(r);
	ev_buf_reset(&r->body);
	r->status = 0;
	r->seconds = 0;
	r->streamed = 0;
	r->timed_out = false;
	r->fold_open = false;
}

const char *ev_http_response_header(const struct ev_http_response *r,
				    const char *name)
{
	if (!r || !name)
		return NULL;
	for (size_t i = 0; i < r->n_headers; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

/* RFC 9110 tchar. */
static bool is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static void trim_ows(const char **p, size_t *n)
{
	while (*n > 0 && is_ows(**p)) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && is_ows((*p)[*n - 1]))
		(*n)--;
}

/* "HTTP/x[.y] NNN[ reason]": the code, or 0 when it is not three digits. */
static long parse_status(const char *line, size_t len)
{
	const char *sp = memchr(line, ' ', len);
	if (!sp)
		return 0;
	size_t rest = len - (size_t)(sp + 1 - line);
	const char *d = sp + 1;
	if (rest < 3)
		return 0;
	long code = 0;
	for (size_t i = 0; i < 3; i++) {
		if (d[i] < '0' || d[i] > '9')
			return 0;
		code = code * 10 + (d[i] - '0');
	}
	if (rest > 3 && d[3] != ' ')
		return 0;
	return code;
}

static enum ev_err append_fold(struct ev_http_response *r, const char *p,
			       size_t n)
{
	trim_ows(&p, &n);
	if (n == 0)
		return EV_OK;
	struct ev_http_rheader *h = &r->headers[r->n_headers - 1];
	size_t name_len = strlen(h->name);
	size_t old = strlen(h->value);
	if (name_len + old + 1 + n > EV_LIMIT_HTTP_HEADER_LINE) {
		r->headers_truncated = true;
		r->fold_open = false;
		return EV_OK;
	}
	char *v = malloc(old + 1 + n + 1);
	if (!v)
		return EV_E_NOMEM;
	memcpy(v, h->value, old);
	size_t at = old;
	if (old > 0)
		v[at++] = ' ';
	memcpy(v + at, p, n);
	v[at + n] = '\0';
	free(h->value);
	h->value = v;
	return EV_OK;
}

enum ev_err ev_http_response_header_line(struct ev_http_response *r,
					 const char *line, size_t len)
{
	if (!line)
		return EV_OK;
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0 || memchr(line, '\0', len)) {
		/* The blank line ends the block; a NUL never belongs. */
		r->fold_open = false;
		return EV_OK;
	}
	if (len > EV_LIMIT_HTTP_HEADER_LINE) {
		r->headers_truncated = true;
		r->fold_open = false;
		return EV_OK;
	}
	if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
		free_headers(r);
		r->status = parse_status(line, len);
		return EV_OK;
	}
	if (is_ows(line[0])) {
		if (!r->fold_open || r->n_headers == 0)
			return EV_OK;
		return append_fold(r, line, len);
	}
	r->fold_open = false;
	const char *colon = memchr(line, ':', len);
	if (!colon || colon == line)
		return EV_OK;
	size_t name_len = (size_t)(colon - line);
	for (size_t i = 0; i < name_len; i++)
		if (!is_tchar((unsigned char)line[i]))
			return EV_OK;
	if (r->n_headers >= EV_LIMIT_HTTP_HEADERS) {
		r->headers_truncated = true;
		return EV_OK;
	}
	const char *v = colon + 1;
	size_t vn = len - name_len - 1;
	trim_ows(&v, &vn);
	char *name = ev_strndup(line, name_len);
	char *value = ev_strndup(v, vn);
	if (!name || !value) {
		free(name);
		free(value);
		return EV_E_NOMEM;
	}
	for (size_t i = 0; i < name_len; i++)
		if (name[i] >= 'A' && name[i] <= 'Z')
			name[i] = (char)(name[i] - 'A' + 'a');
	r->headers[r->n_headers].name = name;
	r->headers[r->n_headers].value = value;
	r->n_headers++;
	r->fold_open = true;
	return EV_OK;
}

void ev_http_free(struct ev_http *h)
{
	if (h && h->free)
		h->free(h);
}

/* ---- the libcurl transport ---- */

struct curl_http {
	struct ev_http base; /* first: the seam's pointer is this object */
	CURLSH *share;
	pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
	size_t n_share_locks; /* initialised, for cleanup */
	pthread_mutex_t pool_lock;
	bool pool_lock_ready;
	CURL *idle[IDLE_HANDLES_MAX];
	size_t n_idle;
	char *ca_bundle;
	long connect_timeout_ms;
	long timeout_ms;
	size_t max_body;
	bool allow_http;
};

/* One exchange's state, handed to the callbacks. */
struct xfer {
	struct ev_http_response *resp;
	const struct ev_http_sink *sink;
	size_t limit;
	size_t sink_limit;
	enum ev_err fail; /* why a callback stopped the transfer */
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
	/* Once per process and never cleaned up: other threads may still be
	 * using curl when a transport is freed. */
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void share_lock(CURL *handle, curl_lock_data data,
		       curl_lock_access access, void *ud)
{
	(void)handle;
	(void)access;
	struct curl_http *t = ud;
	if ((size_t)data < t->n_share_locks)
		pthread_mutex_lock(&t->share_locks[data]);
}

static void share_unlock(CURL *handle, curl_lock_data data, void *ud)
{
	(void)handle;
	struct curl_http *t = ud;
	if ((size_t)data < t->n_share_locks)
		pthread_mutex_unlock(&t->share_locks[data]);
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb;
	/* Headers are complete before the first body byte, so the status
	 * says already whether this is the object or an error document. */
	if (x->sink && x->resp->status >= 200 && x->resp->status < 300) {
		if (n > x->sink_limit ||
		    x->resp->streamed > x->sink_limit - n) {
			x->fail = EV_E_LIMIT;
			return 0;
		}
		enum ev_err src = x->sink->write(x->sink->arg, p, n);
		if (src != EV_OK) {
			x->fail = src;
			return 0;
		}
		x->resp->streamed += n;
		return n;
	}
	struct ev_buf *b = &x->resp->body;
	if (n > x->limit || b->len > x->limit - n) {
		x->fail = EV_E_LIMIT;
		return 0;
	}
	enum ev_err rc = ev_buf_append(b, p, n);
	if (rc != EV_OK) {
		x->fail = rc;
		return 0;
	}
	return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb;
	enum ev_err rc = ev_http_response_header_line(x->resp, p, n);
	if (rc != EV_OK) {
		x->fail = rc;
		return 0;
	}
	return n;
}

static CURL *pool_get(struct curl_http *t)
{
	CURL *easy = NULL;
	pthread_mutex_lock(&t->pool_lock);
	if (t->n_idle > 0)
		easy = t->idle[--t->n_idle];
	pthread_mutex_unlock(&t->pool_lock);
	if (easy)
		return easy;
	easy = curl_easy_init();
	/* curl_easy_reset keeps the share, so it is attached once here. */
	if (easy &&
	    curl_easy_setopt(easy, CURLOPT_SHARE, t->share) != CURLE_OK) {
		curl_easy_cleanup(easy);
		easy = NULL;
	}
	return easy;
}

static void pool_put(struct curl_http *t, CURL *easy)
{
	if (!easy)
		return;
	/* Drops every per-call option (headers, buffers, callbacks) but keeps
	 * the live connections, which is what the pool is for. */
	curl_easy_reset(easy);
	pthread_mutex_lock(&t->pool_lock);
	if (t->n_idle < IDLE_HANDLES_MAX) {
		t->idle[t->n_idle++] = easy;
		easy = NULL;
	}
	pthread_mutex_unlock(&t->pool_lock);
	if (easy)
		curl_easy_cleanup(easy);
}

static bool has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 && *s != '\t')
			return true;
	return false;
}

static bool has_header(const struct ev_http_request *req, const char *name)
{
	for (size_t i = 0; i < req->n_headers; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return true;
	return false;
}

static void slist_wipe_free(struct curl_slist *l)
{
	for (struct curl_slist *k = l; k; k = k->next)
		if (k->data)
			OPENSSL_cleanse(k->data, strlen(k->data));
	curl_slist_free_all(l);
}

static enum ev_err slist_add(struct curl_slist **l, const char *s)
{
	struct curl_slist *n = curl_slist_append(*l, s);
	if (!n)
		return EV_E_NOMEM;
	*l = n;
	return EV_OK;
}

/* The caller's headers as curl lines (they carry the signature and the
 * session token, so the scratch text is wiped), plus the empty lines that
 * stop curl adding its own. */
static enum ev_err build_headers(const struct ev_http_request *req,
				 bool with_body, struct curl_slist **out,
				 struct ev_error *err)
{
	enum ev_err rc = EV_OK;
	struct curl_slist *l = NULL;
	struct ev_buf line;
	ev_buf_init_secret(&line, EV_LIMIT_SECRET + EV_LIMIT_HTTP_HEADER_LINE);

	for (size_t i = 0; i < req->n_headers; i++) {
		const char *name = req->headers[i].name;
		const char *value =
		    req->headers[i].value ? req->headers[i].value : "";
		bool name_ok = name && *name;
		for (const char *c = name; name_ok && *c; c++)
			name_ok = is_tchar((unsigned char)*c);
		if (!name_ok || has_ctl(value)) {
			/* Never echo the header: it may be the token. */
			rc = ev_error_set(
			    err, EV_E_CONFIG,
			    "HTTP request header %zu is not valid", i + 1);
			goto out;
		}
		ev_buf_reset(&line);
		/* "Name;" is curl's way to send a header with an empty value;
		 * "Name:" would remove it. */
		rc = ev_buf_append_str(&line, name);
		if (rc == EV_OK)
			rc = *value ? ev_buf_append(&line, ": ", 2)
				    : ev_buf_append_char(&line, ';');
		if (rc == EV_OK)
			rc = ev_buf_append_str(&line, value);
		if (rc == EV_OK)
			rc = slist_add(&l, ev_buf_str(&line));
		if (rc != EV_OK) {
			rc = ev_error_set(err, rc,
					  rc == EV_E_LIMIT
					      ? "HTTP request header too long"
					      : "HTTP: out of memory");
			goto out;
		}
	}
	/* curl's Expect: 100-continue (bodies over 1 MiB) and Accept: would go
	 * out unsigned; so would its form Content-Type for a body. */
	if (!has_header(req, "Expect"))
		rc = slist_add(&l, "Expect:");
	if (rc == EV_OK && !has_header(req, "Accept"))
		rc = slist_add(&l, "Accept:");
	if (rc == EV_OK && with_body && !has_header(req, "Content-Type"))
		rc = slist_add(&l, "Content-Type:");
	if (rc != EV_OK) {
		rc = ev_error_set(err, rc, "HTTP: out of memory");
		goto out;
	}
	*out = l;
	l = NULL;
out:
	ev_buf_cleanup(&line);
	slist_wipe_free(l);
	return rc;
}

/* Checks the URL's scheme and copies its host[:port] (for messages: the
 * path and query never reach a message). */
static enum ev_err check_url(const struct curl_http *t, const char *url,
			     char *host, size_t host_size, struct ev_error *err)
{
	enum ev_err rc = EV_OK;
	CURLU *u = NULL;
	char *scheme = NULL;
	char *h = NULL;
	char *port = NULL;

	if (!url || strnlen(url, EV_LIMIT_URL + 1) > EV_LIMIT_URL)
		return ev_error_set(err, EV_E_CONFIG,
				    "HTTP: URL missing or too long");
	u = curl_url();
	if (!u)
		return ev_error_set(err, EV_E_NOMEM, "HTTP: out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK) {
		rc = ev_error_set(err, EV_E_CONFIG, "HTTP: malformed URL");
		goto out;
	}
	if (strcasecmp(scheme, "https") != 0 &&
	    !(t->allow_http && strcasecmp(scheme, "http") == 0)) {
		char s[16];
		ev_error_copy_field(s, sizeof(s), scheme, strlen(scheme));
		rc =
		    ev_error_set(err, EV_E_CONFIG,
				 "HTTP: scheme %s not allowed (https only)", s);
		goto out;
	}
	char hp[HOST_MSG_MAX];
	if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK)
		snprintf(hp, sizeof(hp), "%s:%s", h, port);
	else
		snprintf(hp, sizeof(hp), "%s", h);
	ev_error_copy_field(host, host_size, hp, strlen(hp));
out:
	curl_free(scheme);
	curl_free(h);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

static bool method_valid(const char *m)
{
	if (!m || !*m || strlen(m) > METHOD_MAX)
		return false;
	for (; *m; m++)
		if (!is_tchar((unsigned char)*m))
			return false;
	return true;
}

static enum ev_err map_curl_error(CURLcode cc, const char *host,
				  const char *detail, struct ev_error *err)
{
	switch (cc) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return ev_error_set(err, EV_E_CONFIG, "HTTP %s: %s", host,
				    detail);
	case CURLE_OUT_OF_MEMORY:
		return ev_error_set(err, EV_E_NOMEM, "HTTP: out of memory");
	case CURLE_SSL_CACERT_BADFILE:
		return ev_error_set(err, EV_E_CONFIG,
				    "HTTP %s: cannot load the CA bundle: %s",
				    host, detail);
	case CURLE_PEER_FAILED_VERIFICATION:
		return ev_error_set(err, EV_E_NETWORK,
				    "HTTP %s: TLS certificate verification "
				    "failed: %s",
				    host, detail);
	case CURLE_SSL_CONNECT_ERROR:
		return ev_error_set(err, EV_E_NETWORK,
				    "HTTP %s: TLS handshake failed: %s", host,
				    detail);
	case CURLE_OPERATION_TIMEDOUT:
		return ev_error_set(err, EV_E_NETWORK, "HTTP %s: timed out: %s",
				    host, detail);
	case CURLE_PARTIAL_FILE:
		return ev_error_set(err, EV_E_NETWORK,
				    "HTTP %s: response body truncated: %s",
				    host, detail);
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		return ev_error_set(err, EV_E_NETWORK,
				    "HTTP %s: cannot connect: %s", host,
				    detail);
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
		return ev_error_set(err, EV_E_NETWORK,
				    "HTTP %s: connection closed or reset: %s",
				    host, detail);
	default:
		return ev_error_set(err, EV_E_NETWORK, "HTTP %s: %s", host,
				    detail);
	}
}

/* Sets an option unless an earlier one failed (cc is the caller's). */
#define SETOPT(easy, opt, val)                                                 \
	do {                                                                   \
		if (cc == CURLE_OK)                                            \
			cc = curl_easy_setopt((easy), (opt), (val));           \
	} while (0)

static enum ev_err curl_perform(struct ev_http *h,
				const struct ev_http_request *req,
				struct ev_http_response *resp,
				struct ev_error *err)
{
	struct curl_http *t = (struct curl_http *)h;
	enum ev_err rc = EV_OK;
	CURL *easy = NULL;
	struct curl_slist *hdrs = NULL;
	char host[HOST_MSG_MAX] = "";
	char errbuf[CURL_ERROR_SIZE] = "";
	struct xfer x = {.resp = resp, .fail = EV_OK};

	ev_http_response_reset(resp);
	x.limit =
	    resp->body.limit < t->max_body ? resp->body.limit : t->max_body;
	if (req->sink) {
		x.sink = req->sink;
		x.sink_limit =
		    req->sink->limit ? req->sink->limit : EV_LIMIT_HTTP_BODY;
	}
	if (!method_valid(req->method)) {
		rc = ev_error_set(err, EV_E_CONFIG, "HTTP: invalid method");
		goto out;
	}
	if ((rc = check_url(t, req->url, host, sizeof(host), err)) != EV_OK)
		goto out;
	bool is_get = strcmp(req->method, "GET") == 0;
	bool is_head = strcmp(req->method, "HEAD") == 0;
	bool is_delete = strcmp(req->method, "DELETE") == 0;
	bool with_body = req->body_len > 0 || !(is_get || is_head || is_delete);
	if (is_head && req->body_len > 0) {
		rc = ev_error_set(err, EV_E_CONFIG, "HTTP: HEAD with a body");
		goto out;
	}
	if ((rc = build_headers(req, with_body, &hdrs, err)) != EV_OK)
		goto out;
	easy = pool_get(t);
	if (!easy) {
		rc = ev_error_set(err, EV_E_NOMEM, "HTTP: out of memory");
		goto out;
	}

	CURLcode cc = CURLE_OK;
	long timeout = req->timeout_ms > 0 ? req->timeout_ms : t->timeout_ms;
	SETOPT(easy, CURLOPT_URL, req->url);
	SETOPT(easy, CURLOPT_PROTOCOLS_STR,
	       t->allow_http ? "http,https" : "https");
	SETOPT(easy, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	SETOPT(easy, CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(easy, CURLOPT_NOSIGNAL, 1L);
	SETOPT(easy, CURLOPT_CONNECTTIMEOUT_MS, t->connect_timeout_ms);
	SETOPT(easy, CURLOPT_TIMEOUT_MS, timeout);
	SETOPT(easy, CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(easy, CURLOPT_SSL_VERIFYHOST, 2L);
	if (t->ca_bundle)
		SETOPT(easy, CURLOPT_CAINFO, t->ca_bundle);
	SETOPT(easy, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	SETOPT(easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	SETOPT(easy, CURLOPT_TCP_KEEPALIVE, 1L);
	SETOPT(easy, CURLOPT_PATH_AS_IS, 1L);
	SETOPT(easy, CURLOPT_HTTPHEADER, hdrs);
	SETOPT(easy, CURLOPT_WRITEFUNCTION, on_body);
	SETOPT(easy, CURLOPT_WRITEDATA, &x);
	SETOPT(easy, CURLOPT_HEADERFUNCTION, on_header);
	SETOPT(easy, CURLOPT_HEADERDATA, &x);
	SETOPT(easy, CURLOPT_ERRORBUFFER, errbuf);
	/* Refuses an announced Content-Length over the limit up front; the
	 * write callback still counts what actually arrives. */
	SETOPT(easy, CURLOPT_MAXFILESIZE_LARGE,
	       (curl_off_t)(x.sink_limit > x.limit ? x.sink_limit : x.limit));
	if (is_head) {
		SETOPT(easy, CURLOPT_NOBODY, 1L);
	} else if (!with_body) {
		SETOPT(easy, CURLOPT_HTTPGET, 1L);
		if (is_delete)
			SETOPT(easy, CURLOPT_CUSTOMREQUEST, "DELETE");
	} else {
		/* POSTFIELDS for every body so Content-Length is sent, never
		 * chunked encoding; the method name rides on top. */
		SETOPT(easy, CURLOPT_POSTFIELDS,
		       req->body_len > 0 ? req->body : "");
		SETOPT(easy, CURLOPT_POSTFIELDSIZE_LARGE,
		       (curl_off_t)req->body_len);
		if (strcmp(req->method, "POST") != 0)
			SETOPT(easy, CURLOPT_CUSTOMREQUEST, req->method);
	}
	if (cc != CURLE_OK) {
		rc = ev_error_set(
		    err, cc == CURLE_OUT_OF_MEMORY ? EV_E_NOMEM : EV_E_INTERNAL,
		    "HTTP: libcurl option refused: %s", curl_easy_strerror(cc));
		goto out;
	}

	cc = curl_easy_perform(easy);
	double secs = 0;
	if (curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME, &secs) == CURLE_OK)
		resp->seconds = secs;
	if (cc == CURLE_OK) {
		long status = 0;
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
		resp->status = status;
		goto out;
	}
	if (cc == CURLE_FILESIZE_EXCEEDED)
		x.fail = EV_E_LIMIT;
	if (x.fail != EV_OK) {
		bool streaming =
		    x.sink && resp->status >= 200 && resp->status < 300;
		if (x.fail == EV_E_LIMIT)
			rc = ev_error_set(err, EV_E_LIMIT,
					  "HTTP %s: response body over %zu "
					  "bytes",
					  host,
					  streaming ? x.sink_limit : x.limit);
		else if (x.fail == EV_E_NOMEM)
			rc = ev_error_set(err, x.fail, "HTTP: out of memory");
		else
			rc =
			    ev_error_set(err, x.fail,
					 "HTTP %s: the body's consumer refused "
					 "it (%s)",
					 host, ev_err_name(x.fail));
		goto out;
	}
	char detail[CURL_ERROR_SIZE];
	const char *d = errbuf[0] ? errbuf : curl_easy_strerror(cc);
	size_t dn = strlen(d);
	while (dn > 0 && (d[dn - 1] == '\n' || d[dn - 1] == '\r'))
		dn--;
	ev_error_copy_field(detail, sizeof(detail), d, dn);
	resp->timed_out = cc == CURLE_OPERATION_TIMEDOUT;
	rc = map_curl_error(cc, host, detail, err);
out:
	pool_put(t, easy);
	slist_wipe_free(hdrs);
	if (rc != EV_OK)
		ev_http_response_reset(resp);
	return rc;
}

static void curl_free_transport(struct ev_http *h)
{
	struct curl_http *t = (struct curl_http *)h;
	if (!t)
		return;
	for (size_t i = 0; i < t->n_idle; i++)
		curl_easy_cleanup(t->idle[i]);
	t->n_idle = 0;
	/* Only after every easy handle using it is gone. */
	if (t->share)
		curl_share_cleanup(t->share);
	for (size_t i = 0; i < t->n_share_locks; i++)
		pthread_mutex_destroy(&t->share_locks[i]);
	if (t->pool_lock_ready)
		pthread_mutex_destroy(&t->pool_lock);
	free(t->ca_bundle);
	free(t);
}

struct ev_http *ev_http_curl_new(const struct ev_http_options *opts,
				 struct ev_error *err)
{
	static const struct ev_http_options defaults = {0};
	enum ev_err rc = EV_OK;
	struct curl_http *t = NULL;

	if (!opts)
		opts = &defaults;
	if (opts->connect_timeout_ms < 0 || opts->timeout_ms < 0) {
		ev_error_set(err, EV_E_CONFIG, "HTTP: negative timeout");
		return NULL;
	}
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK) {
		ev_error_set(err, EV_E_INTERNAL,
			     "HTTP: libcurl init failed: %s",
			     curl_easy_strerror(global_rc));
		return NULL;
	}
	const curl_version_info_data *vi = curl_version_info(CURLVERSION_NOW);
	if (!vi || !(vi->features & CURL_VERSION_SSL)) {
		ev_error_set(err, EV_E_INTERNAL, "HTTP: libcurl without TLS");
		return NULL;
	}
	if (opts->ca_bundle && access(opts->ca_bundle, R_OK) != 0) {
		ev_error_set(err, EV_E_CONFIG, "CA bundle %s is not readable",
			     opts->ca_bundle);
		return NULL;
	}

	t = calloc(1, sizeof(*t));
	if (!t) {
		rc = ev_error_set(err, EV_E_NOMEM, "HTTP: out of memory");
		goto out;
	}
	t->base.perform = curl_perform;
	t->base.free = curl_free_transport;
	t->connect_timeout_ms = opts->connect_timeout_ms
				    ? opts->connect_timeout_ms
				    : DEFAULT_CONNECT_TIMEOUT_MS;
	t->timeout_ms =
	    opts->timeout_ms ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
	t->max_body = opts->max_body ? opts->max_body : EV_LIMIT_HTTP_BODY;
	t->allow_http = opts->allow_http;
	if (opts->ca_bundle && !(t->ca_bundle = ev_strdup(opts->ca_bundle))) {
		rc = ev_error_set(err, EV_E_NOMEM, "HTTP: out of memory");
		goto out;
	}
	if (pthread_mutex_init(&t->pool_lock, NULL) != 0) {
		rc =
		    ev_error_set(err, EV_E_INTERNAL, "HTTP: mutex init failed");
		goto out;
	}
	t->pool_lock_ready = true;
	for (; t->n_share_locks < CURL_LOCK_DATA_LAST; t->n_share_locks++) {
		if (pthread_mutex_init(&t->share_locks[t->n_share_locks],
				       NULL) != 0) {
			rc = ev_error_set(err, EV_E_INTERNAL,
					  "HTTP: mutex init failed");
			goto out;
		}
	}
	t->share = curl_share_init();
	if (!t->share) {
		rc = ev_error_set(err, EV_E_NOMEM, "HTTP: out of memory");
		goto out;
	}
	/* DNS and TLS sessions only: curl documents a shared connection cache
	 * as unsafe across concurrent threads, so connections stay with the
	 * pooled easy handles instead. */
	CURLSHcode sc =
	    curl_share_setopt(t->share, CURLSHOPT_LOCKFUNC, share_lock);
	if (sc == CURLSHE_OK)
		sc = curl_share_setopt(t->share, CURLSHOPT_UNLOCKFUNC,
				       share_unlock);
	if (sc == CURLSHE_OK)
		sc = curl_share_setopt(t->share, CURLSHOPT_USERDATA, t);
	if (sc == CURLSHE_OK)
		sc = curl_share_setopt(t->share, CURLSHOPT_SHARE,
				       CURL_LOCK_DATA_DNS);
	if (sc == CURLSHE_OK)
		sc = curl_share_setopt(t->share, CURLSHOPT_SHARE,
				       CURL_LOCK_DATA_SSL_SESSION);
	if (sc != CURLSHE_OK)
		rc = ev_error_set(err, EV_E_INTERNAL, "HTTP: curl share: %s",
				  curl_share_strerror(sc));
out:
	if (rc != EV_OK) {
		curl_free_transport(t ? &t->base : NULL);
		return NULL;
	}
	return &t->base;
}
