/* `evident sign`: SigV4 for a raw HTTP/1.1 request read from stdin, to
 * check the signer against other signers and the published test vectors,
 * or to sign a request for another tool to send. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bounds.h"
#include "buf.h"
#include "cli.h"
#include "credentials.h"
#include "rawreq.h"
#include "runtime.h"
#include "sigv4.h"
#include "timefmt.h"

enum show {
	SHOW_REQUEST,
	SHOW_CANONICAL,
	SHOW_STRING_TO_SIGN,
	SHOW_AUTHORIZATION,
};

struct sign_opts {
	const char *service;
	const char *region;
	const char *time;
	bool unsigned_payload;
	bool no_normalize_path;
	bool content_sha256_header;
	bool unsigned_session_token;
	enum show show;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: evident sign --service SVC --region REGION "
		"[--time YYYYMMDDTHHMMSSZ]\n"
		"                    [--unsigned-payload] "
		"[--no-normalize-path] [--content-sha256-header]\n"
		"                    [--unsigned-session-token]\n"
		"                    [--show canonical|string-to-sign|"
		"authorization|request]\n"
		"\n"
		"Reads a raw HTTP/1.1 request on stdin (request line, "
		"\"Name:value\" header\nlines, a blank line, the body), signs "
		"it with AWS Signature Version 4 and\nprints one artefact:\n"
		"  request         the request line and headers as given, then "
		"the added\n"
		"                  headers (X-Amz-Date, X-Amz-Security-Token, "
		"x-amz-content-sha256,\n"
		"                  Authorization), a blank line and the body "
		"(the default)\n"
		"  canonical       the canonical request\n"
		"  string-to-sign  the string to sign\n"
		"  authorization   the Authorization header value\n"
		"Each artefact is printed exactly, with no newline added at "
		"the end, so it can\nbe compared byte for byte.\n"
		"\n"
		"Every header of the request is signed. --time is the signing "
		"time; it is\nrequired unless the request carries X-Amz-Date, "
		"whose value then wins. A\nrequest carrying "
		"X-Amz-Security-Token is signed with that token as it is.\n"
		"  --unsigned-payload        sign UNSIGNED-PAYLOAD instead of "
		"the body's SHA-256\n"
		"  --no-normalize-path       keep dot segments and repeated "
		"slashes\n"
		"  --content-sha256-header   add and sign x-amz-content-sha256 "
		"(always for s3)\n"
		"  --unsigned-session-token  add the session token after "
		"signing, unsigned\n"
		"Service s3 follows S3's path rules: no normalisation, each "
		"segment encoded\nonce. Other services: the path is normalised "
		"and encoded once more.\n"
		"\n"
		"Credentials come from the AWS default chain (--profile before "
		"the command\npicks a profile). The secret key is never "
		"printed; the session token appears\nonly in the signed "
		"request and, when it is signed, in the canonical request.\n"
		"Exit status: 0 signed; 2 usage error, malformed request or "
		"no usable\ncredentials; 3 any other failure.\n");
}

/* Returns -1 when the options are good, else the exit code. */
static int parse_args(int argc, char **argv, struct sign_opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *value = NULL;
		static const char *const valued[] = {"--service", "--region",
						     "--time", "--show"};
		size_t k = 0;
		for (; k < sizeof(valued) / sizeof(valued[0]); k++) {
			size_t n = strlen(valued[k]);
			if (!strncmp(a, valued[k], n) &&
			    (a[n] == '\0' || a[n] == '='))
				break;
		}
		if (k < sizeof(valued) / sizeof(valued[0])) {
			const char *eq = strchr(a, '=');
			if (eq) {
				value = eq + 1;
			} else if (i + 1 < argc) {
				value = argv[++i];
			} else {
				fprintf(stderr,
					"evident: sign: %s needs a value\n", a);
				return EV_EXIT_USAGE;
			}
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return EV_EXIT_OK;
		} else if (k == 0) {
			o->service = value;
		} else if (k == 1) {
			o->region = value;
		} else if (k == 2) {
			o->time = value;
		} else if (k == 3) {
			if (!strcmp(value, "request"))
				o->show = SHOW_REQUEST;
			else if (!strcmp(value, "canonical"))
				o->show = SHOW_CANONICAL;
			else if (!strcmp(value, "string-to-sign"))
				o->show = SHOW_STRING_TO_SIGN;
			else if (!strcmp(value, "authorization"))
				o->show = SHOW_AUTHORIZATION;
			else {
				fprintf(
				    stderr,
				    "evident: sign: --show takes canonical, "
				    "string-to-sign, authorization or "
				    "request\n");
				return EV_EXIT_USAGE;
			}
		} else if (!strcmp(a, "--unsigned-payload")) {
			o->unsigned_payload = true;
		} else if (!strcmp(a, "--no-normalize-path")) {
			o->no_normalize_path = true;
		} else if (!strcmp(a, "--content-sha256-header")) {
			o->content_sha256_header = true;
		} else if (!strcmp(a, "--unsigned-session-token")) {
			o->unsigned_session_token = true;
		} else {
			fprintf(stderr,
				"evident: sign: unknown argument '%s'\n", a);
			usage(stderr);
			return EV_EXIT_USAGE;
		}
	}
	if (!o->service || !*o->service || !o->region || !*o->region) {
		fprintf(stderr,
			"evident: sign: --service and --region are required\n");
		usage(stderr);
		return EV_EXIT_USAGE;
	}
	return -1;
}

