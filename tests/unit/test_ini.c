#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "bounds.h"
#include "inifile.h"

/* Every entry the parser delivered, flattened for assertions. */
#define MAX_SEEN 32
struct seen {
	size_t n;
	char section[MAX_SEEN][64];
	char key[MAX_SEEN][64];
	char value[MAX_SEEN][16384];
	int line[MAX_SEEN];
	int section_line[MAX_SEEN];
	char file[MAX_SEEN][256];
	size_t stop_at; /* 0: never; n: fail with EV_E_INVALID at entry n */
};

static enum ev_err collect(void *ctx, const struct ev_ini_entry *e,
			   struct ev_error *err)
{
	struct seen *s = ctx;
	assert_true(s->n < MAX_SEEN);
	snprintf(s->section[s->n], sizeof(s->section[0]), "%s", e->section);
	snprintf(s->key[s->n], sizeof(s->key[0]), "%s", e->key);
	snprintf(s->value[s->n], sizeof(s->value[0]), "%s", e->value);
	snprintf(s->file[s->n], sizeof(s->file[0]), "%s", e->file);
	s->line[s->n] = e->line;
	s->section_line[s->n] = e->section_line;
	s->n++;
	if (s->stop_at && s->n == s->stop_at)
		return ev_error_set(err, EV_E_INVALID, "stop here");
	return EV_OK;
}

static struct seen *seen_new(void)
{
	struct seen *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	return s;
}

static enum ev_err parse(const char *text, struct seen *s, struct ev_error *err)
{
	ev_error_clear(err);
	return ev_ini_parse_buffer("t.ini", text, strlen(text), collect, s,
				   err);
}

static void sections_keys_and_lines(void **state)
{
	(void)state;
	struct seen *s = seen_new();
	struct ev_error err;
	const char *text = "# comment\n"
			   "[default]\n"
			   "region = eu-west-1\n"
			   "\n"
			   "; another comment\n"
			   "[profile dev]\n"
			   "output=json\n"
			   "role_arn: arn:aws:iam::1:role/x\n";
	assert_int_equal(parse(text, s, &err), EV_OK);
	assert_int_equal(s->n, 3);
	assert_string_equal(s->section[0], "default");
	assert_string_equal(s->key[0], "region");
	assert_string_equal(s->value[0], "eu-west-1");
	assert_int_equal(s->line[0], 3);
	assert_int_equal(s->section_line[0], 2);
	assert_string_equal(s->section[1], "profile dev");
	assert_string_equal(s->value[1], "json");
	assert_int_equal(s->line[1], 7);
	assert_int_equal(s->section_line[1], 6);
	assert_string_equal(s->key[2], "role_arn");
	assert_string_equal(s->value[2], "arn:aws:iam::1:role/x");
	assert_int_equal(s->line[2], 8);
	assert_string_equal(s->file[2], "t.ini");
	free(s);
}

static void comments_hash_and_semicolon_indented_too(void **state)
{
	(void)state;
	struct seen *s = seen_new();
	struct ev_error err;
	const char *text = "[a]\n"
			   "#k = 1\n"
			   ";k = 2\n"
			   "   # indented comment\n"
			   "k = 3\n";
	assert_int_equal(parse(text, s, &err), EV_OK);
	assert_int_equal(s->n, 1);
	assert_string_equal(s->value[0], "3");
	assert_int_equal(s->line[0], 5);
	free(s);
}

static void no_inline_comments_as_configparser(void **state)
{
	(void)state;
	struct seen *s = seen_new();
	struct ev_error err;
	/* botocore's RawConfigParser keeps ';' and '#' inside values. */
	assert_int_equal(parse("[a]\nk = abc ;def #x\n", s, &err), EV_OK);
	assert_int_equal(s->n, 1);
	assert_string_equal(s->value[0], "abc ;def #x");
	free(s);
}

static void continuation_lines_joined(void **state)
{
	(void)state;
	struct seen *s = seen_new();
	struct ev_error err;
	const char *text = "[a]\n"
			   "s3 =\n"
			   "    addressing_style = path\n"
			   "\tsignature_version = s3v4\n"
			   "next = 1\n";
	assert_int_equal(parse(text, s, &err), EV_OK);
	assert_int_equal(s->n, 2);
	assert_string_equal(s->key[0], "s3");
	assert_string_equal(
	    s->value[0], "\naddressing_style = path\nsignature_version = s3v4");
	assert_int_equal(s->line[0], 2);
	assert_string_equal(s->key[1], "next");
	assert_int_equal(s->line[1], 5);
	free(s);
}

