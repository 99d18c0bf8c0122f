#include <stdio.h>

#include "cli.h"

int ev_cmd_sign(const struct ev_cli_globals *g, int argc, char **argv)
{
	(void)g;
	(void)argc;
	(void)argv;
	fprintf(stderr, "evident: sign: not built yet\n");
	return EV_EXIT_USAGE;
}
