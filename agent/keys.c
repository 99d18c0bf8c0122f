#include "keys.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/buffer.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "digest.h"
#include "fileio.h"
#include "log.h"

struct ev_key {
	EVP_PKEY *pkey;
	bool has_private;
	char fingerprint[EV_KEYS_FINGERPRINT_LEN + 1];
};

/* OpenSSL's default would prompt on the terminal for an encrypted key;
 * the agent runs unattended, so an encrypted key simply fails to load. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0;
}

static struct ev_key *wrap(EVP_PKEY *pkey, bool has_private,
			   struct ev_error *err)
{
	unsigned char raw[32];
	size_t raw_len = sizeof(raw);
	if (!EVP_PKEY_is_a(pkey, "ED25519")) {
		EVP_PKEY_free(pkey);
		ev_error_set(err, EV_E_MALFORMED, "not an Ed25519 key");
		return NULL;
	}
	if (EVP_PKEY_get_raw_public_key(pkey, raw, &raw_len) != 1 ||
	    raw_len != sizeof(raw)) {
		EVP_PKEY_free(pkey);
		ERR_clear_error();
		ev_error_set(err, EV_E_INTERNAL, "cannot read the public key");
		return NULL;
	}
	struct ev_key *k = calloc(1, sizeof(*k));
	if (!k) {
		EVP_PKEY_free(pkey);
		ev_error_set(err, EV_E_NOMEM, "out of memory");
		return NULL;
	}
	k->pkey = pkey;
	k->has_private = has_private;
	ev_sha256_hex(raw, raw_len, k->fingerprint);
	return k;
}

struct ev_key *ev_keys_generate(struct ev_error *err)
{
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (!pkey) {
		ERR_clear_error();
		ev_error_set(err, EV_E_INTERNAL,
			     "Ed25519 key generation failed");
		return NULL;
	}
	return wrap(pkey, true, err);
}

void ev_keys_free(struct ev_key *k)
{
	if (!k)
		return;
	/* OpenSSL wipes the private half of an ECX key when it frees it. */
	EVP_PKEY_free(k->pkey);
	free(k);
}

bool ev_keys_has_private(const struct ev_key *k)
{
	return k && k->has_private;
}

const char *ev_keys_fingerprint(const struct ev_key *k)
{
	return k->fingerprint;
}

/* Reads a whole key file into b (at most EV_KEYS_PEM_MAX bytes). */
static enum ev_err read_key_file(const char *path, struct ev_buf *b,
				 bool private_key, struct ev_error *err)
{
	mode_t mode = 0;
	EV_TRY(ev_file_read(AT_FDCWD, path, false, b, &mode, err));
	/* Kubernetes secret volumes default to 0644, so a readable key is
	 * accepted, but the operator hears about it. */
	if (private_key && (mode & 0077))
		ev_log_warn("signing key %s is readable by others (mode %04o); "
			    "chmod 600 it",
			    path, (unsigned)(mode & 07777));
	return EV_OK;
}

/* A public-only copy of an Ed25519 key (the private one is freed), so a
 * verifier never holds a private key it was not meant to have. NULL when
 * pkey is not Ed25519. */
static EVP_PKEY *public_half(EVP_PKEY *pkey)
{
	unsigned char raw[32];
	size_t raw_len = sizeof(raw);
	EVP_PKEY *pub = NULL;
	if (EVP_PKEY_is_a(pkey, "ED25519") &&
	    EVP_PKEY_get_raw_public_key(pkey, raw, &raw_len) == 1 &&
	    raw_len == sizeof(raw))
		pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw,
						  raw_len);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return pub;
}