static void empty_sections_reported(void **state)
{
	(void)state;
	struct seen *s = seen_new();
	struct ev_error err;
	assert_int_equal(parse("[one]\n[two]\nk=v\n[three]\n", s, &err), EV_OK);
	assert_int_equal(s->n, 3);
	assert_string_equal(s->section[0], "one");
	assert_string_equal(s->key[0], "");
	assert_int_equal(s->line[0], 1);
	assert_string_equal(s->section[1], "two");
	assert_string_equal(s->key[1], "k");
	assert_string_equal(s->section[2], "three");
	assert_string_equal(s->key[2], "");
	assert_int_equal(s->line[2], 4);
	free(s);
}

static void repeated_section_has_its_own_header_line(void **state)
{
	(void)state;
	struct seen *s = seen_new();
	struct ev_error err;
	assert_int_equal(parse("[a]\nk=1\n[a]\nj=2\n", s, &err), EV_OK);
	assert_int_equal(s->n, 2);
	assert_int_equal(s->section_line[0], 1);
	assert_int_equal(s->section_line[1], 3);
	free(s);
}

static void keys_before_any_section(void **state)
{
	(void)state;
	struct seen *s = seen_new();
	struct ev_error err;
	assert_int_equal(parse("k = v\n[a]\n", s, &err), EV_OK);
	assert_int_equal(s->n, 2);
	assert_string_equal(s->section[0], "");
	assert_int_equal(s->section_line[0], 0);
	free(s);
}

static void crlf_and_bom(void **state)
{
	(void)state;
	struct seen *s = seen_new();
	struct ev_error err;
	assert_int_equal(parse("\xEF\xBB\xBF[a]\r\nk = v\r\n", s, &err), EV_OK);
	assert_int_equal(s->n, 1);
	assert_string_equal(s->section[0], "a");
	assert_string_equal(s->value[0], "v");
	assert_int_equal(s->line[0], 2);
	free(s);
}

static void syntax_errors_name_file_and_line(void **state)
{
	(void)state;
	struct seen *s = seen_new();
	struct ev_error err;
	assert_int_equal(parse("[a]\nk=v\n[broken\nj=1\n", s, &err),
			 EV_E_CONFIG);
	assert_non_null(strstr(err.message, "t.ini:3"));
	/* Parsing stopped at the bad line: j was never delivered. */
	for (size_t i = 0; i < s->n; i++)
		assert_string_not_equal(s->key[i], "j");

	memset(s, 0, sizeof(*s));
	assert_int_equal(parse("[a]\nk=v\njust words\n", s, &err), EV_E_CONFIG);
	assert_non_null(strstr(err.message, "t.ini:3"));

	/* An empty key is refused: key "" marks a section without keys. */
	memset(s, 0, sizeof(*s));
	assert_int_equal(parse("[a]\n = v\n", s, &err), EV_E_CONFIG);
	assert_non_null(strstr(err.message, "t.ini:2"));
	free(s);
}

static void long_value_line_accepted(void **state)
{
	(void)state;
	struct seen *s = seen_new();
	struct ev_error err;
	/* A session token is well over inih's default 200-byte line. */
	size_t n = 9000;
	char *text = malloc(n + 64);
	assert_non_null(text);
	int k = snprintf(text, 64, "[a]\naws_session_token = ");
	memset(text + k, 'T', n);
	memcpy(text + k + n, "\nnext = 1\n", sizeof("\nnext = 1\n"));
	assert_int_equal(parse(text, s, &err), EV_OK);
	assert_int_equal(s->n, 2);
	assert_int_equal(strlen(s->value[0]), n);
	assert_int_equal(s->line[1], 3);
	free(text);
	free(s);
}

static void overlong_line_is_a_limit_error(void **state)
{
	(void)state;
	struct seen *s = seen_new();
	struct ev_error err;
	size_t n = 20000;
	char *text = malloc(n + 64);
	assert_non_null(text);
	int k = snprintf(text, 64, "[a]\nok = 1\nk = ");
	memset(text + k, 'x', n);
	text[k + n] = '\0';
	assert_int_equal(parse(text, s, &err), EV_E_LIMIT);
	assert_non_null(strstr(err.message, "t.ini:3"));
	free(text);
	free(s);
}

static void overlong_section_name_refused(void **state)
{
	(void)state;
	struct seen *s = seen_new();
	struct ev_error err;
	char text[200];
	char name[61];
	memset(name, 'n', 60);
	name[60] = '\0';
	snprintf(text, sizeof(text), "[ok]\nk=1\n[profile %s]\nk=2\n", name);
	assert_int_equal(parse(text, s, &err), EV_E_LIMIT);
	assert_non_null(strstr(err.message, "t.ini:3"));
	free(s);
}

