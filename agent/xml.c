#include "xml.h"

#include <expat.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "buf.h"

/* Expat reports names as "URI<sep>local"; local names never contain a
 * newline, so the part after the last one is the local name whatever the
 * URI holds. */
#define NS_SEP '\n'

/* Input is handed to expat in slices: XML_Parse takes an int length. */
#define PARSE_SLICE (1u << 20)

#define ARENA_BLOCK (64u * 1024)
#define ARENA_ALIGN _Alignof(struct ev_xml_node)

/* A direct-mapped cache of element names: AWS documents repeat a few dozen
 * names millions of times, so most nodes share one copy. A miss just makes
 * a new copy; the table never grows. */
#define NAME_CACHE_SLOTS 1024u

struct arena_block {
	struct arena_block *next;
	size_t used;
	size_t cap;
	/* followed by cap bytes, starting ARENA_ALIGN-aligned */
};

struct ev_xml_doc {
	struct arena_block *blocks;
	struct ev_xml_node *root;
};

struct parse_ctx {
	XML_Parser parser;
	struct ev_xml_doc *doc;
	enum ev_err fail;      /* set by a handler that stopped the parser */
	const char *fail_what; /* static description of that failure */
	size_t depth;
	size_t n_nodes;
	size_t text_total; /* bytes of text kept in the tree */
	size_t text_limit;
	struct ev_xml_node *open[EV_LIMIT_XML_DEPTH + 1];
	struct ev_xml_node *last_child[EV_LIMIT_XML_DEPTH + 1];
	size_t text_start[EV_LIMIT_XML_DEPTH + 1];
	/* Character data of every open element, innermost last: a child's
	 * text always sits at the tail, so closing it truncates back to its
	 * start. */
	struct ev_buf text;
	const char *names[NAME_CACHE_SLOTS];
};

#define ARENA_HEAD                                                             \
	((sizeof(struct arena_block) + ARENA_ALIGN - 1) &                      \
	 ~(size_t)(ARENA_ALIGN - 1))

static unsigned char *block_data(struct arena_block *b)
{
	return (unsigned char *)b + ARENA_HEAD;
}

static void *arena_alloc(struct ev_xml_doc *doc, size_t n)
{
	if (n > SIZE_MAX / 2)
		return NULL;
	n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	struct arena_block *b = doc->blocks;
	if (!b || b->cap - b->used < n) {
		size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
		b = malloc(ARENA_HEAD + cap);
		if (!b)
			return NULL;
		b->cap = cap;
		b->used = 0;
		/* A big one-off block goes behind the current one so the
		 * current block's free space stays in use. */
		if (doc->blocks && n > ARENA_BLOCK) {
			b->next = doc->blocks->next;
			doc->blocks->next = b;
		} else {
			b->next = doc->blocks;
			doc->blocks = b;
		}
	}
	void *p = block_data(b) + b->used;
	b->used += n;
	return p;
}