static struct ev_key *load(const char *path, bool want_private,
			   struct ev_error *err)
{
	struct ev_buf b;
	ev_buf_init_secret(&b, EV_KEYS_PEM_MAX);
	struct ev_key *k = NULL;
	if (read_key_file(path, &b, want_private, err) != EV_OK)
		goto out;
	BIO *bio = BIO_new_mem_buf(b.data ? b.data : "", (int)b.len);
	if (!bio) {
		ev_error_set(err, EV_E_NOMEM, "out of memory");
		goto out;
	}
	bool is_private = strstr(ev_buf_str(&b), "PRIVATE KEY-----") != NULL;
	EVP_PKEY *pkey = NULL;
	if (is_private)
		pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	else if (!want_private)
		pkey = PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	ERR_clear_error();
	if (!pkey) {
		ev_error_set(err, EV_E_MALFORMED,
			     "%s: not an unencrypted %s key PEM", path,
			     want_private ? "private" : "public");
		goto out;
	}
	if (is_private && !want_private)
		pkey = public_half(pkey);
	if (!pkey) {
		ev_error_set(err, EV_E_MALFORMED, "%s: not an Ed25519 key",
			     path);
		goto out;
	}
	k = wrap(pkey, is_private && want_private, err);
	if (!k)
		ev_error_prefix(err, "%s: ", path);
out:
	ev_buf_cleanup(&b);
	return k;
}

struct ev_key *ev_keys_load_private(const char *path, struct ev_error *err)
{
	return load(path, true, err);
}

struct ev_key *ev_keys_load_public(const char *path, struct ev_error *err)
{
	return load(path, false, err);
}

struct ev_key *ev_keys_from_public_pem(const char *pem, size_t n,
				       struct ev_error *err)
{
	if (n > EV_KEYS_PEM_MAX) {
		ev_error_set(err, EV_E_LIMIT, "public key PEM larger than %u",
			     (unsigned)EV_KEYS_PEM_MAX);
		return NULL;
	}
	BIO *bio = BIO_new_mem_buf(pem, (int)n);
	if (!bio) {
		ev_error_set(err, EV_E_NOMEM, "out of memory");
		return NULL;
	}
	EVP_PKEY *pkey = PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	ERR_clear_error();
	if (!pkey) {
		ev_error_set(err, EV_E_MALFORMED, "not a public key PEM");
		return NULL;
	}
	return wrap(pkey, false, err);
}

/* Runs a PEM writer into a memory BIO on the secure heap (its buffer is
 * wiped on growth and on free) and appends the text to out. */
static enum ev_err pem_to_buf(const struct ev_key *k, bool private_key,
			      struct ev_buf *out)
{
	BIO *bio = BIO_new(BIO_s_secmem());
	EV_ENSURE(bio, EV_E_NOMEM);
	int ok = private_key ? PEM_write_bio_PrivateKey(bio, k->pkey, NULL,
							NULL, 0, NULL, NULL)
			     : PEM_write_bio_PUBKEY(bio, k->pkey);
	enum ev_err rc = EV_E_INTERNAL;
	if (ok == 1) {
		char *p = NULL;
		long n = BIO_get_mem_data(bio, &p);
		rc = n > 0 ? ev_buf_append(out, p, (size_t)n) : EV_E_INTERNAL;
	}
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}

enum ev_err ev_keys_public_pem(const struct ev_key *k, struct ev_buf *out)
{
	return pem_to_buf(k, false, out);
}

enum ev_err ev_keys_sign(const struct ev_key *k, const void *msg, size_t n,
			 unsigned char sig[EV_KEYS_SIG_LEN],
			 struct ev_error *err)
{
	EV_ENSURE_E(err, k && k->has_private, EV_E_INVALID,
		    "signing needs a private key");
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EV_ENSURE_E(err, ctx, EV_E_NOMEM, "out of memory");
	size_t sig_len = EV_KEYS_SIG_LEN;
	int ok = EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
		 EVP_DigestSign(ctx, sig, &sig_len, msg, n) == 1 &&
		 sig_len == EV_KEYS_SIG_LEN;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	EV_ENSURE_E(err, ok, EV_E_INTERNAL, "Ed25519 signing failed");
	return EV_OK;
}

