/* Probe least-privilege (MSP 8.1.2, DevOps 3.15): no IAM user holds
 * administrator access directly.
 *
 * GetAccountAuthorizationDetails (users, groups, roles and customer
 * managed policies, every page) gives each principal's attached and inline
 * policies. A principal holds administrator access when the AWS managed
 * AdministratorAccess policy is attached, or an inline or customer managed
 * policy (its default version) has an Allow statement whose Action and
 * Resource are both "*" (a string or in a list). Users holding it fail;
 * groups (with their members) and roles holding it are warnings, listed as
 * evidence; an account where no user holds it directly passes once.
 * Everything is read before anything is judged: a group or a policy may
 * come on a later page than the user it concerns, and a failed page means
 * no verdict at all. */
#include <stdio.h>
#include <string.h>

#include "bounds.h"
#include "buf.h"
#include "probes.h"
#include "uri.h"

#define PROBE_ID "least-privilege"

/* IAM quotas allow 5000 users, 5000 roles, 300 groups and 5000 customer
 * managed policies at most; policy documents are at most 10 KiB. */
#define LP_MAX_ENTITIES 50000
#define LP_MAX_DOCUMENT (256u * 1024)

#define ADMIN_POLICY_SUFFIX ":iam::aws:policy/AdministratorAccess"

enum kind { KIND_USER, KIND_GROUP, KIND_ROLE };

static const char *const kind_names[] = {"user", "group", "role"};

/* Everything the pages said, kept as JSON so one decref frees it. */
struct gather {
	json_t *principals; /* [{kind, name, arn, groups, attached,
			       inline_admin, obs}] */
	json_t *policies;   /* customer managed: ARN -> {admin, obs} */
	size_t entities;
	const unsigned *page_obs; /* the door's list of page ids so far */
	const size_t *n_pages;
};

/* ---- policy documents ------------------------------------------------------
 */

static bool is_star(const json_t *v)
{
	const char *s = json_string_value(v);
	return s && (strcmp(s, "*") == 0 || strcmp(s, "*:*") == 0);
}

static bool has_star(const json_t *v)
{
	if (json_is_array(v)) {
		size_t i;
		const json_t *x;
		json_array_foreach(v, i, x)
		{
			if (is_star(x))
				return true;
		}
		return false;
	}
	return is_star(v);
}

static bool statement_is_admin(const json_t *st)
{
	const char *effect = json_string_value(json_object_get(st, "Effect"));
	return effect && strcmp(effect, "Allow") == 0 &&
	       has_star(json_object_get(st, "Action")) &&
	       has_star(json_object_get(st, "Resource"));
}

/* A URL-encoded JSON policy document (aws-api.md §12). Errors:
 * EV_E_MALFORMED (not JSON, no Statement), EV_E_LIMIT, EV_E_NOMEM. */
static enum ev_err document_is_admin(const struct ev_xml_node *n, bool *admin,
				     struct ev_error *err)
{
	*admin = false;
	EV_ENSURE_E(err, n, EV_E_MALFORMED,
		    "GetAccountAuthorizationDetails: a policy without a "
		    "document");
	struct ev_buf text;
	ev_buf_init(&text, LP_MAX_DOCUMENT);
	enum ev_err rc = ev_uri_decode(n->text, n->text_len, &text);
	if (rc != EV_OK) {
		ev_buf_cleanup(&text);
		return ev_error_set(err, rc,
				    "GetAccountAuthorizationDetails: policy "
				    "document: %s",
				    ev_err_name(rc));
	}
	json_error_t je;
	json_t *doc = json_loadb(ev_buf_str(&text), text.len, 0, &je);
	ev_buf_cleanup(&text);
	EV_ENSURE_E(err, doc, EV_E_MALFORMED,
		    "GetAccountAuthorizationDetails: a policy document is not "
		    "JSON (line %d)",
		    je.line);
	const json_t *st = json_object_get(doc, "Statement");
	if (json_is_object(st)) {
		*admin = statement_is_admin(st);
	} else if (json_is_array(st)) {
		size_t i;
		const json_t *x;
		json_array_foreach(st, i, x)
		{
			if (statement_is_admin(x))
				*admin = true;
		}
	} else {
		json_decref(doc);
		return ev_error_set(err, EV_E_MALFORMED,
				    "GetAccountAuthorizationDetails: a policy "
				    "document without Statement");
	}
	json_decref(doc);
	return EV_OK;
}

/* ---- pages
 * -------------------------------------------------------------------- */

static enum ev_err nomem(struct ev_error *err)
{
	return ev_error_set(err, EV_E_NOMEM,
			    "GetAccountAuthorizationDetails: out of memory");
}

