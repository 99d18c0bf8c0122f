#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "digest.h"
#include "keys.h"

/* RFC 8032 section 7.1, TEST 1: the secret key as PKCS#8, its public key's
 * SHA-256, and the signature of the empty message. */
static const char rfc8032_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
    "-----END PRIVATE KEY-----\n";
static const char rfc8032_fingerprint[] =
    "21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9";
static const char rfc8032_sig_empty[] =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8"
    "821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";

static char tmpdir[256];

static int make_tmpdir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ev-keys-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
	(void)state;
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void path_in_tmp(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", tmpdir, name);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void sign_and_verify(void **state)
{
	(void)state;
	struct ev_error err;
	struct ev_key *k = ev_keys_generate(&err);
	assert_non_null(k);
	assert_true(ev_keys_has_private(k));
	assert_int_equal(strlen(ev_keys_fingerprint(k)),
			 EV_KEYS_FINGERPRINT_LEN);
	const char msg[] = "{\"format\":1}\n";
	unsigned char sig[EV_KEYS_SIG_LEN];
	assert_int_equal(ev_keys_sign(k, msg, strlen(msg), sig, &err), EV_OK);
	assert_int_equal(
	    ev_keys_verify(k, msg, strlen(msg), sig, sizeof(sig), &err), EV_OK);
	/* One changed byte of the message, of the signature, a short
	 * signature: each is a mismatch, never a crash. */
	char bad[sizeof(msg)];
	memcpy(bad, msg, sizeof(msg));
	bad[3] ^= 1;
	assert_int_equal(
	    ev_keys_verify(k, bad, strlen(bad), sig, sizeof(sig), &err),
	    EV_E_AUTH);
	sig[10] ^= 0x80;
	assert_int_equal(
	    ev_keys_verify(k, msg, strlen(msg), sig, sizeof(sig), &err),
	    EV_E_AUTH);
	sig[10] ^= 0x80;
	assert_int_equal(ev_keys_verify(k, msg, strlen(msg), sig, 63, &err),
			 EV_E_AUTH);
	/* Another key does not verify it. */
	struct ev_key *other = ev_keys_generate(&err);
	assert_non_null(other);
	assert_string_not_equal(ev_keys_fingerprint(k),
				ev_keys_fingerprint(other));
	assert_int_equal(
	    ev_keys_verify(other, msg, strlen(msg), sig, sizeof(sig), &err),
	    EV_E_AUTH);
	ev_keys_free(other);
	ev_keys_free(k);
	ev_keys_free(NULL);
}

static void rfc8032_vector(void **state)
{
	(void)state;
	char path[512];
	path_in_tmp(path, sizeof(path), "rfc8032.pem");
	write_text(path, rfc8032_pem);
	chmod(path, 0600);
	struct ev_error err;
	struct ev_key *k = ev_keys_load_private(path, &err);
	assert_non_null(k);
	assert_string_equal(ev_keys_fingerprint(k), rfc8032_fingerprint);
	unsigned char sig[EV_KEYS_SIG_LEN];
	char hex[2 * EV_KEYS_SIG_LEN + 1];
	assert_int_equal(ev_keys_sign(k, "", 0, sig, &err), EV_OK);
	ev_hex_encode(sig, sizeof(sig), hex);
	assert_string_equal(hex, rfc8032_sig_empty);
	ev_keys_free(k);
}

static mode_t mode_of(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static void write_and_load(void **state)
{
	(void)state;
	char priv[512], pub[512];
	path_in_tmp(priv, sizeof(priv), "signing.key");
	path_in_tmp(pub, sizeof(pub), "signing.key.pub");
	struct ev_error err;
	struct ev_key *k = ev_keys_generate(&err);
	assert_non_null(k);
	mode_t old = umask(0);
	assert_int_equal(ev_keys_write_private(k, priv, false, &err), EV_OK);
	umask(old);
	assert_int_equal(ev_keys_write_public(k, pub, false, &err), EV_OK);
	assert_int_equal(mode_of(priv), 0600);
	assert_int_equal(mode_of(pub), 0644);

	/* Never replaced without force. */
	assert_int_equal(ev_keys_write_private(k, priv, false, &err),
			 EV_E_INVALID);
	assert_non_null(strstr(err.message, "exists"));
	assert_int_equal(ev_keys_write_public(k, pub, false, &err),
			 EV_E_INVALID);

	struct ev_key *kp = ev_keys_load_private(priv, &err);
	assert_non_null(kp);
	assert_true(ev_keys_has_private(kp));
	assert_string_equal(ev_keys_fingerprint(kp), ev_keys_fingerprint(k));
	struct ev_key *ku = ev_keys_load_public(pub, &err);
	assert_non_null(ku);
	assert_false(ev_keys_has_private(ku));
	assert_string_equal(ev_keys_fingerprint(ku), ev_keys_fingerprint(k));
	/* A public key cannot sign; what the loaded private key signs, the
	 * public one verifies. */
	unsigned char sig[EV_KEYS_SIG_LEN];
	assert_int_equal(ev_keys_sign(ku, "x", 1, sig, &err), EV_E_INVALID);
	assert_int_equal(ev_keys_sign(kp, "x", 1, sig, &err), EV_OK);
	assert_int_equal(ev_keys_verify(ku, "x", 1, sig, sizeof(sig), &err),
			 EV_OK);
	/* The private key file also yields its public half. */
	struct ev_key *kpub = ev_keys_load_public(priv, &err);
	assert_non_null(kpub);
	assert_false(ev_keys_has_private(kpub));
	assert_int_equal(ev_keys_sign(kpub, "x", 1, sig, &err), EV_E_INVALID);
	assert_string_equal(ev_keys_fingerprint(kpub), ev_keys_fingerprint(k));
	ev_keys_free(kpub);

	/* force replaces atomically, with the same modes. */
	struct ev_key *k2 = ev_keys_generate(&err);
	assert_non_null(k2);
	assert_int_equal(ev_keys_write_private(k2, priv, true, &err), EV_OK);
	assert_int_equal(ev_keys_write_public(k2, pub, true, &err), EV_OK);
	assert_int_equal(mode_of(priv), 0600);
	assert_int_equal(mode_of(pub), 0644);
	struct ev_key *k3 = ev_keys_load_private(priv, &err);
	assert_non_null(k3);
	assert_string_equal(ev_keys_fingerprint(k3), ev_keys_fingerprint(k2));

	/* The embedded-PEM path agrees with the file path. */
	struct ev_buf pem;
	ev_buf_init(&pem, EV_KEYS_PEM_MAX);
	assert_int_equal(ev_keys_public_pem(k2, &pem), EV_OK);
	assert_non_null(strstr(ev_buf_str(&pem), "BEGIN PUBLIC KEY"));
	assert_null(strstr(ev_buf_str(&pem), "PRIVATE"));
	struct ev_key *k4 =
	    ev_keys_from_public_pem(ev_buf_str(&pem), pem.len, &err);
	assert_non_null(k4);
	assert_string_equal(ev_keys_fingerprint(k4), ev_keys_fingerprint(k2));
	ev_buf_cleanup(&pem);

	ev_keys_free(k);
	ev_keys_free(kp);
	ev_keys_free(ku);
	ev_keys_free(k2);
	ev_keys_free(k3);
	ev_keys_free(k4);
	unlink(priv);
	unlink(pub);
}

static void write_pkey(const char *path, EVP_PKEY *p, bool encrypted)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	if (encrypted)
		assert_int_equal(
		    PEM_write_PKCS8PrivateKey(f, p, EVP_aes_256_cbc(), "pass",
					      4, NULL, NULL),
		    1);
	else
		assert_int_equal(
		    PEM_write_PrivateKey(f, p, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
}

static void refuses_bad_keys(void **state)
{
	(void)state;
	struct ev_error err;
	char path[512];

	path_in_tmp(path, sizeof(path), "absent.key");
	assert_null(ev_keys_load_private(path, &err));
	assert_int_equal(err.code, EV_E_NOT_FOUND);

	path_in_tmp(path, sizeof(path), "garbage.key");
	write_text(path, "not a key at all\n");
	assert_null(ev_keys_load_private(path, &err));
	assert_int_equal(err.code, EV_E_MALFORMED);
	assert_null(ev_keys_load_public(path, &err));
	assert_int_equal(err.code, EV_E_MALFORMED);

	/* An EC key is a key, but not the kind that signs snapshots. */
	EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_non_null(ec);
	path_in_tmp(path, sizeof(path), "ec.key");
	write_pkey(path, ec, false);
	assert_null(ev_keys_load_private(path, &err));
	assert_int_equal(err.code, EV_E_MALFORMED);
	assert_non_null(strstr(err.message, "Ed25519"));
	EVP_PKEY_free(ec);

	/* An encrypted key fails to load; nothing prompts. */
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	assert_non_null(ed);
	path_in_tmp(path, sizeof(path), "encrypted.key");
	write_pkey(path, ed, true);
	assert_null(ev_keys_load_private(path, &err));
	assert_int_equal(err.code, EV_E_MALFORMED);
	EVP_PKEY_free(ed);

	/* A public key file is not a private key. */
	struct ev_key *k = ev_keys_generate(&err);
	assert_non_null(k);
	path_in_tmp(path, sizeof(path), "only.pub");
	assert_int_equal(ev_keys_write_public(k, path, false, &err), EV_OK);
	assert_null(ev_keys_load_private(path, &err));
	assert_int_equal(err.code, EV_E_MALFORMED);
	ev_keys_free(k);

	/* Bounded. */
	path_in_tmp(path, sizeof(path), "huge.key");
	char *big = malloc(EV_KEYS_PEM_MAX + 100);
	assert_non_null(big);
	memset(big, 'A', EV_KEYS_PEM_MAX + 99);
	big[EV_KEYS_PEM_MAX + 99] = '\0';
	write_text(path, big);
	assert_null(ev_keys_load_private(path, &err));
	assert_int_equal(err.code, EV_E_LIMIT);
	assert_null(ev_keys_from_public_pem(big, EV_KEYS_PEM_MAX + 99, &err));
	assert_int_equal(err.code, EV_E_LIMIT);
	free(big);

	assert_null(
	    ev_keys_from_public_pem("-----BEGIN PUBLIC KEY-----\n", 27, &err));
	assert_int_equal(err.code, EV_E_MALFORMED);
	/* Writing into a directory that does not exist is an I/O error. */
	k = ev_keys_generate(&err);
	assert_non_null(k);
	path_in_tmp(path, sizeof(path), "no/such/dir/key");
	assert_int_equal(ev_keys_write_private(k, path, false, &err), EV_E_IO);
	ev_keys_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sign_and_verify),
	    cmocka_unit_test(rfc8032_vector),
	    cmocka_unit_test(write_and_load),
	    cmocka_unit_test(refuses_bad_keys),
	};
	return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
