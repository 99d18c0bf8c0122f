/* The credential report's CSV parser: every input ends in a report whose
 * invariants hold, or in a typed error that says why. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "credreport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_time(const struct ev_credreport_time *t)
{
	if ((unsigned)t->state > EV_CR_VALUE)
		abort();
	json_t *j = ev_credreport_time_json(t);
	if (!j)
		abort();
	json_decref(j);
}

static void check_bool(const struct ev_credreport_bool *b)
{
	if ((unsigned)b->state > EV_CR_VALUE)
		abort();
	json_t *j = ev_credreport_bool_json(b);
	if (!j)
		abort();
	json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ev_credreport *r = NULL;
	struct ev_error err;
	ev_error_clear(&err);
	enum ev_err rc =
	    ev_credreport_parse((const char *)data, size, &r, &err);
	if (rc != EV_OK) {
		/* Every failure is typed and says why; nothing is handed
		 * out. */
		if (r || err.message[0] == '\0' ||
		    (rc != EV_E_MALFORMED && rc != EV_E_LIMIT &&
		     rc != EV_E_NOMEM))
			abort();
		return 0;
	}
	if (!r || r->n_rows > EV_CREDREPORT_MAX_ROWS)
		abort();
	size_t roots = 0;
	for (size_t i = 0; i < r->n_rows; i++) {
		const struct ev_credreport_row *row = &r->rows[i];
		if (!row->user || !row->arn || !row->user[0] || !row->arn[0] ||
		    strlen(row->arn) > EV_CREDREPORT_MAX_FIELD)
			abort();
		if (row->is_root != (strcmp(row->user, "<root_account>") == 0))
			abort();
		if (row->is_root && r->root != row)
			abort();
		roots += row->is_root;
		check_time(&row->user_creation_time);
		check_bool(&row->password_enabled);
		check_time(&row->password_last_used);
		check_time(&row->password_last_changed);
		check_bool(&row->mfa_active);
		for (int k = 0; k < 2; k++) {
			check_bool(&row->keys[k].active);
			check_time(&row->keys[k].last_rotated);
			check_time(&row->keys[k].last_used);
			check_bool(&row->certs[k].active);
			check_time(&row->certs[k].last_rotated);
		}
	}
	if (roots > 1 || (roots == 0 && r->root))
		abort();
	ev_credreport_free(r);
	return 0;
}
