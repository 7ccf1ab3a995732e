/* verdict.c -- see verdict.h. */
#include "verdict.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <string.h>

#include "idgate/module.h"
#include "reqmsg.h"

#define SEALED_VERSION 1
#define NONCE_LEN 12
#define TAG_LEN 16
#define AT_NONCE 1
#define AT_CIPHER (AT_NONCE + NONCE_LEN)

int verdict_new_key(uint8_t key[VERDICT_KEY_LEN])
{
	return gnutls_rnd(GNUTLS_RND_KEY, key, VERDICT_KEY_LEN) < 0 ? -1 : 0;
}

uint64_t verdict_trust_boundary(uint64_t taken, uint64_t now)
{
	return (taken < now ? taken : now) + 1;
}

int verdict_new_id(struct verdict *v)
{
	return gnutls_rnd(GNUTLS_RND_NONCE, v->id, VERDICT_ID_LEN) < 0 ? -1 : 0;
}

void verdict_digest_bytes(const void *p, size_t n, uint8_t out[VERDICT_DIGEST_LEN])
{
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, p, n, out) < 0)
		memset(out, 0xff, VERDICT_DIGEST_LEN); /* matches no head's digest */
}

void verdict_digest(const char *authorization, uint8_t out[VERDICT_DIGEST_LEN])
{
	memset(out, 0, VERDICT_DIGEST_LEN);
	if (authorization)
		verdict_digest_bytes(authorization, strlen(authorization), out);
}

static void encode_plain(struct wbuf *b, const struct verdict *v)
{
	wb_u32(b, v->kind);
	wb_bytes(b, v->id, VERDICT_ID_LEN);
	wb_u64(b, v->issued_ms);
	wb_u64(b, v->expires_ms);
	wb_u32(b, v->vdir);
	wb_u64(b, v->conn_id);
	wb_str(b, v->request_id);
	wb_str(b, v->method);
	wb_str(b, v->path);
	wb_bytes(b, v->authz_digest, VERDICT_DIGEST_LEN);
	wb_str(b, v->principal);
	wb_str(b, v->user);
	wb_u32(b, v->uid);
	wb_u32(b, v->gid);
	wb_u32(b, v->level);
	wb_u32(b, v->auth_type);
	wb_blob(b, v->creds, v->creds_len);
}

/* AES-256-GCM, a handle per call: GnuTLS' handles are not for several
 * threads at once, and a worker's threads open verdicts side by side. */
static int aead(bool seal, const uint8_t *key, const uint8_t *head, const uint8_t *in, size_t n,
		uint8_t *out, size_t *outlen)
{
	gnutls_datum_t kd = { (unsigned char *)key, VERDICT_KEY_LEN };
	gnutls_aead_cipher_hd_t h;
	int rc;

	if (gnutls_aead_cipher_init(&h, GNUTLS_CIPHER_AES_256_GCM, &kd) < 0)
		return -1;
	if (seal)
		rc = gnutls_aead_cipher_encrypt(h, head + AT_NONCE, NONCE_LEN, head, 1, TAG_LEN, in,
						n, out, outlen);
	else
		rc = gnutls_aead_cipher_decrypt(h, head + AT_NONCE, NONCE_LEN, head, 1, TAG_LEN, in,
						n, out, outlen);
	gnutls_aead_cipher_deinit(h);
	return rc < 0 ? -1 : 0;
}

int verdict_seal(const uint8_t key[VERDICT_KEY_LEN], const struct verdict *v, struct wbuf *out)
{
	static const uint8_t zero_tag[TAG_LEN];
	struct wbuf plain;
	uint8_t head[AT_CIPHER];
	size_t n;
	int rc = -1;

	wb_init(&plain);
	encode_plain(&plain, v);
	head[0] = SEALED_VERSION;
	if (plain.overflow || gnutls_rnd(GNUTLS_RND_NONCE, head + AT_NONCE, NONCE_LEN) < 0)
		goto done;
	wb_init(out);
	wb_bytes(out, head, sizeof(head));
	wb_bytes(out, plain.p, plain.len); /* room for the ciphertext ... */
	wb_bytes(out, zero_tag, TAG_LEN);    /* ... and the tag */
	if (out->overflow)
		goto done;
	n = plain.len + TAG_LEN;
	if (aead(true, key, head, plain.p, plain.len, out->p + AT_CIPHER, &n) < 0)
		goto done;
	out->len = AT_CIPHER + n;
	rc = 0;
done:
	explicit_bzero(plain.p, plain.cap);
	wb_free(&plain);
	return rc;
}

/* The plaintext is ours (it opened under our key), but it is checked as
 * strictly as any message: a bug of the authenticator must not become a
 * worker's. */
static int decode(const uint8_t *p, size_t len, struct verdict *v)
{
	struct rbuf r;

	memset(v, 0, sizeof(*v));
	rb_init(&r, p, len);
	v->kind = rb_u32(&r);
	rb_fixed(&r, v->id, VERDICT_ID_LEN);
	v->issued_ms = rb_u64(&r);
	v->expires_ms = rb_u64(&r);
	v->vdir = rb_u32(&r);
	v->conn_id = rb_u64(&r);
	v->request_id = rb_str(&r);
	v->method = rb_str(&r);
	v->path = rb_str(&r);
	rb_fixed(&r, v->authz_digest, VERDICT_DIGEST_LEN);
	v->principal = rb_str(&r);
	v->user = rb_str(&r);
	v->uid = rb_u32(&r);
	v->gid = rb_u32(&r);
	v->level = rb_u32(&r);
	v->auth_type = rb_u32(&r);
	v->creds = rb_bytes(&r, &v->creds_len);
	if (r.bad || r.left)
		return -1;
	return 0;
}

static bool well_formed(const struct verdict *v)
{
	bool req = v->kind == VERDICT_REQUEST;

	if (v->kind != VERDICT_REQUEST && v->kind != VERDICT_CONNECTION &&
	    v->kind != VERDICT_SESSION)
		return false;
	if (req != (v->request_id && v->method && v->path))
		return false;
	if (!req && (v->request_id || v->method || v->path || v->creds))
		return false;
	if (v->expires_ms < v->issued_ms || v->level > IDG_LEVEL_DELEGATION ||
	    v->auth_type > W_AUTH_BASIC)
		return false;
	if (v->user ? v->uid == (uint32_t)-1 : v->uid != (uint32_t)-1)
		return false;
	return true;
}

int verdict_open(const uint8_t key[VERDICT_KEY_LEN], const void *sealed, size_t len,
		 uint8_t *plain, struct verdict *v, char *why, size_t whylen)
{
	const uint8_t *s = sealed;
	size_t n = len;

	if (len < VERDICT_OVERHEAD || s[0] != SEALED_VERSION) {
		snprintf(why, whylen, "not a verdict (%s)", len < VERDICT_OVERHEAD
							   ? "too short" : "unknown version");
		return -1;
	}
	if (aead(false, key, s, s + AT_CIPHER, len - AT_CIPHER, plain, &n) < 0) {
		snprintf(why, whylen, "not sealed by this generation's authenticator "
			 "(or altered)");
		return -1;
	}
	if (decode(plain, n, v) < 0 || !well_formed(v)) {
		explicit_bzero(plain, n);
		snprintf(why, whylen, "sealed, but malformed");
		return -1;
	}
	return 0;
}
