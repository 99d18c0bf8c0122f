/* Entry points of the evident subcommands. Each takes the arguments after
 * its own name (argv[0] is the subcommand) and returns a process exit code as
 * DESIGN.md lists them: 0 ok, 1 control not met, 2 usage or configuration
 * error, 3 collection incomplete, 4 verification failed. */
#ifndef EV_CLI_H
#define EV_CLI_H

enum ev_exit {
	EV_EXIT_OK = 0,
	EV_EXIT_NOT_MET = 1,
	EV_EXIT_USAGE = 2,
	EV_EXIT_INCOMPLETE = 3,
	EV_EXIT_VERIFY = 4,
};

/* Options every subcommand accepts before its own, parsed by main. */
struct ev_cli_globals {
	const char *config_path; /* NULL: default or none */
	const char *profile;	 /* --profile, NULL if not given */
	int verbosity;		 /* -1 quiet, 0 default, 1 verbose, 2 trace */
};

int ev_cmd_collect(const struct ev_cli_globals *g, int argc, char **argv);
int ev_cmd_daemon(const struct ev_cli_globals *g, int argc, char **argv);
int ev_cmd_status(const struct ev_cli_globals *g, int argc, char **argv);
int ev_cmd_demo(const struct ev_cli_globals *g, int argc, char **argv);
int ev_cmd_sign(const struct ev_cli_globals *g, int argc, char **argv);
int ev_cmd_request(const struct ev_cli_globals *g, int argc, char **argv);
int ev_cmd_controls(const struct ev_cli_globals *g, int argc, char **argv);
int ev_cmd_policy(const struct ev_cli_globals *g, int argc, char **argv);
int ev_cmd_keygen(const struct ev_cli_globals *g, int argc, char **argv);
int ev_cmd_verify(const struct ev_cli_globals *g, int argc, char **argv);
int ev_cmd_report(const struct ev_cli_globals *g, int argc, char **argv);
int ev_cmd_diff(const struct ev_cli_globals *g, int argc, char **argv);

#endif
