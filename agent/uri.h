/* RFC 3986 percent-encoding and the canonical URI forms SigV4 signs.
 *
 * Pure functions over caller memory. Every function appends to a caller's
 * struct ev_buf, whose limit bounds the output (EV_E_LIMIT past it). On
 * failure out holds nothing useful: it may be freed (as ev_buf_append does)
 * or hold part of the result, and the caller discards it. Encoding keeps the
 * unreserved set A-Za-z0-9-_.~ and writes every other byte as %XX with
 * upper-case hex; "+" is never read as a space. */
#ifndef EV_URI_H
#define EV_URI_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"

/* A name/value pair for a form body; views. A NULL value is written as
 * the empty string ("name="). */
struct ev_uri_param {
	const char *name;
	const char *value;
};

/* True for the RFC 3986 unreserved bytes A-Za-z0-9-_.~ */
bool ev_uri_is_unreserved(unsigned char c);

/* Percent-encodes n bytes of p onto out. "/" is kept when encode_slash is
 * false (paths) and written %2F when true (query names and values, form
 * members). Errors: EV_E_LIMIT, EV_E_NOMEM. */
enum ev_err ev_uri_encode(const void *p, size_t n, bool encode_slash,
			  struct ev_buf *out) EV_MUST_CHECK;

/* Decodes %XX escapes (either hex case) onto out. Lenient, the way servers
 * canonicalise: a "%" not followed by two hex digits is kept as a literal
 * "%". The result may hold any byte, NUL included. Errors: EV_E_LIMIT,
 * EV_E_NOMEM. */
enum ev_err ev_uri_decode(const char *p, size_t n,
			  struct ev_buf *out) EV_MUST_CHECK;

/* Removes "." and ".." segments and collapses repeated slashes, the way the
 * AWS SDKs do before signing: "" becomes "/", a leading "/" is kept, a
 * trailing "/" is kept when a segment remains ("//a//" -> "/a/", "/./" ->
 * "/"), ".." never climbs above the root, and a path that ends in a dot
 * segment has no trailing slash ("/a/." -> "/a"). Works on the path as
 * written (no decoding). Errors: EV_E_LIMIT, EV_E_NOMEM. */
enum ev_err ev_uri_normalize_path(const char *path, size_t n,
				  struct ev_buf *out) EV_MUST_CHECK;

/* Decodes each "/"-separated segment of path and encodes it again (slashes
 * inside a segment, written %2F, stay encoded). A path encoded once comes
 * out unchanged but for upper-case hex; a raw one ("a b") comes out encoded
 * once ("a%20b"). This is S3's canonical URI. Errors: EV_E_LIMIT,
 * EV_E_NOMEM. */
enum ev_err ev_uri_reencode_path(const char *path, size_t n,
				 struct ev_buf *out) EV_MUST_CHECK;

/* The SigV4 canonical query string of query (the part after "?", without
 * it; may be NULL when n is 0): split on "&" (empty pieces are dropped),
 * each piece split at its first "=", name and value decoded and encoded
 * again, sorted by encoded name then encoded value, joined as
 * "name=value&..." ("=" kept for empty values). Errors: EV_E_LIMIT (query
 * longer than EV_LIMIT_URL, or out's limit), EV_E_NOMEM. */
enum ev_err ev_uri_canonical_query(const char *query, size_t n,
				   struct ev_buf *out) EV_MUST_CHECK;

/* An application/x-www-form-urlencoded body (the query and ec2 protocols):
 * "n1=v1&n2=v2" in the order given, names and values encoded as in a query
 * ("/" as %2F, space as %20). Errors: EV_E_INVALID (a NULL or empty name),
 * EV_E_LIMIT, EV_E_NOMEM. */
enum ev_err ev_uri_form_encode(const struct ev_uri_param *params, size_t n,
			       struct ev_buf *out) EV_MUST_CHECK;

#endif