static char *arena_strndup(struct ev_xml_doc *doc, const char *s, size_t n)
{
	if (n == SIZE_MAX)
		return NULL;
	char *p = arena_alloc(doc, n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void ev_xml_free(struct ev_xml_doc *doc)
{
	if (!doc)
		return;
	struct arena_block *b = doc->blocks;
	while (b) {
		struct arena_block *next = b->next;
		/* Documents carry credentials (AssumeRole): wiped. */
		OPENSSL_cleanse(block_data(b), b->used);
		free(b);
		b = next;
	}
	free(doc);
}

const struct ev_xml_node *ev_xml_root(const struct ev_xml_doc *doc)
{
	return doc ? doc->root : NULL;
}

/* Expat's own buffers hold copies of the input, credentials included: this
 * allocator remembers each block's size so it can wipe it when freed, and
 * never lets realloc drop an unwiped block. */
#define MM_HEAD 16u

static void *mm_malloc(size_t n)
{
	if (n > SIZE_MAX - MM_HEAD)
		return NULL;
	unsigned char *p = malloc(n + MM_HEAD);
	if (!p)
		return NULL;
	memcpy(p, &n, sizeof(n));
	return p + MM_HEAD;
}

static void mm_free(void *ptr)
{
	if (!ptr)
		return;
	unsigned char *p = (unsigned char *)ptr - MM_HEAD;
	size_t n;
	memcpy(&n, p, sizeof(n));
	OPENSSL_cleanse(p, n + MM_HEAD);
	free(p);
}

static void *mm_realloc(void *ptr, size_t n)
{
	if (!ptr)
		return mm_malloc(n);
	unsigned char *old = (unsigned char *)ptr - MM_HEAD;
	size_t old_n;
	memcpy(&old_n, old, sizeof(old_n));
	unsigned char *q = mm_malloc(n);
	if (!q)
		return NULL;
	memcpy(q, ptr, old_n < n ? old_n : n);
	mm_free(ptr);
	return q;
}

static const XML_Memory_Handling_Suite wiping_mm = {
    .malloc_fcn = mm_malloc,
    .realloc_fcn = mm_realloc,
    .free_fcn = mm_free,
};

static void stop(struct parse_ctx *c, enum ev_err code, const char *what)
{
	if (c->fail == EV_OK) {
		c->fail = code;
		c->fail_what = what;
	}
	XML_StopParser(c->parser, XML_FALSE);
}

static const char *intern_name(struct parse_ctx *c, const char *name)
{
	size_t n = strlen(name);
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)name[i]) * 16777619u;
	const char **slot = &c->names[h % NAME_CACHE_SLOTS];
	if (*slot && strcmp(*slot, name) == 0)
		return *slot;
	char *copy = arena_strndup(c->doc, name, n);
	if (copy)
		*slot = copy;
	return copy;
}

static void XMLCALL on_start(void *ud, const XML_Char *name,
			     const XML_Char **attrs)
{
	(void)attrs; /* AWS responses carry nothing but xmlns in attributes */
	struct parse_ctx *c = ud;
	if (c->fail != EV_OK)
		return;
	if (c->depth >= EV_LIMIT_XML_DEPTH) {
		stop(c, EV_E_LIMIT, "elements nested too deep");
		return;
	}
	if (c->n_nodes >= EV_LIMIT_XML_NODES) {
		stop(c, EV_E_LIMIT, "too many elements");
		return;
	}
	const char *local = strrchr(name, NS_SEP);
	local = local ? local + 1 : name;
	struct ev_xml_node *node = arena_alloc(c->doc, sizeof(*node));
	const char *interned = node ? intern_name(c, local) : NULL;
	if (!interned) {
		stop(c, EV_E_NOMEM, "out of memory");
		return;
	}
	memset(node, 0, sizeof(*node));
	node->name = interned;
	node->text = "";
	c->n_nodes++;
	if (c->depth == 0) {
		c->doc->root = node;
	} else {
		struct ev_xml_node *parent = c->open[c->depth - 1];
		node->parent = parent;
		if (c->last_child[c->depth - 1])
			c->last_child[c->depth - 1]->next = node;
		else
			parent->first_child = node;
		c->last_child[c->depth - 1] = node;
	}
	c->open[c->depth] = node;
	c->last_child[c->depth] = NULL;
	c->text_start[c->depth] = c->text.len;
	c->depth++;
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
	(void)name;
	struct parse_ctx *c = ud;
	if (c->fail != EV_OK || c->depth == 0)
		return;
	c->depth--;
	struct ev_xml_node *node = c->open[c->depth];
	size_t start = c->text_start[c->depth];
	size_t n = c->text.len - start;
	if (n > 0) {
		if (n > c->text_limit - c->text_total) {
			stop(c, EV_E_LIMIT, "more text than input");
			return;
		}
		char *t = arena_strndup(c->doc, c->text.data + start, n);
		if (!t) {
			stop(c, EV_E_NOMEM, "out of memory");
			return;
		}
		c->text_total += n;
		node->text = t;
		node->text_len = n;
		/* Truncate by hand (ev_buf has no truncate): the parent's
		 * text before start stays. */
		OPENSSL_cleanse(c->text.data + start, n);
		c->text.len = start;
		c->text.data[start] = '\0';
	}
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
	struct parse_ctx *c = ud;
	if (c->fail != EV_OK || c->depth == 0 || len <= 0)
		return;
	enum ev_err rc = ev_buf_append(&c->text, s, (size_t)len);
	if (rc != EV_OK)
		stop(c, rc,
		     rc == EV_E_LIMIT ? "more text than input"
				      : "out of memory");
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name,
			       const XML_Char *sysid, const XML_Char *pubid,
			       int has_internal_subset)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal_subset;
	/* No AWS response has one; refusing it shuts out entity expansion
	 * (billion laughs) and external entities in one place. */
	stop(ud, EV_E_MALFORMED, "DOCTYPE refused");
}