static enum ev_err read_stdin(struct ev_buf *in)
{
	char chunk[16384];
	for (;;) {
		size_t n = fread(chunk, 1, sizeof(chunk), stdin);
		if (n)
			EV_TRY(ev_buf_append(in, chunk, n));
		if (n < sizeof(chunk))
			return ferror(stdin) ? EV_E_IO : EV_OK;
	}
}

/* Bad input and missing or misconfigured credentials are the user's to
 * fix (2); anything else is a failure of the run (3). */
static int exit_code(enum ev_err rc)
{
	switch (rc) {
	case EV_OK:
		return EV_EXIT_OK;
	case EV_E_INVALID:
	case EV_E_MALFORMED:
	case EV_E_LIMIT:
	case EV_E_CONFIG:
	case EV_E_NO_CREDENTIALS:
		return EV_EXIT_USAGE;
	default:
		return EV_EXIT_INCOMPLETE;
	}
}

static void print_request(const struct ev_rawreq *req,
			  const struct ev_sigv4_result *sig)
{
	const char *eol = req->crlf ? "\r\n" : "\n";
	printf("%s %s %s%s", req->method, req->target, req->version, eol);
	for (size_t i = 0; i < req->n_headers; i++)
		printf("%s%s", req->headers[i].raw, eol);
	for (size_t i = 0; i < sig->n_added; i++)
		printf("%s: %s%s", sig->added[i].name, sig->added[i].value,
		       eol);
	fputs(eol, stdout);
	if (req->body_len)
		fwrite(req->body, 1, req->body_len, stdout);
}

static void print_artefact(enum show show, const struct ev_rawreq *req,
			   const struct ev_sigv4_result *sig)
{
	const struct ev_buf *b = NULL;
	switch (show) {
	case SHOW_CANONICAL:
		b = &sig->canonical_request;
		break;
	case SHOW_STRING_TO_SIGN:
		b = &sig->string_to_sign;
		break;
	case SHOW_AUTHORIZATION:
		b = &sig->authorization;
		break;
	case SHOW_REQUEST:
	default:
		print_request(req, sig);
		return;
	}
	fwrite(ev_buf_str(b), 1, b->len, stdout);
}

