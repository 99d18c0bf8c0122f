/* pruned.json, which `verify` trusts to start a chain after pruning. */
#include <stddef.h>
#include <stdint.h>

#include "prune.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	(void)ev_prune_record_lists(
	    data, size, "20250301T100000Z",
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	return 0;
}
