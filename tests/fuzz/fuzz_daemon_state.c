/* The daemon's state file (`evident status` reads it: a local file anyone
 * with write access to the snapshot directory could have altered). */
#include <stddef.h>
#include <stdint.h>

#include "daemon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ev_daemon_state s;
	struct ev_error err;
	if (ev_daemon_state_parse(data, size, &s, &err) == EV_OK) {
		json_t *j = ev_daemon_state_json(&s);
		json_decref(j);
	}
	return 0;
}
