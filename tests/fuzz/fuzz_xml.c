/* XML responses: parse, walk every node (lookups included), convert to
 * JSON, free. The input is the untrusted response body as is. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t walk(const struct ev_xml_node *root)
{
	/* Pre-order over parent links, checking the tree's invariants. */
	size_t n = 0;
	const struct ev_xml_node *k = root;
	while (k) {
		n++;
		if (!k->name || !k->text || strlen(k->text) != k->text_len)
			abort();
		for (const struct ev_xml_node *c = k->first_child; c;
		     c = c->next)
			if (c->parent != k)
				abort();
		if (ev_xml_child(k, k->name) &&
		    strcmp(ev_xml_child(k, k->name)->name, k->name) != 0)
			abort();
		const struct ev_xml_node *same = ev_xml_next_same(k);
		if (same && strcmp(same->name, k->name) != 0)
			abort();
		if (k->first_child) {
			k = k->first_child;
			continue;
		}
		while (k && k != root && !k->next)
			k = k->parent;
		k = (k && k != root) ? k->next : NULL;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ev_xml_doc *doc = NULL;
	struct ev_error err;
	if (ev_xml_parse((const char *)data, size, &doc, &err) != EV_OK) {
		if (doc)
			abort();
		return 0;
	}
	const struct ev_xml_node *root = ev_xml_root(doc);
	walk(root);
	(void)ev_xml_path_text(root, "Error/Code");
	(void)ev_xml_path(root, "Errors/Error/Code");
	(void)ev_xml_find(root, "RequestId");
	(void)ev_xml_find(root, "item");
	json_t *j = ev_xml_to_json(root);
	if (j) {
		char *s = json_dumps(j, JSON_ENCODE_ANY);
		free(s);
		json_decref(j);
	}
	ev_xml_free(doc);
	return 0;
}
