#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "digest.h"
#include "timefmt.h"

static void append_within_limit(void **state)
{
	(void)state;
	struct ev_buf b;
	ev_buf_init(&b, 8);
	assert_int_equal(ev_buf_append_str(&b, "abcd"), EV_OK);
	assert_int_equal(ev_buf_printf(&b, "%d", 1234), EV_OK);
	assert_string_equal(ev_buf_str(&b), "abcd1234");
	assert_int_equal(b.len, 8);
	ev_buf_cleanup(&b);
}

static void append_past_limit_fails_and_frees(void **state)
{
	(void)state;
	struct ev_buf b;
	ev_buf_init_secret(&b, 4);
	assert_int_equal(ev_buf_append_str(&b, "abc"), EV_OK);
	assert_int_equal(ev_buf_append_str(&b, "de"), EV_E_LIMIT);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_string_equal(ev_buf_str(&b), "");
	ev_buf_cleanup(&b);
}

static void secret_growth_keeps_contents(void **state)
{
	(void)state;
	struct ev_buf b;
	ev_buf_init_secret(&b, 4096);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(ev_buf_append_char(&b, (char)('a' + i % 26)),
				 EV_OK);
	assert_int_equal(b.len, 1000);
	assert_int_equal(b.data[999], 'a' + 999 % 26);
	char *s = ev_buf_take(&b);
	assert_non_null(s);
	assert_int_equal(strlen(s), 1000);
	ev_secret_free_str(s);
	assert_null(b.data);
}

static void cursor_lines(void **state)
{
	(void)state;
	const char *text = "one\r\ntwo\nlonger-line\nlast";
	struct ev_cursor c;
	const char *line;
	size_t n;
	ev_cursor_init(&c, text, strlen(text));
	assert_int_equal(ev_cursor_line(&c, 64, &line, &n), EV_OK);
	assert_int_equal(n, 3);
	assert_memory_equal(line, "one", 3);
	assert_int_equal(ev_cursor_line(&c, 64, &line, &n), EV_OK);
	assert_memory_equal(line, "two", 3);
	assert_int_equal(ev_cursor_line(&c, 4, &line, &n), EV_E_LIMIT);
	assert_int_equal(ev_cursor_line(&c, 64, &line, &n), EV_OK);
	assert_int_equal(ev_cursor_line(&c, 64, &line, &n), EV_OK);
	assert_int_equal(n, 4);
	assert_int_equal(ev_cursor_line(&c, 64, &line, &n), EV_E_MALFORMED);
	const unsigned char *p;
	assert_int_equal(ev_cursor_take(&c, 1, &p), EV_E_MALFORMED);
}

static void base64_round_trip(void **state)
{
	(void)state;
	static const struct {
		const char *plain, *b64;
	} cases[] = {{"", ""},
		     {"f", "Zg=="},
		     {"fo", "Zm8="},
		     {"foo", "Zm9v"},
		     {"foob", "Zm9vYg=="},
		     {"fooba", "Zm9vYmE="},
		     {"foobar", "Zm9vYmFy"}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ev_buf b;
		ev_buf_init(&b, 64);
		assert_int_equal(ev_base64_encode(cases[i].plain,
						  strlen(cases[i].plain), &b),
				 EV_OK);
		assert_string_equal(ev_buf_str(&b), cases[i].b64);
		ev_buf_reset(&b);
		assert_int_equal(
		    ev_base64_decode(cases[i].b64, strlen(cases[i].b64), &b),
		    EV_OK);
		assert_string_equal(ev_buf_str(&b), cases[i].plain);
		ev_buf_cleanup(&b);
	}
	static const char *bad[] = {"Zg=", "Z", "Zg==Zg==", "Z!==", "Zm9v="};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ev_buf b;
		ev_buf_init(&b, 64);
		assert_int_equal(ev_base64_decode(bad[i], strlen(bad[i]), &b),
				 EV_E_MALFORMED);
		ev_buf_cleanup(&b);
	}
}

