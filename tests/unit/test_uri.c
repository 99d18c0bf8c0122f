#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bounds.h"
#include "buf.h"
#include "uri.h"

#define OUT_LIMIT 65536

struct encode_case {
	const char *in;
	size_t len; /* 0: strlen(in) */
	bool encode_slash;
	const char *want;
};

static void encode_table(void **state)
{
	(void)state;
	static const struct encode_case cases[] = {
	    {"", 0, true, ""},
	    {"AZaz09-_.~", 0, true, "AZaz09-_.~"},
	    {"a b", 0, true, "a%20b"},
	    {"/a/b/", 0, false, "/a/b/"},
	    {"/a/b/", 0, true, "%2Fa%2Fb%2F"},
	    {"+", 0, true, "%2B"},
	    {"%", 0, false, "%25"},
	    {"%41", 0, false, "%2541"},
	    {"!*'();:@&=$,?#[]", 0, true,
	     "%21%2A%27%28%29%3B%3A%40%26%3D%24%2C%3F%23%5B%5D"},
	    {"\xc3\xa9", 0, true, "%C3%A9"},
	    {"\xe1\x88\xb4", 0, false, "%E1%88%B4"},
	    {"a\0b", 3, true, "a%00b"},
	    {"\x7f\xff", 0, true, "%7F%FF"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct encode_case *c = &cases[i];
		struct ev_buf out;
		ev_buf_init(&out, OUT_LIMIT);
		size_t n = c->len ? c->len : strlen(c->in);
		assert_int_equal(ev_uri_encode(c->in, n, c->encode_slash, &out),
				 EV_OK);
		assert_string_equal(ev_buf_str(&out), c->want);
		ev_buf_cleanup(&out);
	}
}

static void encode_past_limit(void **state)
{
	(void)state;
	struct ev_buf out;
	ev_buf_init(&out, 5);
	assert_int_equal(ev_uri_encode("a b", 3, true, &out), EV_OK);
	assert_string_equal(ev_buf_str(&out), "a%20b");
	ev_buf_reset(&out);
	assert_int_equal(ev_uri_encode("a  b", 4, true, &out), EV_E_LIMIT);
	ev_buf_cleanup(&out);
}

struct decode_case {
	const char *in;
	const char *want;
	size_t want_len;
};

static void decode_table(void **state)
{
	(void)state;
	static const struct decode_case cases[] = {
	    {"", "", 0},	  {"abc", "abc", 3},
	    {"%41", "A", 1},	  {"%4a%4A", "JJ", 2},
	    {"a+b", "a+b", 3}, /* '+' is not a space in RFC 3986 */
	    {"%", "%", 1},	  {"%4", "%4", 2},
	    {"%zz", "%zz", 3},	  {"%%41", "%A", 2},
	    {"100%", "100%", 4},  {"%E1%88%B4", "\xe1\x88\xb4", 3},
	    {"a%00b", "a\0b", 3},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ev_buf out;
		ev_buf_init(&out, OUT_LIMIT);
		assert_int_equal(
		    ev_uri_decode(cases[i].in, strlen(cases[i].in), &out),
		    EV_OK);
		assert_int_equal(out.len, cases[i].want_len);
		if (cases[i].want_len)
			assert_memory_equal(out.data, cases[i].want,
					    cases[i].want_len);
		ev_buf_cleanup(&out);
	}
}

struct str_case {
	const char *in;
	const char *want;
};

static void normalize_table(void **state)
{
	(void)state;
	static const struct str_case cases[] = {
	    {"", "/"},
	    {"/", "/"},
	    {"//", "/"},
	    {"/./", "/"},
	    {"/.", "/"},
	    {"/example/..", "/"},
	    {"/example1/example2/../..", "/"},
	    {"//example//", "/example/"},
	    {"/./example", "/example"},
	    {"/a/.", "/a"},
	    {"/a/b/..", "/a"},
	    {"/a/b/../", "/a/"},
	    {"/../a", "/a"},
	    {"/../../..", "/"},
	    {"/a/./b/../c/", "/a/c/"},
	    {"/a/.../b", "/a/.../b"},
	    {"/a/..b/.c", "/a/..b/.c"},
	    {"/a%2F..", "/a%2F.."},
	    {"/example space/", "/example space/"},
	    {"a/b", "a/b"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ev_buf out;
		ev_buf_init(&out, OUT_LIMIT);
		assert_int_equal(ev_uri_normalize_path(
				     cases[i].in, strlen(cases[i].in), &out),
				 EV_OK);
		assert_string_equal(ev_buf_str(&out), cases[i].want);
		ev_buf_cleanup(&out);
	}
}

static void reencode_table(void **state)
{
	(void)state;
	static const struct str_case cases[] = {
	    {"/", "/"},
	    {"/a%20b", "/a%20b"},
	    {"/a b", "/a%20b"},
	    {"/a%2fb", "/a%2Fb"},
	    {"/a%2Fb/c", "/a%2Fb/c"},
	    {"/%E1%88%B4", "/%E1%88%B4"},
	    {"/\xc3\xbc", "/%C3%BC"},
	    {"/a+b", "/a%2Bb"},
	    {"/a%zz", "/a%25zz"},
	    {"/100%25", "/100%25"},
	    {"//x/./../", "//x/./../"},
	    {"/key~name-1_2.txt", "/key~name-1_2.txt"},
	    {"/a=b&c", "/a%3Db%26c"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ev_buf out;
		ev_buf_init(&out, OUT_LIMIT);
		assert_int_equal(ev_uri_reencode_path(
				     cases[i].in, strlen(cases[i].in), &out),
				 EV_OK);
		assert_string_equal(ev_buf_str(&out), cases[i].want);
		ev_buf_cleanup(&out);
	}
}

static void canonical_query_table(void **state)
{
	(void)state;
	static const struct str_case cases[] = {
	    {"", ""},
	    {"Param1=value1", "Param1=value1"},
	    {"Param2=value2&Param1=value1", "Param1=value1&Param2=value2"},
	    /* repeated keys sort by value */
	    {"Param1=value2&Param1=Value1", "Param1=Value1&Param1=value2"},
	    {"Param-3=Value3&Param=Value2&%E1%88%B4=Value1",
	     "%E1%88%B4=Value1&Param=Value2&Param-3=Value3"},
	    {"\xe1\x88\xb4=bar", "%E1%88%B4=bar"},
	    /* sorted by (name, value), not by the joined text: '-' sorts
	     * before '=' */
	    {"a-b=1&a=2", "a=2&a-b=1"},
	    {"a", "a="},
	    {"a=", "a="},
	    {"a&&b=1&", "a=&b=1"},
	    {"&", ""},
	    {"b=%2f&a=x y", "a=x%20y&b=%2F"},
	    {"a=b=c", "a=b%3Dc"},
	    {"a+b=c+d", "a%2Bb=c%2Bd"},
	    {"k=%7e%2D%5f%2e", "k=~-_."},
	    {"k=%zz", "k=%25zz"},
	    {"=v", "=v"},
	    {"k=a%00b", "k=a%00b"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *want = cases[i].want;
		struct ev_buf out;
		ev_buf_init(&out, OUT_LIMIT);
		assert_int_equal(ev_uri_canonical_query(
				     cases[i].in, strlen(cases[i].in), &out),
				 EV_OK);
		assert_string_equal(ev_buf_str(&out), want);
		ev_buf_cleanup(&out);
	}
}

static void canonical_query_limits(void **state)
{
	(void)state;
	size_t n = EV_LIMIT_URL + 1;
	char *q = malloc(n);
	assert_non_null(q);
	memset(q, 'a', n);
	struct ev_buf out;
	ev_buf_init(&out, 4 * n);
	assert_int_equal(ev_uri_canonical_query(q, n, &out), EV_E_LIMIT);
	assert_int_equal(ev_uri_canonical_query(q, n - 1, &out), EV_OK);
	assert_int_equal(out.len, n - 1 + 1); /* "aaa...=" */
	ev_buf_cleanup(&out);
	free(q);

	ev_buf_init(&out, 8);
	assert_int_equal(ev_uri_canonical_query("b=2&a=1", 7, &out), EV_OK);
	assert_string_equal(ev_buf_str(&out), "a=1&b=2");
	ev_buf_reset(&out);
	assert_int_equal(ev_uri_canonical_query("b=2&a=1&c", 9, &out),
			 EV_E_LIMIT);
	ev_buf_cleanup(&out);
}

static void form_encode(void **state)
{
	(void)state;
	static const struct ev_uri_param params[] = {
	    {"Action", "ListUsers"}, {"Version", "2010-05-08"},
	    {"Marker", "m/a+b="},    {"PathPrefix", "a b:c"},
	    {"Empty", NULL},	     {"Filter.1.Value.1", "\xc3\xa9"},
	};
	struct ev_buf out;
	ev_buf_init(&out, OUT_LIMIT);
	assert_int_equal(ev_uri_form_encode(params, 6, &out), EV_OK);
	assert_string_equal(ev_buf_str(&out),
			    "Action=ListUsers&Version=2010-05-08&"
			    "Marker=m%2Fa%2Bb%3D&PathPrefix=a%20b%3Ac&Empty=&"
			    "Filter.1.Value.1=%C3%A9");
	ev_buf_cleanup(&out);

	ev_buf_init(&out, OUT_LIMIT);
	assert_int_equal(ev_uri_form_encode(params, 0, &out), EV_OK);
	assert_string_equal(ev_buf_str(&out), "");
	static const struct ev_uri_param empty_name[] = {{"A", "1"}, {"", "2"}};
	assert_int_equal(ev_uri_form_encode(empty_name, 2, &out), EV_E_INVALID);
	static const struct ev_uri_param null_name[] = {{NULL, "2"}};
	assert_int_equal(ev_uri_form_encode(null_name, 1, &out), EV_E_INVALID);
	ev_buf_cleanup(&out);

	ev_buf_init(&out, 10);
	assert_int_equal(ev_uri_form_encode(params, 1, &out), EV_E_LIMIT);
	ev_buf_cleanup(&out);
}

static void unreserved_set(void **state)
{
	(void)state;
	int n = 0;
	for (int c = 0; c < 256; c++)
		n += ev_uri_is_unreserved((unsigned char)c);
	assert_int_equal(n, 26 + 26 + 10 + 4);
	assert_true(ev_uri_is_unreserved('~'));
	assert_false(ev_uri_is_unreserved('/'));
	assert_false(ev_uri_is_unreserved('+'));
	assert_false(ev_uri_is_unreserved('%'));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(encode_table),
	    cmocka_unit_test(encode_past_limit),
	    cmocka_unit_test(decode_table),
	    cmocka_unit_test(normalize_table),
	    cmocka_unit_test(reencode_table),
	    cmocka_unit_test(canonical_query_table),
	    cmocka_unit_test(canonical_query_limits),
	    cmocka_unit_test(form_encode),
	    cmocka_unit_test(unreserved_set),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