static unsigned current_page(const struct gather *g)
{
	size_t n = *g->n_pages;
	if (n == 0)
		return 0;
	return n <= EV_FINDING_MAX_OBS ? g->page_obs[n - 1]
				       : g->page_obs[EV_FINDING_MAX_OBS - 1];
}

static enum ev_err count_entity(struct gather *g, struct ev_error *err)
{
	EV_ENSURE_E(err, ++g->entities <= LP_MAX_ENTITIES, EV_E_LIMIT,
		    "GetAccountAuthorizationDetails: more than %d entities",
		    LP_MAX_ENTITIES);
	return EV_OK;
}

/* Texts of list members ("GroupList/member", "AttachedManagedPolicies/
 * member/PolicyArn") as a JSON array. */
static json_t *texts(const struct ev_xml_node *list, const char *leaf)
{
	json_t *a = json_array();
	for (const struct ev_xml_node *m = ev_xml_child(list, "member"); a && m;
	     m = ev_xml_next_same(m)) {
		const char *t = leaf ? ev_xml_path_text(m, leaf) : m->text;
		if (t && json_array_append_new(a, json_string(t)) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static enum ev_err inline_admin(const struct ev_xml_node *list, json_t **out,
				struct ev_error *err)
{
	json_t *a = json_array();
	if (!a)
		return nomem(err);
	for (const struct ev_xml_node *m = ev_xml_child(list, "member"); m;
	     m = ev_xml_next_same(m)) {
		bool admin = false;
		enum ev_err rc = document_is_admin(
		    ev_xml_child(m, "PolicyDocument"), &admin, err);
		if (rc != EV_OK) {
			json_decref(a);
			return rc;
		}
		const char *name = ev_xml_path_text(m, "PolicyName");
		if (admin && json_array_append_new(
				 a, json_string(name ? name : "")) != 0) {
			json_decref(a);
			return nomem(err);
		}
	}
	*out = a;
	return EV_OK;
}

struct kind_desc {
	enum kind kind;
	const char *list;	 /* UserDetailList */
	const char *name;	 /* UserName */
	const char *inline_list; /* UserPolicyList */
};

static const struct kind_desc kinds[] = {
    {KIND_USER, "UserDetailList", "UserName", "UserPolicyList"},
    {KIND_GROUP, "GroupDetailList", "GroupName", "GroupPolicyList"},
    {KIND_ROLE, "RoleDetailList", "RoleName", "RolePolicyList"},
};

static enum ev_err add_principal(struct gather *g, const struct kind_desc *k,
				 const struct ev_xml_node *m,
				 struct ev_error *err)
{
	EV_TRY(count_entity(g, err));
	const char *name = ev_xml_path_text(m, k->name);
	const char *arn = ev_xml_path_text(m, "Arn");
	EV_ENSURE_E(err, name && arn && *arn, EV_E_MALFORMED,
		    "GetAccountAuthorizationDetails: a %s without name or Arn",
		    kind_names[k->kind]);
	json_t *admin = NULL;
	EV_TRY(inline_admin(ev_xml_child(m, k->inline_list), &admin, err));
	json_t *p = json_pack(
	    "{s:s, s:s, s:s, s:o, s:o?, s:o, s:I}", "kind", kind_names[k->kind],
	    "name", name, "arn", arn, "attached",
	    texts(ev_xml_child(m, "AttachedManagedPolicies"), "PolicyArn"),
	    "groups",
	    k->kind == KIND_USER ? texts(ev_xml_child(m, "GroupList"), NULL)
				 : NULL,
	    "inline_admin", admin, "obs", (json_int_t)current_page(g));
	if (!p || json_array_append_new(g->principals, p) != 0)
		return nomem(err);
	return EV_OK;
}

static enum ev_err add_policy(struct gather *g, const struct ev_xml_node *m,
			      struct ev_error *err)
{
	EV_TRY(count_entity(g, err));
	const char *arn = ev_xml_path_text(m, "Arn");
	EV_ENSURE_E(err, arn && *arn, EV_E_MALFORMED,
		    "GetAccountAuthorizationDetails: a policy without Arn");
	const struct ev_xml_node *def = NULL;
	for (const struct ev_xml_node *v =
		 ev_xml_child(ev_xml_child(m, "PolicyVersionList"), "member");
	     v; v = ev_xml_next_same(v)) {
		const char *is_def = ev_xml_path_text(v, "IsDefaultVersion");
		if (is_def && strcmp(is_def, "true") == 0)
			def = v;
	}
	EV_ENSURE_E(err, def, EV_E_MALFORMED,
		    "GetAccountAuthorizationDetails: policy without a default "
		    "version");
	bool admin = false;
	EV_TRY(document_is_admin(ev_xml_child(def, "Document"), &admin, err));
	json_t *p = json_pack("{s:b, s:I}", "admin", admin, "obs",
			      (json_int_t)current_page(g));
	if (!p || json_object_set_new(g->policies, arn, p) != 0)
		return nomem(err);
	return EV_OK;
}

static enum ev_err read_page(struct gather *g, const struct ev_xml_node *res,
			     struct ev_error *err)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		for (const struct ev_xml_node *m = ev_xml_child(
			 ev_xml_child(res, kinds[i].list), "member");
		     m; m = ev_xml_next_same(m))
			EV_TRY(add_principal(g, &kinds[i], m, err));
	for (const struct ev_xml_node *m =
		 ev_xml_child(ev_xml_child(res, "Policies"), "member");
	     m; m = ev_xml_next_same(m))
		EV_TRY(add_policy(g, m, err));
	return EV_OK;
}

static enum ev_err on_page(void *arg, const struct ev_aws_response *page,
			   struct ev_error *err)
{
	enum ev_err rc = read_page(
	    arg, ev_aws_response_result(page, "GetAccountAuthorizationDetails"),
	    err);
	/* The error finding names the page AWS sent. */
	if (rc != EV_OK && err)
		memcpy(err->request_id, page->request_id,
		       sizeof(err->request_id));
	return rc;
}

/* ---- the verdict ------------------------------------------------------------
 */

static bool is_admin_policy_arn(const char *arn)
{
	size_t n = strlen(arn), m = strlen(ADMIN_POLICY_SUFFIX);
	return strncmp(arn, "arn:", 4) == 0 && n > m &&
	       strcmp(arn + n - m, ADMIN_POLICY_SUFFIX) == 0;
}

struct obs_list {
	unsigned ids[EV_FINDING_MAX_OBS];
	size_t n;
};

static void obs_add(struct obs_list *o, unsigned id)
{
	for (size_t i = 0; i < o->n; i++)
		if (o->ids[i] == id)
			return;
	if (o->n < EV_FINDING_MAX_OBS)
		o->ids[o->n++] = id;
}

/* The policies through which p holds administrator access (an array,
 * empty when none), and the pages that say so. */
static json_t *admin_via(const struct gather *g, const json_t *p,
			 struct obs_list *o)
{
	json_t *via = json_array();
	if (!via)
		return NULL;
	obs_add(o, (unsigned)json_integer_value(json_object_get(p, "obs")));
	int bad = 0;
	size_t i;
	const json_t *x;
	json_array_foreach(json_object_get(p, "attached"), i, x)
	{
		const char *arn = json_string_value(x);
		const json_t *local = json_object_get(g->policies, arn);
		if (is_admin_policy_arn(arn)) {
			bad |= json_array_append_new(
			    via, json_pack("{s:s, s:s}", "policy", arn, "type",
					   "aws-managed"));
		} else if (json_is_true(json_object_get(local, "admin"))) {
			bad |= json_array_append_new(
			    via, json_pack("{s:s, s:s}", "policy", arn, "type",
					   "customer-managed"));
			obs_add(o, (unsigned)json_integer_value(
				       json_object_get(local, "obs")));
		}
	}
	json_array_foreach(json_object_get(p, "inline_admin"), i, x)
	{
		bad |= json_array_append_new(
		    via, json_pack("{s:s, s:s}", "policy", json_string_value(x),
				   "type", "inline"));
	}
	if (bad) {
		json_decref(via);
		return NULL;
	}
	return via;
}

static bool user_in_group(const json_t *user, const char *group)
{
	size_t i;
	const json_t *x;
	json_array_foreach(json_object_get(user, "groups"), i, x)
	{
		if (strcmp(json_string_value(x), group) == 0)
			return true;
	}
	return false;
}

static json_t *group_members(const struct gather *g, const char *group)
{
	json_t *members = json_array();
	size_t i;
	const json_t *p;
	json_array_foreach(g->principals, i, p)
	{
		if (!members)
			break;
		const char *kind =
		    json_string_value(json_object_get(p, "kind"));
		if (strcmp(kind, "user") != 0 || !user_in_group(p, group))
			continue;
		if (json_array_append(members, json_object_get(p, "name")) !=
		    0) {
			json_decref(members);
			members = NULL;
		}
	}
	return members;
}

static enum ev_err judge_principal(struct ev_probe_ctx *ctx,
				   const struct gather *g, const json_t *p,
				   json_t *summary, size_t *direct_users)
{
	struct obs_list o = {.n = 0};
	json_t *via = admin_via(g, p, &o);
	EV_ENSURE(via, EV_E_NOMEM);
	if (json_array_size(via) == 0) {
		json_decref(via);
		return EV_OK;
	}
	const char *kind = json_string_value(json_object_get(p, "kind"));
	const char *name = json_string_value(json_object_get(p, "name"));
	const char *arn = json_string_value(json_object_get(p, "arn"));
	json_t *d = json_pack("{s:s, s:s, s:o}", "kind", kind, "name", name,
			      "admin_policies", via);
	EV_ENSURE(d, EV_E_NOMEM);
	json_t *list = json_object_get(summary, kind);
	if (json_array_append_new(list, json_string(arn)) != 0) {
		json_decref(d);
		return EV_E_NOMEM;
	}
	if (strcmp(kind, "user") == 0) {
		(*direct_users)++;
		if (json_object_set(d, "groups",
				    json_object_get(p, "groups")) != 0) {
			json_decref(d);
			return EV_E_NOMEM;
		}
		return ev_findings_add(ctx->findings, PROBE_ID, ctx->account,
				       ctx->region, arn, EV_STATUS_FAIL, d,
				       o.ids, o.n,
				       "user %s holds administrator access "
				       "directly",
				       name);
	}
	if (strcmp(kind, "group") == 0) {
		json_t *members = group_members(g, name);
		if (!members || json_object_set_new(d, "members", members)) {
			json_decref(d);
			return EV_E_NOMEM;
		}
		size_t n = json_array_size(members);
		return ev_findings_add(ctx->findings, PROBE_ID, ctx->account,
				       ctx->region, arn, EV_STATUS_WARN, d,
				       o.ids, o.n,
				       "group %s grants administrator access "
				       "to %zu user%s",
				       name, n, n == 1 ? "" : "s");
	}
	return ev_findings_add(ctx->findings, PROBE_ID, ctx->account,
			       ctx->region, arn, EV_STATUS_WARN, d, o.ids, o.n,
			       "role %s has administrator access", name);
}

static enum ev_err judge(struct ev_probe_ctx *ctx, const struct gather *g,
			 const unsigned *pages, size_t n_pages)
{
	json_t *summary =
	    json_pack("{s:[], s:[], s:[]}", "user", "group", "role");
	EV_ENSURE(summary, EV_E_NOMEM);
	size_t direct = 0, users = 0;
	size_t i;
	const json_t *p;
	json_array_foreach(g->principals, i, p)
	{
		const char *kind =
		    json_string_value(json_object_get(p, "kind"));
		users += strcmp(kind, "user") == 0;
		enum ev_err rc = judge_principal(ctx, g, p, summary, &direct);
		if (rc != EV_OK) {
			json_decref(summary);
			return rc;
		}
	}
	if (direct) {
		json_decref(summary);
		return EV_OK;
	}
	json_t *d =
	    json_pack("{s:I, s:O, s:O}", "users_examined", (json_int_t)users,
		      "groups_with_admin", json_object_get(summary, "group"),
		      "roles_with_admin", json_object_get(summary, "role"));
	json_decref(summary);
	EV_ENSURE(d, EV_E_NOMEM);
	return ev_findings_add(ctx->findings, PROBE_ID, ctx->account,
			       ctx->region, ctx->account, EV_STATUS_PASS, d,
			       pages, n_pages,
			       "no IAM user holds administrator access "
			       "directly (%zu users examined)",
			       users);
}

enum ev_err ev_probe_least_privilege_run(struct ev_probe_ctx *ctx)
{
	static const struct ev_uri_param params[] = {
	    {"Filter.member.1", "User"},
	    {"Filter.member.2", "Role"},
	    {"Filter.member.3", "Group"},
	    {"Filter.member.4", "LocalManagedPolicy"},
	};
	struct ev_aws_call call = {
	    .service = EV_SVC_IAM,
	    .action = "GetAccountAuthorizationDetails",
	    .region = "us-east-1",
	    .params = params,
	    .n_params = sizeof(params) / sizeof(params[0]),
	};
	unsigned pages[EV_FINDING_MAX_OBS];
	size_t n_pages = 0;
	struct gather g = {
	    .principals = json_array(),
	    .policies = json_object(),
	    .page_obs = pages,
	    .n_pages = &n_pages,
	};
	enum ev_err rc = EV_OK;
	if (!g.principals || !g.policies) {
		rc = EV_E_NOMEM;
		goto out;
	}
	struct ev_error err;
	ev_error_clear(&err);
	rc = ev_probe_paginate(ctx, &call, on_page, &g, pages,
			       EV_FINDING_MAX_OBS, &n_pages, &err);
	if (rc != EV_OK) {
		rc = ev_findings_add_error(ctx->findings, PROBE_ID,
					   ctx->account, ctx->region,
					   ctx->account, &err, pages, n_pages,
					   "GetAccountAuthorizationDetails");
		goto out;
	}
	rc = judge(ctx, &g, pages, n_pages);
out:
	json_decref(g.principals);
	json_decref(g.policies);
	return rc;
}
