#include "jsonb.h"

#include "timefmt.h"

json_t *ev_jsonb_str(struct ev_jsonb *b, const char *s)
{
	json_t *j = json_string(s ? s : "");
	b->failed |= !j;
	return j;
}

json_t *ev_jsonb_str_or_null(struct ev_jsonb *b, const char *s)
{
	return s && *s ? ev_jsonb_str(b, s) : json_null();
}

json_t *ev_jsonb_int(struct ev_jsonb *b, json_int_t v)
{
	json_t *j = json_integer(v);
	b->failed |= !j;
	return j;
}

json_t *ev_jsonb_obj(struct ev_jsonb *b)
{
	json_t *o = json_object();
	b->failed |= !o;
	return o;
}

json_t *ev_jsonb_arr(struct ev_jsonb *b)
{
	json_t *a = json_array();
	b->failed |= !a;
	return a;
}

json_t *ev_jsonb_time(struct ev_jsonb *b, time_t t)
{
	char iso[EV_ISO8601_LEN + 1];
	ev_time_format_iso8601(t, iso);
	return ev_jsonb_str(b, iso);
}

/* Jansson's _new setters release v when they fail, a NULL container
 * included. */
void ev_jsonb_set(struct ev_jsonb *b, json_t *o, const char *key, json_t *v)
{
	if (!v || json_object_set_new(o, key, v) != 0)
		b->failed = true;
}

void ev_jsonb_set_str(struct ev_jsonb *b, json_t *o, const char *key,
		      const char *s)
{
	if (s && *s)
		ev_jsonb_set(b, o, key, ev_jsonb_str(b, s));
}

void ev_jsonb_push(struct ev_jsonb *b, json_t *a, json_t *v)
{
	if (!v || json_array_append_new(a, v) != 0)
		b->failed = true;
}
