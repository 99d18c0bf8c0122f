/* Prints every configuration key the parser accepts, one "section key"
 * line each, so the documentation tests compare evident.ini(5) with the
 * parser's own table rather than with a list that could fall behind it.
 *
 * usage: config_keys; exit 0. */
#include <stdio.h>

#include "config.h"

int main(void)
{
	const char *section = NULL;
	const char *name;
	for (size_t i = 0; (name = ev_config_key_at(i, &section)) != NULL; i++)
		printf("%s %s\n", section, name);
	return 0;
}
