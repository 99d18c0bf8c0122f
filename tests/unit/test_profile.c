#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "profile.h"

static char tmpdir[256];
static char config_path[300];
static char creds_path[300];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ev-test-profile-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(config_path, sizeof(config_path), "%s/config", tmpdir);
	snprintf(creds_path, sizeof(creds_path), "%s/credentials", tmpdir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static int reset_files(void **state)
{
	(void)state;
	unlink(config_path);
	unlink(creds_path);
	return 0;
}

static struct ev_profiles *load(void)
{
	struct ev_profiles *p = NULL;
	struct ev_error err;
	assert_int_equal(
	    ev_profile_load_files(config_path, creds_path, &p, &err), EV_OK);
	assert_non_null(p);
	return p;
}

static void both_files_and_section_names(void **state)
{
	(void)state;
	write_file(config_path, "[default]\n"
				"region = eu-west-1\n"
				"[profile dev]\n"
				"region = us-east-2\n"
				"[ops]\n" /* not a profile in the config file */
				"region = ap-south-1\n"
				"[sso-session corp]\n"
				"sso_region = us-east-1\n");
	write_file(creds_path, "[dev]\n"
			       "aws_access_key_id = AKIADEV\n"
			       "[profile odd]\n" /* literally "profile odd" */
			       "aws_access_key_id = AKIAODD\n");
	struct ev_profiles *p = load();
	assert_string_equal(
	    ev_profile_get(p, "default", "region", EV_PROFILE_ANY),
	    "eu-west-1");
	assert_string_equal(ev_profile_get(p, "dev", "region", EV_PROFILE_ANY),
			    "us-east-2");
	assert_string_equal(
	    ev_profile_get(p, "dev", "aws_access_key_id", EV_PROFILE_ANY),
	    "AKIADEV");
	assert_false(ev_profile_exists(p, "ops", EV_PROFILE_ANY));
	assert_false(ev_profile_exists(p, "corp", EV_PROFILE_ANY));
	assert_false(ev_profile_exists(p, "sso-session corp", EV_PROFILE_ANY));
	assert_true(
	    ev_profile_exists(p, "profile odd", EV_PROFILE_CREDENTIALS));
	assert_false(ev_profile_exists(p, "odd", EV_PROFILE_ANY));
	assert_true(ev_profile_exists(p, "dev", EV_PROFILE_CONFIG));
	assert_true(ev_profile_exists(p, "dev", EV_PROFILE_CREDENTIALS));
	assert_false(ev_profile_exists(p, "default", EV_PROFILE_CREDENTIALS));
	assert_string_equal(ev_profile_path(p, EV_PROFILE_CONFIG), config_path);
	assert_string_equal(ev_profile_path(p, EV_PROFILE_CREDENTIALS),
			    creds_path);
	ev_profile_free(p);
}

static void credentials_file_wins_and_files_can_be_chosen(void **state)
{
	(void)state;
	write_file(config_path, "[profile x]\n"
				"aws_access_key_id = FROMCONFIG\n"
				"output = json\n");
	write_file(creds_path, "[x]\n"
			       "aws_access_key_id = FROMCREDS\n");
	struct ev_profiles *p = load();
	struct ev_profile_value v;
	assert_true(
	    ev_profile_lookup(p, "x", "aws_access_key_id", EV_PROFILE_ANY, &v));
	assert_string_equal(v.value, "FROMCREDS");
	assert_string_equal(v.file, creds_path);
	assert_int_equal(v.line, 2);
	assert_string_equal(
	    ev_profile_get(p, "x", "aws_access_key_id", EV_PROFILE_CONFIG),
	    "FROMCONFIG");
	assert_string_equal(ev_profile_get(p, "x", "output", EV_PROFILE_ANY),
			    "json");
	assert_null(ev_profile_get(p, "x", "output", EV_PROFILE_CREDENTIALS));
	assert_null(ev_profile_get(p, "x", "absent", EV_PROFILE_ANY));
	ev_profile_free(p);
}

static void keys_are_case_insensitive_sections_are_not(void **state)
{
	(void)state;
	write_file(creds_path, "[Dev]\nAWS_Access_Key_ID = AKIA1\n");
	struct ev_profiles *p = load();
	assert_string_equal(
	    ev_profile_get(p, "Dev", "aws_access_key_id", EV_PROFILE_ANY),
	    "AKIA1");
	assert_false(ev_profile_exists(p, "dev", EV_PROFILE_ANY));
	ev_profile_free(p);
}

static void later_default_section_wins(void **state)
{
	(void)state;
	write_file(config_path, "[default]\nregion = a\noutput = text\n"
				"[profile default]\nregion = b\n");
	struct ev_profiles *p = load();
	assert_string_equal(
	    ev_profile_get(p, "default", "region", EV_PROFILE_ANY), "b");
	/* The whole earlier section is replaced, as in botocore's dict. */
	assert_null(ev_profile_get(p, "default", "output", EV_PROFILE_ANY));
	ev_profile_free(p);
}

static void profile_names_split_like_shlex(void **state)
{
	(void)state;
	write_file(config_path, "[profile \"my team\"]\nregion = q\n"
				"[profile a b]\nregion = no\n"
				"[profile   spaced  ]\nregion = s\n"
				"[profile]\nregion = no\n"
				"[profile 'unbalanced]\nregion = no\n");
	struct ev_profiles *p = load();
	assert_string_equal(
	    ev_profile_get(p, "my team", "region", EV_PROFILE_ANY), "q");
	assert_false(ev_profile_exists(p, "a", EV_PROFILE_ANY));
	assert_false(ev_profile_exists(p, "a b", EV_PROFILE_ANY));
	assert_string_equal(
	    ev_profile_get(p, "spaced", "region", EV_PROFILE_ANY), "s");
	assert_false(ev_profile_exists(p, "profile", EV_PROFILE_ANY));
	assert_false(ev_profile_exists(p, "'unbalanced", EV_PROFILE_ANY));
	assert_false(ev_profile_exists(p, "unbalanced", EV_PROFILE_ANY));
	ev_profile_free(p);
}

static void default_section_gives_fallbacks(void **state)
{
	(void)state;
	write_file(creds_path, "[DEFAULT]\nregion = r0\n"
			       "[a]\naws_access_key_id = A\n"
			       "[b]\nregion = rb\n");
	struct ev_profiles *p = load();
	assert_string_equal(ev_profile_get(p, "a", "region", EV_PROFILE_ANY),
			    "r0");
	assert_string_equal(ev_profile_get(p, "b", "region", EV_PROFILE_ANY),
			    "rb");
	assert_false(ev_profile_exists(p, "DEFAULT", EV_PROFILE_ANY));
	ev_profile_free(p);
}

static void empty_profile_exists(void **state)
{
	(void)state;
	write_file(config_path, "[profile empty]\n");
	struct ev_profiles *p = load();
	assert_true(ev_profile_exists(p, "empty", EV_PROFILE_ANY));
	assert_null(ev_profile_get(p, "empty", "region", EV_PROFILE_ANY));
	ev_profile_free(p);
}

static void missing_files_are_empty(void **state)
{
	(void)state;
	struct ev_profiles *p = load();
	assert_false(ev_profile_exists(p, "default", EV_PROFILE_ANY));
	assert_null(ev_profile_get(p, "default", "region", EV_PROFILE_ANY));
	ev_profile_free(p);

	struct ev_error err;
	assert_int_equal(ev_profile_load_files(NULL, NULL, &p, &err), EV_OK);
	assert_string_equal(ev_profile_path(p, EV_PROFILE_CONFIG), "");
	ev_profile_free(p);
}

static void repeats_are_errors(void **state)
{
	(void)state;
	struct ev_profiles *p = NULL;
	struct ev_error err;
	write_file(creds_path, "[a]\nk = 1\n[b]\nk = 2\n[a]\nj = 3\n");
	assert_int_equal(
	    ev_profile_load_files(config_path, creds_path, &p, &err),
	    EV_E_CONFIG);
	assert_null(p);
	char want[320];
	snprintf(want, sizeof(want), "%s:5", creds_path);
	assert_non_null(strstr(err.message, want));

	write_file(creds_path, "[a]\nk = 1\nK = 2\n");
	assert_int_equal(
	    ev_profile_load_files(config_path, creds_path, &p, &err),
	    EV_E_CONFIG);
	snprintf(want, sizeof(want), "%s:3", creds_path);
	assert_non_null(strstr(err.message, want));
	assert_non_null(strstr(err.message, "line 2"));
}

static void keys_outside_sections_and_syntax_errors(void **state)
{
	(void)state;
	struct ev_profiles *p = NULL;
	struct ev_error err;
	write_file(config_path, "region = x\n[default]\n");
	assert_int_equal(
	    ev_profile_load_files(config_path, creds_path, &p, &err),
	    EV_E_CONFIG);
	assert_non_null(strstr(err.message, ":1"));
	write_file(config_path, "[default]\nregion\n");
	assert_int_equal(
	    ev_profile_load_files(config_path, creds_path, &p, &err),
	    EV_E_CONFIG);
	assert_null(p);
}

static void values_never_in_errors(void **state)
{
	(void)state;
	struct ev_profiles *p = NULL;
	struct ev_error err;
	write_file(creds_path, "[a]\naws_secret_access_key = SUPERSECRETVALUE\n"
			       "aws_secret_access_key = SUPERSECRETVALUE2\n");
	assert_int_equal(
	    ev_profile_load_files(config_path, creds_path, &p, &err),
	    EV_E_CONFIG);
	assert_null(strstr(err.message, "SUPERSECRET"));
}

static void load_from_environment(void **state)
{
	(void)state;
	write_file(config_path, "[profile e]\nregion = env\n");
	setenv("AWS_CONFIG_FILE", config_path, 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", creds_path, 1);
	struct ev_profiles *p = NULL;
	struct ev_error err;
	assert_int_equal(ev_profile_load(&p, &err), EV_OK);
	assert_string_equal(ev_profile_get(p, "e", "region", EV_PROFILE_ANY),
			    "env");
	ev_profile_free(p);

	/* "~/" expands to $HOME, as botocore's expanduser does. */
	char *old_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
	setenv("HOME", tmpdir, 1);
	setenv("AWS_CONFIG_FILE", "~/config", 1);
	assert_int_equal(ev_profile_load(&p, &err), EV_OK);
	assert_string_equal(ev_profile_path(p, EV_PROFILE_CONFIG), config_path);
	assert_true(ev_profile_exists(p, "e", EV_PROFILE_CONFIG));
	ev_profile_free(p);

	/* The defaults live under $HOME/.aws. */
	unsetenv("AWS_CONFIG_FILE");
	unsetenv("AWS_SHARED_CREDENTIALS_FILE");
	assert_int_equal(ev_profile_load(&p, &err), EV_OK);
	char want[320];
	snprintf(want, sizeof(want), "%s/.aws/credentials", tmpdir);
	assert_string_equal(ev_profile_path(p, EV_PROFILE_CREDENTIALS), want);
	ev_profile_free(p);
	if (old_home)
		setenv("HOME", old_home, 1);
	free(old_home);
}

static void profile_name_precedence(void **state)
{
	(void)state;
	bool named;
	unsetenv("AWS_DEFAULT_PROFILE");
	unsetenv("AWS_PROFILE");
	assert_string_equal(ev_profile_name(NULL, &named), "default");
	assert_false(named);
	setenv("AWS_PROFILE", "p2", 1);
	assert_string_equal(ev_profile_name(NULL, &named), "p2");
	assert_true(named);
	setenv("AWS_DEFAULT_PROFILE", "p1", 1);
	assert_string_equal(ev_profile_name(NULL, &named), "p1");
	assert_string_equal(ev_profile_name("cli", &named), "cli");
	assert_true(named);
	setenv("AWS_DEFAULT_PROFILE", "", 1);
	assert_string_equal(ev_profile_name(NULL, &named), "p2");
	unsetenv("AWS_DEFAULT_PROFILE");
	unsetenv("AWS_PROFILE");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(both_files_and_section_names, reset_files),
	    cmocka_unit_test_setup(
		credentials_file_wins_and_files_can_be_chosen, reset_files),
	    cmocka_unit_test_setup(keys_are_case_insensitive_sections_are_not,
				   reset_files),
	    cmocka_unit_test_setup(later_default_section_wins, reset_files),
	    cmocka_unit_test_setup(profile_names_split_like_shlex, reset_files),
	    cmocka_unit_test_setup(default_section_gives_fallbacks,
				   reset_files),
	    cmocka_unit_test_setup(empty_profile_exists, reset_files),
	    cmocka_unit_test_setup(missing_files_are_empty, reset_files),
	    cmocka_unit_test_setup(repeats_are_errors, reset_files),
	    cmocka_unit_test_setup(keys_outside_sections_and_syntax_errors,
				   reset_files),
	    cmocka_unit_test_setup(values_never_in_errors, reset_files),
	    cmocka_unit_test_setup(load_from_environment, reset_files),
	    cmocka_unit_test(profile_name_precedence),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