enum ev_err ev_keys_verify(const struct ev_key *k, const void *msg, size_t n,
			   const unsigned char *sig, size_t sig_len,
			   struct ev_error *err)
{
	EV_ENSURE_E(err, sig_len == EV_KEYS_SIG_LEN, EV_E_AUTH,
		    "signature is %zu bytes, not %d", sig_len, EV_KEYS_SIG_LEN);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EV_ENSURE_E(err, ctx, EV_E_NOMEM, "out of memory");
	int init = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->pkey);
	int ok = init == 1 ? EVP_DigestVerify(ctx, sig, sig_len, msg, n) : -1;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	EV_ENSURE_E(err, init == 1, EV_E_INTERNAL,
		    "Ed25519 verification could not start");
	EV_ENSURE_E(err, ok == 1, EV_E_AUTH,
		    "signature does not match (key sha256:%s)", k->fingerprint);
	return EV_OK;
}

static enum ev_err write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		EV_ENSURE(w > 0, EV_E_IO);
		p += w;
		n -= (size_t)w;
	}
	return EV_OK;
}

static void fsync_parent(const char *path)
{
	char *copy = ev_strdup(path);
	if (!copy)
		return;
	int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	free(copy);
}

/* Writes text to path with mode, never following a symlink at path. */
static enum ev_err write_file(const char *path, const struct ev_buf *text,
			      mode_t mode, bool force, struct ev_error *err)
{
	char tmp[4096];
	const char *target = path;
	int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	if (force) {
		int n = snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", path,
				 (long)getpid());
		EV_ENSURE_E(err, n > 0 && (size_t)n < sizeof(tmp), EV_E_LIMIT,
			    "key path too long");
		target = tmp;
		(void)unlink(tmp);
	}
	int fd = open(target, flags, mode);
	if (fd < 0) {
		int e = errno;
		if (e == EEXIST)
			return ev_error_set(err, EV_E_INVALID,
					    "%s exists (--force replaces it)",
					    path);
		return ev_error_set(err, EV_E_IO, "%s: %s", target,
				    strerror(e));
	}
	enum ev_err rc = EV_OK;
	/* The umask may have taken bits away; set exactly what is meant. */
	if (fchmod(fd, mode) != 0 ||
	    write_all(fd, ev_buf_str(text), text->len) != EV_OK ||
	    fsync(fd) != 0)
		rc = ev_error_set(err, EV_E_IO, "%s: %s", target,
				  strerror(errno));
	if (close(fd) != 0 && rc == EV_OK)
		rc = ev_error_set(err, EV_E_IO, "%s: %s", target,
				  strerror(errno));
	if (rc == EV_OK && force && rename(tmp, path) != 0)
		rc =
		    ev_error_set(err, EV_E_IO, "%s: %s", path, strerror(errno));
	if (rc != EV_OK) {
		(void)unlink(target);
		return rc;
	}
	fsync_parent(path);
	return EV_OK;
}

enum ev_err ev_keys_write_private(const struct ev_key *k, const char *path,
				  bool force, struct ev_error *err)
{
	EV_ENSURE_E(err, k && k->has_private, EV_E_INVALID,
		    "not a private key");
	struct ev_buf pem;
	ev_buf_init_secret(&pem, EV_KEYS_PEM_MAX);
	enum ev_err rc = pem_to_buf(k, true, &pem);
	if (rc != EV_OK)
		ev_error_set(err, rc, "cannot encode the private key");
	else
		rc = write_file(path, &pem, 0600, force, err);
	ev_buf_cleanup(&pem);
	return rc;
}

enum ev_err ev_keys_write_public(const struct ev_key *k, const char *path,
				 bool force, struct ev_error *err)
{
	struct ev_buf pem;
	ev_buf_init(&pem, EV_KEYS_PEM_MAX);
	enum ev_err rc = pem_to_buf(k, false, &pem);
	if (rc != EV_OK)
		ev_error_set(err, rc, "cannot encode the public key");
	else
		rc = write_file(path, &pem, 0644, force, err);
	ev_buf_cleanup(&pem);
	return rc;
}
