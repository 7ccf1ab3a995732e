/* fuzz_apreq.c -- apreq_find (apreq.c): the authenticator ciphertexts of
 * the AP-REQs in a Negotiate token, for idgate's own replay cache (client).
 *
 * Input: the token's bytes (base64-decoded), as they are.
 *
 * Properties: every span returned lies inside the input, each once; the
 * scan stops at max + 1 or gives up (APREQ_TOO_COSTLY); a larger max gives
 * the same spans first.  And the security property itself, against MIT
 * krb5's own decoder (libkrb5's decode_krb5_ap_req, which the GSS acceptor
 * calls): at every offset where MIT decodes an AP-REQ, its authenticator
 * ciphertext is, byte for byte, one of the spans -- unless apreq_find said
 * there were more than max (the caller refuses such a token). */
#include <krb5.h>
#include <stdbool.h>
#include <string.h>

#include "apreq.h"
#include "fuzz.h"

#define MAX_OUT 4
#define MAX_MORE 64

/* libkrb5 exports them; MIT declares them in its private k5-int.h only */
krb5_error_code decode_krb5_ap_req(const krb5_data *code, krb5_ap_req **rep);
void krb5_free_ap_req(krb5_context context, krb5_ap_req *val);

static bool inside(const struct apreq_cipher *c, const uint8_t *data, size_t size)
{
	return c->p >= data && c->len <= size && c->p - data <= (ptrdiff_t)(size - c->len);
}

/* Every offset MIT decodes at: its ciphertext is one of ours. */
static void check_mit(const uint8_t *data, size_t size, const struct apreq_cipher *out,
		      size_t stored)
{
	for (size_t o = 0; o < size; o++) {
		krb5_data d = { .length = (unsigned)(size - o),
				.data = (char *)(uintptr_t)(data + o) };
		krb5_ap_req *req = NULL;
		bool seen = false;

		if (decode_krb5_ap_req(&d, &req) != 0)
			continue;
		/* an empty ciphertext's data is NULL: no memcmp on it */
		for (size_t i = 0; i < stored; i++)
			seen |= out[i].len == req->authenticator.ciphertext.length &&
				(out[i].len == 0 ||
				 memcmp(out[i].p, req->authenticator.ciphertext.data, out[i].len) == 0);
		krb5_free_ap_req(NULL, req);
		FZ_CHECK(seen);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct apreq_cipher out[MAX_OUT], more[MAX_MORE];
	size_t got, stored, again;

	if (size > 1u << 20)
		return 0;
	got = apreq_find(data, size, out, MAX_OUT);
	FZ_CHECK(got <= MAX_OUT + 1 || got == APREQ_TOO_COSTLY);
	stored = got < MAX_OUT ? got : MAX_OUT;
	if (got == APREQ_TOO_COSTLY)
		stored = 0; /* nothing to rely on */
	for (size_t i = 0; i < stored; i++) {
		FZ_CHECK(inside(&out[i], data, size));
		for (size_t j = 0; j < i; j++)
			FZ_CHECK(out[i].p != out[j].p || out[i].len != out[j].len);
	}
	again = apreq_find(data, size, more, MAX_MORE);
	if (got <= MAX_OUT) {
		FZ_CHECK(again == got);
		FZ_CHECK(memcmp(more, out, got * sizeof *out) == 0);
		check_mit(data, size, out, got);
	} else if (got == APREQ_TOO_COSTLY) {
		FZ_CHECK(again == APREQ_TOO_COSTLY);
	} else {
		FZ_CHECK(again > MAX_OUT);
		FZ_CHECK(memcmp(more, out, MAX_OUT * sizeof *out) == 0 ||
			 again == APREQ_TOO_COSTLY);
	}
	FZ_CHECK((apreq_find(data, size, NULL, 0) == 0) == (got == 0));
	return 0;
}
