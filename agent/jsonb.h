/* Building JSON documents without checking every call: each builder
 * records an allocation failure in a struct ev_jsonb and returns NULL,
 * the setters accept NULL (and record it), so a document is assembled
 * straight through and checked once at the end.
 *
 * Ownership: as Jansson's _new functions, ev_jsonb_set and ev_jsonb_push
 * take the value (on failure too); the caller owns the root it built and
 * decrefs it when b->failed. Nothing here holds a secret. */
#ifndef EV_JSONB_H
#define EV_JSONB_H

#include <stdbool.h>
#include <time.h>

#include <jansson.h>

struct ev_jsonb {
	bool failed; /* some allocation failed: the document is incomplete */
};

/* A string ("" for NULL). */
json_t *ev_jsonb_str(struct ev_jsonb *b, const char *s);
/* A string, or null for NULL or "". */
json_t *ev_jsonb_str_or_null(struct ev_jsonb *b, const char *s);
json_t *ev_jsonb_int(struct ev_jsonb *b, json_int_t v);
json_t *ev_jsonb_obj(struct ev_jsonb *b);
json_t *ev_jsonb_arr(struct ev_jsonb *b);
/* ISO 8601 UTC ("2025-01-01T00:00:00Z"). */
json_t *ev_jsonb_time(struct ev_jsonb *b, time_t t);
/* o[key] = v; a NULL o or v records a failure (v is released). */
void ev_jsonb_set(struct ev_jsonb *b, json_t *o, const char *key, json_t *v);
/* Only when s is neither NULL nor "". */
void ev_jsonb_set_str(struct ev_jsonb *b, json_t *o, const char *key,
		      const char *s);
/* Appends v to a; a NULL a or v records a failure (v is released). */
void ev_jsonb_push(struct ev_jsonb *b, json_t *a, json_t *v);

#endif