static void sha256_known_answer(void **state)
{
	(void)state;
	char hex[EV_SHA256_HEX_LEN + 1];
	ev_sha256_hex("hello", 5, hex);
	assert_string_equal(
	    hex,
	    "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
	ev_sha256_hex("", 0, hex);
	assert_string_equal(
	    hex,
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void time_formats(void **state)
{
	(void)state;
	time_t t;
	assert_int_equal(ev_time_parse_iso8601("2025-03-01T10:00:00Z", &t),
			 EV_OK);
	assert_int_equal(t, 1740823200);
	assert_int_equal(ev_time_parse_iso8601("2025-03-01T10:00:00.123Z", &t),
			 EV_OK);
	assert_int_equal(t, 1740823200);
	assert_int_equal(ev_time_parse_iso8601("2025-03-01T11:00:00+01:00", &t),
			 EV_OK);
	assert_int_equal(t, 1740823200);
	assert_int_equal(
	    ev_time_parse_iso8601("2025-03-01T10:00:00.000+0000", &t), EV_OK);
	assert_int_equal(t, 1740823200);
	assert_int_equal(
	    ev_time_parse_http("Sat, 01 Mar 2025 10:00:00 GMT", &t), EV_OK);
	assert_int_equal(t, 1740823200);
	assert_int_equal(ev_time_parse_amz("20250301T100000Z", &t), EV_OK);
	assert_int_equal(t, 1740823200);
	assert_int_equal(ev_time_parse_epoch("1.7408232E9", &t), EV_OK);
	assert_int_equal(t, 1740823200);
	char out[EV_AMZ_DATE_LEN + 1];
	ev_time_format_amz(1740823200, out);
	assert_string_equal(out, "20250301T100000Z");
	static const char *bad[] = {"",
				    "2025-03-01",
				    "2025-13-01T10:00:00Z",
				    "2025-03-01T10:00:00",
				    "2025-03-01T10:00:00Zx",
				    "2025-03-01T10:00:00.Z"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ev_time_parse_iso8601(bad[i], &t),
				 EV_E_MALFORMED);
	assert_int_equal(
	    ev_time_parse_http("Sat, 01 Foo 2025 10:00:00 GMT", &t),
	    EV_E_MALFORMED);
	assert_int_equal(ev_time_parse_amz("20200230T000000Z", &t),
			 EV_E_MALFORMED);
	assert_int_equal(ev_time_parse_iso8601("2023-02-29T00:00:00Z", &t),
			 EV_E_MALFORMED);
	assert_int_equal(ev_time_parse_iso8601("2024-02-29T00:00:00Z", &t),
			 EV_OK);
	assert_int_equal(ev_time_parse_epoch("abc", &t), EV_E_MALFORMED);
	assert_int_equal(ev_time_parse_epoch("-5", &t), EV_E_MALFORMED);
}

static void durations(void **state)
{
	(void)state;
	long long s;
	assert_int_equal(ev_duration_parse("90d", &s), EV_OK);
	assert_int_equal(s, 90LL * 86400);
	assert_int_equal(ev_duration_parse("6h", &s), EV_OK);
	assert_int_equal(s, 6 * 3600);
	assert_int_equal(ev_duration_parse("45", &s), EV_OK);
	assert_int_equal(s, 45);
	assert_int_equal(ev_duration_parse("6x", &s), EV_E_CONFIG);
	assert_int_equal(ev_duration_parse("h", &s), EV_E_CONFIG);
	assert_int_equal(ev_duration_parse("1hh", &s), EV_E_CONFIG);
	assert_int_equal(ev_duration_parse("99999999999999999999d", &s),
			 EV_E_CONFIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(append_within_limit),
	    cmocka_unit_test(append_past_limit_fails_and_frees),
	    cmocka_unit_test(secret_growth_keeps_contents),
	    cmocka_unit_test(cursor_lines),
	    cmocka_unit_test(base64_round_trip),
	    cmocka_unit_test(sha256_known_answer),
	    cmocka_unit_test(time_formats),
	    cmocka_unit_test(durations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
