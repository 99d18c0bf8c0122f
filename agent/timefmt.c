#include "timefmt.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void ev_time_format_amz(time_t t, char out[EV_AMZ_DATE_LEN + 1])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, EV_AMZ_DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &tm);
}

void ev_time_format_iso8601(time_t t, char out[EV_ISO8601_LEN + 1])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, EV_ISO8601_LEN + 1, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Reads exactly n digits at *p, advancing it. */
static enum ev_err digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return EV_E_MALFORMED;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return EV_OK;
}

static enum ev_err expect(const char **p, char c)
{
	if (**p != c)
		return EV_E_MALFORMED;
	(*p)++;
	return EV_OK;
}

static enum ev_err make_time(int y, int mo, int d, int h, int mi, int s,
			     time_t *out)
{
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    h > 23 || mi > 59 || s > 60)
		return EV_E_MALFORMED;
	struct tm tm = {0};
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	time_t t = timegm(&tm);
	/* timegm rolls 30 February over into March: refuse such dates
	 * rather than sign or record a day nobody wrote. */
	struct tm check;
	if (!gmtime_r(&t, &check) || check.tm_mday != d ||
	    check.tm_mon != mo - 1)
		return EV_E_MALFORMED;
	*out = t;
	return EV_OK;
}

enum ev_err ev_time_parse_amz(const char *s, time_t *out)
{
	int y, mo, d, h, mi, sec;
	const char *p = s;
	EV_TRY(digits(&p, 4, &y));
	EV_TRY(digits(&p, 2, &mo));
	EV_TRY(digits(&p, 2, &d));
	EV_TRY(expect(&p, 'T'));
	EV_TRY(digits(&p, 2, &h));
	EV_TRY(digits(&p, 2, &mi));
	EV_TRY(digits(&p, 2, &sec));
	EV_TRY(expect(&p, 'Z'));
	EV_ENSURE(*p == '\0', EV_E_MALFORMED);
	return make_time(y, mo, d, h, mi, sec, out);
}

enum ev_err ev_time_parse_iso8601(const char *s, time_t *out)
{
	int y, mo, d, h, mi, sec;
	const char *p = s;
	EV_TRY(digits(&p, 4, &y));
	EV_TRY(expect(&p, '-'));
	EV_TRY(digits(&p, 2, &mo));
	EV_TRY(expect(&p, '-'));
	EV_TRY(digits(&p, 2, &d));
	EV_ENSURE(*p == 'T' || *p == 't' || *p == ' ', EV_E_MALFORMED);
	p++;
	EV_TRY(digits(&p, 2, &h));
	EV_TRY(expect(&p, ':'));
	EV_TRY(digits(&p, 2, &mi));
	EV_TRY(expect(&p, ':'));
	EV_TRY(digits(&p, 2, &sec));
	if (*p == '.') {
		p++;
		EV_ENSURE(isdigit((unsigned char)*p), EV_E_MALFORMED);
		for (int i = 0; isdigit((unsigned char)*p); i++, p++)
			EV_ENSURE(i < 12, EV_E_MALFORMED);
	}
	long offset = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1;
		int oh, om;
		p++;
		EV_TRY(digits(&p, 2, &oh));
		if (*p == ':')
			p++;
		EV_TRY(digits(&p, 2, &om));
		EV_ENSURE(oh <= 23 && om <= 59, EV_E_MALFORMED);
		offset = sign * (oh * 3600L + om * 60L);
	} else {
		return EV_E_MALFORMED;
	}
	EV_ENSURE(*p == '\0', EV_E_MALFORMED);
	time_t t;
	EV_TRY(make_time(y, mo, d, h, mi, sec, &t));
	*out = t - offset;
	return EV_OK;
}

static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

enum ev_err ev_time_parse_http(const char *s, time_t *out)
{
	/* "Sat, 01 Mar 2025 10:00:00 GMT" */
	const char *p = s;
	for (int i = 0; i < 3; i++, p++)
		EV_ENSURE(isalpha((unsigned char)*p), EV_E_MALFORMED);
	EV_TRY(expect(&p, ','));
	EV_TRY(expect(&p, ' '));
	int d, y, h, mi, sec, mo = -1;
	EV_TRY(digits(&p, 2, &d));
	EV_TRY(expect(&p, ' '));
	for (int i = 0; i < 12; i++) {
		if (strncmp(p, months[i], 3) == 0) {
			mo = i + 1;
			break;
		}
	}
	EV_ENSURE(mo > 0, EV_E_MALFORMED);
	p += 3;
	EV_TRY(expect(&p, ' '));
	EV_TRY(digits(&p, 4, &y));
	EV_TRY(expect(&p, ' '));
	EV_TRY(digits(&p, 2, &h));
	EV_TRY(expect(&p, ':'));
	EV_TRY(digits(&p, 2, &mi));
	EV_TRY(expect(&p, ':'));
	EV_TRY(digits(&p, 2, &sec));
	EV_ENSURE(strcmp(p, " GMT") == 0 || strcmp(p, " UTC") == 0,
		  EV_E_MALFORMED);
	return make_time(y, mo, d, h, mi, sec, out);
}

enum ev_err ev_time_parse_epoch(const char *s, time_t *out)
{
	char *end = NULL;
	errno = 0;
	double v = strtod(s, &end);
	EV_ENSURE(end != s && *end == '\0' && errno == 0, EV_E_MALFORMED);
	EV_ENSURE(isfinite(v) && v >= 0 && v < 253402300800.0, EV_E_MALFORMED);
	*out = (time_t)v;
	return EV_OK;
}

enum ev_err ev_duration_parse(const char *s, long long *seconds)
{
	EV_ENSURE(s && isdigit((unsigned char)*s), EV_E_CONFIG);
	char *end = NULL;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	EV_ENSURE(errno == 0 && v >= 0, EV_E_CONFIG);
	long long unit = 1;
	switch (*end) {
	case '\0':
	case 's':
		unit = 1;
		break;
	case 'm':
		unit = 60;
		break;
	case 'h':
		unit = 3600;
		break;
	case 'd':
		unit = 86400;
		break;
	case 'w':
		unit = 7 * 86400;
		break;
	default:
		return EV_E_CONFIG;
	}
	if (*end)
		end++;
	EV_ENSURE(*end == '\0', EV_E_CONFIG);
	EV_ENSURE(v <= LLONG_MAX / unit, EV_E_CONFIG);
	*seconds = v * unit;
	return EV_OK;
}