int ev_cmd_sign(const struct ev_cli_globals *g, int argc, char **argv)
{
	struct sign_opts o = {0};
	int code = parse_args(argc, argv, &o);
	if (code >= 0)
		return code;
	time_t when = 0;
	if (o.time && ev_time_parse_amz(o.time, &when) != EV_OK) {
		fprintf(stderr,
			"evident: sign: --time must be YYYYMMDDTHHMMSSZ\n");
		return EV_EXIT_USAGE;
	}

	struct ev_error err = {0};
	struct ev_buf in;
	struct ev_rawreq req;
	struct ev_sigv4_result sig;
	struct ev_credentials creds = {0};
	struct ev_runtime rt;
	memset(&rt, 0, sizeof(rt));
	const char *stage = "reading the request";
	ev_buf_init(&in, EV_LIMIT_REQUEST_TEXT);
	ev_rawreq_init(&req);
	ev_sigv4_result_init(&sig);

	enum ev_err rc = read_stdin(&in);
	if (rc != EV_OK) {
		if (rc == EV_E_LIMIT)
			ev_error_set(&err, rc, "more than %u bytes",
				     EV_LIMIT_REQUEST_TEXT);
		else
			ev_error_set(&err, rc, "cannot read stdin");
		goto out;
	}
	stage = "parsing the request";
	rc = ev_rawreq_parse(in.data, in.len, &req, &err);
	if (rc != EV_OK)
		goto out;
	if (!o.time && !ev_rawreq_header(&req, "X-Amz-Date")) {
		fprintf(stderr, "evident: sign: --time is required: the "
				"request has no X-Amz-Date\n");
		code = EV_EXIT_USAGE;
		goto out;
	}

	stage = "loading the configuration";
	rc = ev_runtime_init(&rt, g, &err);
	if (rc != EV_OK)
		goto out;
	stage = "getting credentials";
	rc = ev_credentials_provider_get(rt.creds, time(NULL), &creds, &err);
	if (rc != EV_OK)
		goto out;

	stage = "signing";
	struct ev_sigv4_header headers[EV_LIMIT_SIGV4_HEADERS];
	for (size_t i = 0; i < req.n_headers; i++)
		headers[i] = (struct ev_sigv4_header){req.headers[i].name,
						      req.headers[i].value};
	struct ev_sigv4_request sreq = {
	    .method = req.method,
	    .path = req.path,
	    .query = req.query,
	    .headers = headers,
	    .n_headers = req.n_headers,
	    .body = req.body,
	    .body_len = req.body_len,
	    .payload_hash =
		o.unsigned_payload ? EV_SIGV4_UNSIGNED_PAYLOAD : NULL,
	};
	struct ev_sigv4_params params = {
	    .region = o.region,
	    .service = o.service,
	    .time = when,
	    .s3_paths = !strcmp(o.service, "s3"),
	    .no_normalize_path = o.no_normalize_path,
	    .content_sha256_header = o.content_sha256_header,
	    .unsigned_session_token = o.unsigned_session_token,
	};
	struct ev_sigv4_credentials sc = {
	    .access_key_id = creds.access_key_id,
	    .secret_access_key = creds.secret_access_key,
	    .session_token = creds.session_token,
	};
	rc = ev_sigv4_sign(&sreq, &params, &sc, NULL, &sig, &err);
	if (rc != EV_OK)
		goto out;

	stage = "writing the result";
	print_artefact(o.show, &req, &sig);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		rc = ev_error_set(&err, EV_E_IO, "cannot write to stdout");
		goto out;
	}
	code = EV_EXIT_OK;

out:
	if (rc != EV_OK) {
		fprintf(stderr, "evident: sign: %s: %s (%s)\n", stage,
			err.message[0] ? err.message : ev_err_name(rc),
			ev_err_name(rc));
		code = exit_code(rc);
	}
	ev_sigv4_result_cleanup(&sig);
	ev_credentials_cleanup(&creds);
	ev_runtime_cleanup(&rt);
	ev_rawreq_cleanup(&req);
	ev_buf_cleanup(&in);
	return code;
}
