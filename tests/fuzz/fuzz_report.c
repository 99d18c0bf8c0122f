/* A snapshot as `report` and `diff` read it: the input is split at the
 * first NUL byte into a manifest and one account part, both untrusted
 * (a snapshot may come from anywhere; verification failures still render). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t mlen = nul ? (size_t)(nul - data) : size;
	struct ev_report_snapshot *s = NULL;
	struct ev_error err;
	if (ev_report_snapshot_parse(data, mlen, &s, &err) != EV_OK)
		return 0;
	if (nul && ev_report_snapshot_add_account(s, nul + 1, size - mlen - 1,
						  &err) == EV_OK)
		(void)ev_report_snapshot_finish(s);
	ev_report_snapshot_free(s);
	return 0;
}
