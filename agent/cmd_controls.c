/* `evident controls [--json]`: the control catalog in force, so an operator
 * or an auditor sees what each verdict means before a run. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "controls.h"
#include "log.h"
#include "runtime.h"

#define WRAP_COLUMNS 78
#define LABEL_WIDTH  17

static void usage(FILE *out)
{
	fprintf(out,
		"usage: evident controls [--json]\n\n"
		"Lists the audit controls evident judges: program, checklist "
		"number, title,\nrequirement, the evidence asked for, the "
		"probes that collect it, whether\ndocuments are needed too, "
		"and the bounds the thresholds must keep.\nThe catalog is the "
		"built-in one unless [controls] catalog names a file.\n"
		"--json prints it as JSON.\n"
		"Exit status: 0 success, 2 usage or a bad configuration or "
		"catalog.\n");
}

/* Prints "  label: text" with text wrapped at word boundaries under the
 * label's column. */
static void wrapped(FILE *out, const char *label, const char *text)
{
	int col = fprintf(out, "    %-*s", LABEL_WIDTH - 4, label);
	const char *p = text;
	while (*p) {
		while (*p == ' ')
			p++;
		size_t word = strcspn(p, " ");
		if (word == 0)
			break;
		if (col > LABEL_WIDTH && col + 1 + (int)word > WRAP_COLUMNS) {
			fprintf(out, "\n%*s", LABEL_WIDTH, "");
			col = LABEL_WIDTH;
		} else if (col > LABEL_WIDTH) {
			fputc(' ', out);
			col++;
		}
		fwrite(p, 1, word, out);
		col += (int)word;
		p += word;
	}
	fputc('\n', out);
}

static void print_text(const struct ev_catalog *cat, FILE *out)
{
	fprintf(out, "Control catalog: %s (sha256 %s)\n\n",
		ev_catalog_source(cat), ev_catalog_sha256(cat));
	for (size_t i = 0; i < ev_catalog_program_count(cat); i++) {
		const struct ev_catalog_program *p =
		    ev_catalog_program_at(cat, i);
		fprintf(out, "  %-8s %s v%s\n", p->id, p->title, p->version);
	}
	for (size_t i = 0; i < ev_catalog_count(cat); i++) {
		const struct ev_control *c = ev_catalog_at(cat, i);
		fprintf(out, "\n%s  %s\n", c->id, c->title);
		wrapped(out, "requirement:", c->requirement);
		wrapped(out, "evidence:", c->evidence);
		char line[512];
		size_t used = 0;
		line[0] = '\0';
		for (size_t k = 0; k < c->n_probes && used < sizeof(line);
		     k++) {
			int w = snprintf(line + used, sizeof(line) - used,
					 "%s%s", k ? ", " : "", c->probes[k]);
			if (w < 0)
				break;
			used += (size_t)w;
		}
		wrapped(out, "probes:", line);
		if (c->documents_required) {
			snprintf(line, sizeof(line), "required: %s",
				 c->documents);
			wrapped(out, "documents:", line);
		} else {
			wrapped(out, "documents:", "not required");
		}
		for (size_t k = 0; k < c->n_bounds; k++) {
			const struct ev_control_bound *b = &c->bounds[k];
			snprintf(line, sizeof(line),
				 "configured %s must be at %s %d",
				 ev_threshold_name(b->threshold),
				 b->at_most ? "most" : "least", b->value);
			wrapped(out, k == 0 ? "bounds:" : "", line);
		}
	}
}

int ev_cmd_controls(const struct ev_cli_globals *g, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	bool as_json = false;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			as_json = true;
			break;
		case 'h':
			usage(stdout);
			return EV_EXIT_OK;
		default:
			usage(stderr);
			return EV_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "evident: controls: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return EV_EXIT_USAGE;
	}

	struct ev_runtime rt;
	struct ev_error err;
	struct ev_catalog *cat = NULL;
	int rc = EV_EXIT_OK;
	ev_error_clear(&err);
	enum ev_err e = ev_runtime_init(&rt, g, &err);
	if (e != EV_OK) {
		ev_log_error(EV_LOG_ERROR, "setup", &err);
		rc = ev_runtime_exit_code(e);
		goto out;
	}
	e = ev_catalog_load(rt.cfg.controls.catalog, &cat, &err);
	if (e != EV_OK) {
		ev_log_error(EV_LOG_ERROR, "control catalog", &err);
		/* The catalog is configuration: any flaw in it is the
		 * operator's to fix. */
		rc = e == EV_E_NOMEM ? EV_EXIT_INCOMPLETE : EV_EXIT_USAGE;
		goto out;
	}
	if (as_json) {
		json_t *j = ev_catalog_json(cat);
		if (!j || json_dumpf(j, stdout, JSON_INDENT(2)) != 0) {
			fprintf(stderr, "evident: controls: out of memory\n");
			rc = EV_EXIT_INCOMPLETE;
		} else {
			fputc('\n', stdout);
		}
		json_decref(j);
	} else {
		print_text(cat, stdout);
	}
	if (fflush(stdout) != 0) {
		fprintf(stderr, "evident: controls: cannot write output\n");
		rc = EV_EXIT_INCOMPLETE;
	}
out:
	ev_catalog_free(cat);
	ev_runtime_cleanup(&rt);
	return rc;
}