static void XMLCALL on_entity_decl(void *ud, const XML_Char *name,
				   int is_parameter, const XML_Char *value,
				   int value_len, const XML_Char *base,
				   const XML_Char *sysid, const XML_Char *pubid,
				   const XML_Char *notation)
{
	(void)name;
	(void)is_parameter;
	(void)value;
	(void)value_len;
	(void)base;
	(void)sysid;
	(void)pubid;
	(void)notation;
	stop(ud, EV_E_MALFORMED, "entity declaration refused");
}

enum ev_err ev_xml_parse(const char *data, size_t len, struct ev_xml_doc **out,
			 struct ev_error *err)
{
	enum ev_err rc = EV_OK;
	struct parse_ctx *c = NULL;
	struct ev_xml_doc *doc = NULL;
	XML_Parser parser = NULL;
	static const XML_Char sep[] = {NS_SEP, '\0'};

	*out = NULL;
	if (!data && len > 0)
		return ev_error_set(err, EV_E_INTERNAL, "XML: no data");
	c = calloc(1, sizeof(*c));
	doc = calloc(1, sizeof(*doc));
	/* AWS sends UTF-8; forcing it keeps every kept byte an input byte, so
	 * the text can never outgrow the input. */
	parser = XML_ParserCreate_MM("UTF-8", &wiping_mm, sep);
	if (!c || !doc || !parser) {
		rc = ev_error_set(err, EV_E_NOMEM, "XML: out of memory");
		goto out;
	}
	c->parser = parser;
	c->doc = doc;
	c->text_limit = len;
	ev_buf_init_secret(&c->text, len);
	XML_SetUserData(parser, c);
	XML_SetElementHandler(parser, on_start, on_end);
	XML_SetCharacterDataHandler(parser, on_text);
	XML_SetStartDoctypeDeclHandler(parser, on_doctype);
	XML_SetEntityDeclHandler(parser, on_entity_decl);
	XML_SetParamEntityParsing(parser, XML_PARAM_ENTITY_PARSING_NEVER);

	size_t off = 0;
	do {
		size_t n = len - off;
		if (n > PARSE_SLICE)
			n = PARSE_SLICE;
		int final = off + n == len;
		if (XML_Parse(parser, data ? data + off : "", (int)n, final) !=
		    XML_STATUS_OK) {
			if (c->fail != EV_OK) {
				rc = ev_error_set(err, c->fail, "XML: %s",
						  c->fail_what);
			} else {
				enum XML_Error xe = XML_GetErrorCode(parser);
				rc = ev_error_set(
				    err,
				    xe == XML_ERROR_NO_MEMORY ? EV_E_NOMEM
							      : EV_E_MALFORMED,
				    "XML: %s at line %lu column %lu",
				    XML_ErrorString(xe),
				    (unsigned long)XML_GetCurrentLineNumber(
					parser),
				    (unsigned long)XML_GetCurrentColumnNumber(
					parser));
			}
			goto out;
		}
		off += n;
	} while (off < len);
	if (!doc->root) {
		rc = ev_error_set(err, EV_E_MALFORMED, "XML: no root element");
		goto out;
	}
	*out = doc;
	doc = NULL;
out:
	if (parser)
		XML_ParserFree(parser);
	if (c)
		ev_buf_cleanup(&c->text);
	free(c);
	ev_xml_free(doc);
	return rc;
}

