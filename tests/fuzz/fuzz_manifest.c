/* manifest.json as `evident verify` reads it: untrusted bytes from disk.
 * Whatever parses must satisfy what verification relies on: parts sorted,
 * unique and confined to the snapshot, the chain running backwards, every
 * hash well-formed; and the embedded key goes through the PEM reader. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_hex(const char *s)
{
	if (strlen(s) != EV_SHA256_HEX_LEN)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ev_manifest m;
	struct ev_error err;
	ev_error_clear(&err);
	if (ev_manifest_parse(data, size, &m, &err) != EV_OK) {
		if (err.message[0] == '\0')
			abort(); /* every refusal says why */
		return 0;
	}
	if (m.format != EV_MANIFEST_FORMAT ||
	    !ev_manifest_name_valid(m.snapshot) || !m.key_pem)
		abort();
	check_hex(m.key_fingerprint);
	if (m.has_previous) {
		if (!ev_manifest_name_valid(m.previous_snapshot) ||
		    strcmp(m.previous_snapshot, m.snapshot) >= 0)
			abort();
		check_hex(m.previous_sha256);
	}
	for (size_t i = 0; i < m.n_parts; i++) {
		const struct ev_manifest_part *p = &m.parts[i];
		if (!ev_manifest_part_path_valid(p->path) ||
		    p->size > EV_MANIFEST_PART_MAX_SIZE)
			abort();
		check_hex(p->sha256);
		if (i && strcmp(m.parts[i - 1].path, p->path) >= 0)
			abort();
		if (ev_manifest_find_part(&m, p->path) != p)
			abort();
	}
	struct ev_key *k =
	    ev_keys_from_public_pem(m.key_pem, strlen(m.key_pem), &err);
	if (k && strlen(ev_keys_fingerprint(k)) != EV_KEYS_FINGERPRINT_LEN)
		abort();
	ev_keys_free(k);
	ev_manifest_cleanup(&m);
	return 0;
}
