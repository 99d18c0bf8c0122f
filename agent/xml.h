/* XML responses (query, ec2, rest-xml protocols), parsed with expat into a
 * small read-only tree with bounded depth, node count and size.
 *
 * Names are local names: the namespace prefix/URI is dropped, since AWS
 * responses use one default namespace and we match paths, not substrings.
 * DOCTYPE and entity declarations are refused (no entity expansion, no
 * external entities). The input is read as UTF-8 whatever it declares.
 * Attributes are not kept (AWS puts nothing but xmlns in them).
 *
 * Ownership: ev_xml_parse returns a document the caller frees with
 * ev_xml_free; nodes and strings are views into it. The document may hold
 * credentials (AssumeRole), so ev_xml_free wipes it, and the parser's own
 * buffers are wiped as they are freed. */
#ifndef EV_XML_H
#define EV_XML_H

#include <stddef.h>

#include <jansson.h>

#include "err.h"

struct ev_xml_node {
	const char *name; /* local name */
	/* The element's own character data, concatenated, untrimmed ("" if
	 * none; for a container, the whitespace between its children). */
	const char *text;
	size_t text_len;
	struct ev_xml_node *parent;
	struct ev_xml_node *first_child;
	struct ev_xml_node *next; /* next sibling */
};

struct ev_xml_doc;

/* Parses len bytes. Errors: EV_E_MALFORMED (not well-formed, DOCTYPE,
 * entities, no root), EV_E_LIMIT (deeper than EV_LIMIT_XML_DEPTH, more
 * elements than EV_LIMIT_XML_NODES, more text than input), EV_E_NOMEM.
 * *out is NULL on failure. err's message names the failure and the position,
 * never the content. */
enum ev_err ev_xml_parse(const char *data, size_t len, struct ev_xml_doc **out,
			 struct ev_error *err) EV_MUST_CHECK;
void ev_xml_free(struct ev_xml_doc *doc);
const struct ev_xml_node *ev_xml_root(const struct ev_xml_doc *doc);

/* First child named name, or NULL. */
const struct ev_xml_node *ev_xml_child(const struct ev_xml_node *n,
				       const char *name);
/* Next sibling with the same name as n, or NULL: iterates lists. */
const struct ev_xml_node *ev_xml_next_same(const struct ev_xml_node *n);
/* Follows a '/'-separated path of child names ("Error/Code"), first match
 * at each step; NULL if any step is missing. */
const struct ev_xml_node *ev_xml_path(const struct ev_xml_node *n,
				      const char *path);
/* Text of the node at path, or NULL if absent. */
const char *ev_xml_path_text(const struct ev_xml_node *n, const char *path);
/* First node named name anywhere below n (depth-first), or NULL. */
const struct ev_xml_node *ev_xml_find(const struct ev_xml_node *n,
				      const char *name);

/* Converts n's content (not wrapped in its own name) to JSON for display: an
 * element without children becomes its text as a string ("" if empty); one
 * whose children all carry the same list name (member, item, entry) an
 * array of them, even with one child; any other element with children an
 * object keyed by child name in order of first appearance, a name repeated
 * among siblings giving an array. A container's own whitespace is dropped.
 * NULL when n is NULL or on allocation failure. The caller owns the result
 * (json_decref). */
json_t *ev_xml_to_json(const struct ev_xml_node *n);

#endif