static void nul_byte_refused(void **state)
{
	(void)state;
	struct seen *s = seen_new();
	struct ev_error err;
	const char text[] = "[a]\nk = v\0w\n";
	ev_error_clear(&err);
	assert_int_equal(ev_ini_parse_buffer("t.ini", text, sizeof(text) - 1,
					     collect, s, &err),
			 EV_E_CONFIG);
	assert_non_null(strstr(err.message, "t.ini:2"));
	free(s);
}

static void callback_error_stops_and_is_returned(void **state)
{
	(void)state;
	struct seen *s = seen_new();
	struct ev_error err;
	s->stop_at = 2;
	assert_int_equal(parse("[a]\nk1=1\nk2=2\nk3=3\nk4=4\n", s, &err),
			 EV_E_INVALID);
	assert_int_equal(s->n, 2);
	assert_string_equal(err.message, "stop here");
	free(s);
}

/* --- files ---------------------------------------------------------------- */

static char tmpdir[256];

static int make_tmpdir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ev-test-ini-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void file_parse_names_path_and_line(void **state)
{
	(void)state;
	struct seen *s = seen_new();
	struct ev_error err;
	char path[300];
	snprintf(path, sizeof(path), "%s/config", tmpdir);
	write_file(path, "[a]\nk = v\n");
	assert_int_equal(ev_ini_parse_file(path, 0, collect, s, &err), EV_OK);
	assert_int_equal(s->n, 1);
	assert_string_equal(s->file[0], path);

	write_file(path, "[a]\nk = v\n[b\n");
	assert_int_equal(ev_ini_parse_file(path, 0, collect, s, &err),
			 EV_E_CONFIG);
	char want[320];
	snprintf(want, sizeof(want), "%s:3", path);
	assert_non_null(strstr(err.message, want));
	free(s);
}

static void file_size_limit(void **state)
{
	(void)state;
	struct seen *s = seen_new();
	struct ev_error err;
	char path[300];
	snprintf(path, sizeof(path), "%s/big", tmpdir);
	write_file(path, "[a]\nk = 0123456789\n");
	assert_int_equal(ev_ini_parse_file(path, 10, collect, s, &err),
			 EV_E_LIMIT);
	assert_int_equal(s->n, 0);
	assert_int_equal(ev_ini_parse_file(path, 100, collect, s, &err), EV_OK);
	assert_int_equal(s->n, 1);
	free(s);
}

static void non_regular_files_refused(void **state)
{
	(void)state;
	struct seen *s = seen_new();
	struct ev_error err;
	assert_int_equal(ev_ini_parse_file(tmpdir, 0, collect, s, &err),
			 EV_E_IO);
	assert_non_null(strstr(err.message, "not a regular file"));
	char fifo[300];
	snprintf(fifo, sizeof(fifo), "%s/fifo", tmpdir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	/* Must not block waiting for a writer. */
	assert_int_equal(ev_ini_parse_file(fifo, 0, collect, s, &err), EV_E_IO);
	assert_int_equal(ev_ini_parse_file("/dev/null", 0, collect, s, &err),
			 EV_E_IO);
	assert_int_equal(s->n, 0);
	free(s);
}

static void missing_file_is_not_found(void **state)
{
	(void)state;
	struct seen *s = seen_new();
	struct ev_error err;
	char path[300];
	snprintf(path, sizeof(path), "%s/absent", tmpdir);
	assert_int_equal(ev_ini_parse_file(path, 0, collect, s, &err),
			 EV_E_NOT_FOUND);
	assert_non_null(strstr(err.message, path));
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sections_keys_and_lines),
	    cmocka_unit_test(comments_hash_and_semicolon_indented_too),
	    cmocka_unit_test(no_inline_comments_as_configparser),
	    cmocka_unit_test(continuation_lines_joined),
	    cmocka_unit_test(empty_sections_reported),
	    cmocka_unit_test(repeated_section_has_its_own_header_line),
	    cmocka_unit_test(keys_before_any_section),
	    cmocka_unit_test(crlf_and_bom),
	    cmocka_unit_test(syntax_errors_name_file_and_line),
	    cmocka_unit_test(long_value_line_accepted),
	    cmocka_unit_test(overlong_line_is_a_limit_error),
	    cmocka_unit_test(overlong_section_name_refused),
	    cmocka_unit_test(nul_byte_refused),
	    cmocka_unit_test(callback_error_stops_and_is_returned),
	    cmocka_unit_test(file_parse_names_path_and_line),
	    cmocka_unit_test(file_size_limit),
	    cmocka_unit_test(non_regular_files_refused),
	    cmocka_unit_test(missing_file_is_not_found),
	};
	return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