const struct ev_xml_node *ev_xml_child(const struct ev_xml_node *n,
				       const char *name)
{
	if (!n || !name)
		return NULL;
	for (const struct ev_xml_node *k = n->first_child; k; k = k->next)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

const struct ev_xml_node *ev_xml_next_same(const struct ev_xml_node *n)
{
	if (!n)
		return NULL;
	for (const struct ev_xml_node *k = n->next; k; k = k->next)
		if (k->name == n->name || strcmp(k->name, n->name) == 0)
			return k;
	return NULL;
}

static const struct ev_xml_node *child_n(const struct ev_xml_node *n,
					 const char *name, size_t len)
{
	for (const struct ev_xml_node *k = n->first_child; k; k = k->next)
		if (strncmp(k->name, name, len) == 0 && k->name[len] == '\0')
			return k;
	return NULL;
}

const struct ev_xml_node *ev_xml_path(const struct ev_xml_node *n,
				      const char *path)
{
	if (!n || !path)
		return NULL;
	const char *p = path;
	while (n && *p) {
		const char *slash = strchr(p, '/');
		size_t seg = slash ? (size_t)(slash - p) : strlen(p);
		if (seg > 0)
			n = child_n(n, p, seg);
		p += seg;
		if (*p == '/')
			p++;
	}
	return n;
}

const char *ev_xml_path_text(const struct ev_xml_node *n, const char *path)
{
	const struct ev_xml_node *k = ev_xml_path(n, path);
	return k ? k->text : NULL;
}

const struct ev_xml_node *ev_xml_find(const struct ev_xml_node *n,
				      const char *name)
{
	if (!n || !name)
		return NULL;
	/* Iterative pre-order walk below n, using parent links to climb. */
	const struct ev_xml_node *k = n->first_child;
	while (k) {
		if (strcmp(k->name, name) == 0)
			return k;
		if (k->first_child) {
			k = k->first_child;
			continue;
		}
		while (k && k != n && !k->next)
			k = k->parent;
		if (!k || k == n)
			return NULL;
		k = k->next;
	}
	return NULL;
}

static bool is_list_item_name(const char *name)
{
	return strcmp(name, "member") == 0 || strcmp(name, "item") == 0 ||
	       strcmp(name, "entry") == 0;
}

/* A container whose children all carry one list-item name: the query
 * protocol's <member>, ec2's <item>, query maps' <entry>. */
static bool is_list(const struct ev_xml_node *n)
{
	const struct ev_xml_node *k = n->first_child;
	if (!k || !is_list_item_name(k->name))
		return false;
	for (; k; k = k->next)
		if (strcmp(k->name, n->first_child->name) != 0)
			return false;
	return true;
}

json_t *ev_xml_to_json(const struct ev_xml_node *n)
{
	if (!n)
		return NULL;
	if (!n->first_child)
		return json_stringn(n->text, n->text_len);
	if (is_list(n)) {
		json_t *arr = json_array();
		for (const struct ev_xml_node *k = n->first_child; arr && k;
		     k = k->next) {
			if (json_array_append_new(arr, ev_xml_to_json(k)) !=
			    0) {
				json_decref(arr);
				arr = NULL;
			}
		}
		return arr;
	}
	/* Every name first collects an array; names seen once are unwrapped
	 * at the end. This keeps one pass over the children and the order of
	 * first appearance. */
	json_t *obj = json_object();
	for (const struct ev_xml_node *k = n->first_child; obj && k;
	     k = k->next) {
		json_t *arr = json_object_get(obj, k->name);
		if (!arr) {
			arr = json_array();
			if (json_object_set_new(obj, k->name, arr) != 0)
				arr = NULL;
		}
		if (!arr ||
		    json_array_append_new(arr, ev_xml_to_json(k)) != 0) {
			json_decref(obj);
			obj = NULL;
		}
	}
	if (!obj)
		return NULL;
	const char *key;
	json_t *val;
	json_object_foreach(obj, key, val)
	{
		if (json_array_size(val) == 1 &&
		    json_object_set(obj, key, json_array_get(val, 0)) != 0) {
			json_decref(obj);
			return NULL;
		}
	}
	return obj;
}
