/* Ed25519 keys that sign snapshot manifests (OpenSSL 3).
 *
 * Files: the private key is an unencrypted PKCS#8 PEM ("BEGIN PRIVATE
 * KEY"), the public key a SubjectPublicKeyInfo PEM ("BEGIN PUBLIC KEY"),
 * both as `openssl genpkey -algorithm ed25519` and `openssl pkey -pubout`
 * write them, so a signature can be checked with stock OpenSSL:
 *   openssl pkeyutl -verify -pubin -inkey KEY.pub -rawin \
 *       -in manifest.json -sigfile manifest.sig
 * A key is named by its fingerprint: the lower-case hex SHA-256 of the 32
 * raw public key bytes.
 *
 * Ownership: struct ev_key is opaque and heap-allocated (ev_keys_*
 * constructors, ev_keys_free). The private half lives only inside
 * OpenSSL's key object, which wipes it when freed; every buffer that held
 * private PEM text on the way in or out is wiped before it is freed. No
 * function here puts key material in an error message or a log line. */
#ifndef EV_KEYS_H
#define EV_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"

#define EV_KEYS_SIG_LEN		64   /* Ed25519 signature */
#define EV_KEYS_FINGERPRINT_LEN 64   /* hex SHA-256 of the raw public key */
#define EV_KEYS_PEM_MAX		4096 /* a key file or embedded PEM */

struct ev_key;

/* A fresh private key. NULL on failure (EV_E_INTERNAL, EV_E_NOMEM). */
struct ev_key *ev_keys_generate(struct ev_error *err);

/* Reads an Ed25519 private key PEM file (at most EV_KEYS_PEM_MAX bytes).
 * A file others may read is accepted with a warning in the log. Encrypted
 * keys are refused (nothing prompts for a passphrase). NULL on failure:
 * EV_E_NOT_FOUND (no such file), EV_E_IO, EV_E_LIMIT, EV_E_MALFORMED (not
 * a PEM key, or not Ed25519). The file's bytes are wiped after parsing. */
struct ev_key *ev_keys_load_private(const char *path, struct ev_error *err);

/* Reads an Ed25519 public key PEM file; a private key file is accepted too
 * (its public half is used). Errors as ev_keys_load_private. */
struct ev_key *ev_keys_load_public(const char *path, struct ev_error *err);

/* Parses public key PEM text from memory (a manifest's embedded key):
 * untrusted input, bounded by EV_KEYS_PEM_MAX. NULL on failure:
 * EV_E_LIMIT, EV_E_MALFORMED, EV_E_NOMEM. */
struct ev_key *ev_keys_from_public_pem(const char *pem, size_t n,
				       struct ev_error *err);

/* Frees k (wiping its private half); accepts NULL. */
void ev_keys_free(struct ev_key *k);

bool ev_keys_has_private(const struct ev_key *k);

/* The key's fingerprint, EV_KEYS_FINGERPRINT_LEN hex digits; a view
 * living as long as k. */
const char *ev_keys_fingerprint(const struct ev_key *k);

/* Appends the public key as PEM to out. Errors: EV_E_LIMIT, EV_E_NOMEM,
 * EV_E_INTERNAL. */
enum ev_err ev_keys_public_pem(const struct ev_key *k,
			       struct ev_buf *out) EV_MUST_CHECK;

/* Signs msg (pure Ed25519, no pre-hash). k must hold a private key
 * (EV_E_INVALID otherwise); EV_E_INTERNAL if OpenSSL fails. */
enum ev_err ev_keys_sign(const struct ev_key *k, const void *msg, size_t n,
			 unsigned char sig[EV_KEYS_SIG_LEN],
			 struct ev_error *err) EV_MUST_CHECK;

/* EV_OK when sig is k's signature over msg; EV_E_AUTH when it is not (a
 * wrong length included). */
enum ev_err ev_keys_verify(const struct ev_key *k, const void *msg, size_t n,
			   const unsigned char *sig, size_t sig_len,
			   struct ev_error *err) EV_MUST_CHECK;

/* Write the private key (mode 0600) or the public key (mode 0644) to path.
 * Without force an existing file is never touched (EV_E_INVALID, message
 * "exists"); with force it is replaced atomically (a temporary file in the
 * same directory, fsynced, renamed). The file and its directory are
 * fsynced. Errors: EV_E_INVALID, EV_E_IO, EV_E_NOMEM, EV_E_INTERNAL. The
 * private PEM text is wiped from memory after writing. */
enum ev_err ev_keys_write_private(const struct ev_key *k, const char *path,
				  bool force,
				  struct ev_error *err) EV_MUST_CHECK;
enum ev_err ev_keys_write_public(const struct ev_key *k, const char *path,
				 bool force,
				 struct ev_error *err) EV_MUST_CHECK;

#endif
