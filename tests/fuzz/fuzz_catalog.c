/* The control catalog ([controls] catalog names a file an operator
 * writes): parsed, then every view it hands out is read, and a verdict
 * run over it is rendered, so a catalog that loads can never make the
 * verdicts misbehave. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "controls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ev_catalog *cat = NULL;
	struct ev_error err;
	ev_error_clear(&err);
	if (ev_catalog_parse("fuzz", data, size, &cat, &err) != EV_OK)
		return 0;
	size_t total = 0;
	for (size_t i = 0; i < ev_catalog_count(cat); i++) {
		const struct ev_control *c = ev_catalog_at(cat, i);
		total += strlen(c->id) + strlen(c->title) + c->n_probes;
		for (size_t k = 0; k < c->n_bounds; k++)
			total += (size_t)c->bounds[k].value;
	}
	(void)total;
	json_decref(ev_catalog_json(cat));

	struct ev_config cfg;
	struct ev_verdicts *v = NULL;
	if (ev_config_init(&cfg) == EV_OK &&
	    ev_verdicts_new(cat, &cfg, &v, &err) == EV_OK) {
		json_decref(ev_verdicts_json(v));
		FILE *null = fopen("/dev/null", "w");
		if (null) {
			ev_verdicts_print_table(v, null, true);
			fclose(null);
		}
		(void)ev_verdicts_exit_code(v);
	}
	ev_verdicts_free(v);
	ev_config_cleanup(&cfg);
	ev_catalog_free(cat);
	return 0;
}
