/* Time formats AWS uses, to and from time_t (UTC). Pure: no clock here. */
#ifndef EV_TIMEFMT_H
#define EV_TIMEFMT_H

#include <time.h>

#include "err.h"

#define EV_AMZ_DATE_LEN 16 /* 20150830T123600Z */
#define EV_ISO8601_LEN	20 /* 2015-08-30T12:36:00Z */

/* Writes "YYYYMMDDTHHMMSSZ" and a NUL into out. */
void ev_time_format_amz(time_t t, char out[EV_AMZ_DATE_LEN + 1]);
/* Writes "YYYY-MM-DDTHH:MM:SSZ" and a NUL into out. */
void ev_time_format_iso8601(time_t t, char out[EV_ISO8601_LEN + 1]);

/* "YYYYMMDDTHHMMSSZ" exactly. EV_E_MALFORMED otherwise. */
enum ev_err ev_time_parse_amz(const char *s, time_t *out) EV_MUST_CHECK;
/* ISO 8601 as AWS sends it: "2025-02-01T09:30:00Z", optional fraction
 * (".000"), zone "Z", "+00:00" or "+0000" (any offset is applied). */
enum ev_err ev_time_parse_iso8601(const char *s, time_t *out) EV_MUST_CHECK;
/* RFC 1123 "Sat, 01 Mar 2025 10:00:00 GMT" (the HTTP Date header). */
enum ev_err ev_time_parse_http(const char *s, time_t *out) EV_MUST_CHECK;
/* JSON epoch seconds as AWS sends them, possibly fractional or in exponent
 * form ("1.5767136E9"); the fraction is dropped. */
enum ev_err ev_time_parse_epoch(const char *s, time_t *out) EV_MUST_CHECK;

/* Durations "90d", "6h", "30m", "45s", "2w", or plain seconds. */
enum ev_err ev_duration_parse(const char *s, long long *seconds) EV_MUST_CHECK;

#endif
