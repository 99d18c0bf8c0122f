/* Writes one snapshot the way the collector does, large enough that a
 * test can kill it part-way: N accounts, each with findings and an
 * observation whose body is KB kilobytes of incompressible-ish text.
 *
 * usage: snapwriter --dir DIR --key KEY --start EPOCH [--accounts N]
 *                   [--body-kb KB]
 * Prints the snapshot's path; exit 0 written, 1 failed, 2 usage. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "evidence.h"

static void fill_body(char *p, size_t n, unsigned seed)
{
	/* A small LCG: bodies differ per account and compress poorly, so
	 * the files are as large as real ones. */
	unsigned x = seed * 2654435761u + 1;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (char)('a' + (x >> 16) % 26);
	}
}

static int add_account(struct ev_evidence *e, int i, size_t body_len)
{
	char id[16];
	snprintf(id, sizeof(id), "%012d", 200000000 + i);
	struct ev_observations o;
	struct ev_findings f;
	ev_observations_init(&o, body_len + 1);
	ev_findings_init(&f);
	int rc = 1;
	o.items = calloc(1, sizeof(*o.items));
	if (!o.items)
		goto out;
	o.cap = 1;
	struct ev_observation *x = &o.items[0];
	x->id = 1;
	snprintf(x->service, sizeof(x->service), "iam");
	snprintf(x->action, sizeof(x->action),
		 "GetAccountAuthorizationDetails");
	snprintf(x->region, sizeof(x->region), "us-east-1");
	memcpy(x->account, id, sizeof(x->account));
	x->time = 1735689600;
	x->http_status = 200;
	snprintf(x->request_id, sizeof(x->request_id), "req-%d", i);
	x->body = malloc(body_len + 1);
	if (!x->body)
		goto out;
	fill_body(x->body, body_len, (unsigned)i);
	x->body[body_len] = '\0';
	x->body_len = body_len;
	ev_sha256_hex(x->body, body_len, x->body_sha256);
	x->attempts = 1;
	o.n = 1;
	unsigned cite[] = {1};
	if (ev_findings_add(&f, "least-privilege", id, "", "root",
			    EV_STATUS_PASS, NULL, cite, 1,
			    "no administrator policy attached") != EV_OK)
		goto out;
	const char *regions[] = {"us-east-1", "eu-west-1"};
	struct ev_evidence_account a = {
	    .id = id,
	    .regions = regions,
	    .n_regions = 2,
	    .findings = &f,
	    .observations = &o,
	};
	struct ev_error err;
	ev_error_clear(&err);
	if (ev_evidence_add_account(e, &a, &err) != EV_OK) {
		fprintf(stderr, "snapwriter: %s\n", err.message);
		goto out;
	}
	rc = 0;
out:
	ev_findings_cleanup(&f);
	ev_observations_cleanup(&o);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"dir", required_argument, NULL, 'd'},
	    {"key", required_argument, NULL, 'k'},
	    {"start", required_argument, NULL, 's'},
	    {"accounts", required_argument, NULL, 'n'},
	    {"body-kb", required_argument, NULL, 'b'},
	    {NULL, 0, NULL, 0},
	};
	const char *dir = NULL, *key = NULL;
	long long start = 0;
	long accounts = 50, body_kb = 64;
	int opt;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			dir = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		case 's':
			start = strtoll(optarg, NULL, 10);
			break;
		case 'n':
			accounts = strtol(optarg, NULL, 10);
			break;
		case 'b':
			body_kb = strtol(optarg, NULL, 10);
			break;
		default:
			return 2;
		}
	}
	if (!dir || !key || start <= 0 || accounts < 0 || body_kb < 0) {
		fprintf(stderr, "usage: snapwriter --dir DIR --key KEY --start "
				"EPOCH [--accounts N] [--body-kb KB]\n");
		return 2;
	}
	struct ev_evidence_options o = {
	    .snapshot_dir = dir,
	    .started_at = (time_t)start,
	    .signing_key_path = key,
	};
	struct ev_error err;
	ev_error_clear(&err);
	struct ev_evidence *e = ev_evidence_begin(&o, &err);
	if (!e) {
		fprintf(stderr, "snapwriter: %s\n", err.message);
		return 1;
	}
	for (long i = 0; i < accounts; i++)
		if (add_account(e, (int)i, (size_t)body_kb * 1024) != 0) {
			ev_evidence_abort(e);
			return 1;
		}
	json_t *fields =
	    json_pack("{s:{s:i}}", "scope", "accounts", (int)accounts);
	char out[4096];
	if (ev_evidence_commit(e, fields, out, sizeof(out), &err) != EV_OK) {
		fprintf(stderr, "snapwriter: %s\n", err.message);
		return 1;
	}
	printf("%s\n", out);
	return 0;
}
