/* test_apreq.c -- apreq_find (apreq.h): the authenticator ciphertext of
 * every AP-REQ MIT krb5 would decode, at any offset of a Negotiate token.
 * AP-REQs are built here with a small DER writer, in every framing a client
 * uses and in the non-canonical encodings MIT's decoder accepts; each check
 * asserts where the ciphertext is (its offset in the token, its length),
 * which the writer records as it lays the bytes out.  A real client's token
 * is checked against an independent decoder (openssl asn1parse). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <krb5.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "apreq.h"

/* MIT's own AP-REQ decoder and its free: exported by libkrb5 (for its KDC
 * and tools), declared in MIT's private k5-int.h only.  The checks below ask it, at every offset, what
 * MIT accepts, so each "MIT accepts / refuses" here is MIT's answer. */
krb5_error_code decode_krb5_ap_req(const krb5_data *code, krb5_ap_req **rep); /* k5-int.h */
void krb5_free_ap_req(krb5_context context, krb5_ap_req *val); /* k5-int.h */

/* ---------------------------------------------------------------- a DER writer */

#define BUF_MAX 4096
#define MARKS_MAX 4
#define LF_MIN 0    /* the shortest length */
#define LF_INDEF -1 /* 0x80 ... 00 00 (BER's indefinite length) */
/* 1..9: long form with that many bytes, minimal or not */

struct mark {
	size_t off, len; /* a ciphertext: where it lies in the buffer */
};

struct buf {
	uint8_t b[BUF_MAX];
	size_t n;
	struct mark marks[MARKS_MAX];
	size_t nmarks;
};

static void put(struct buf *o, const void *p, size_t n)
{
	assert_true(o->n + n <= BUF_MAX);
	memcpy(o->b + o->n, p, n);
	o->n += n;
}

static void put_hex(struct buf *o, const char *hex)
{
	for (; hex[0] && hex[1]; hex += 2) {
		char two[3] = { hex[0], hex[1], 0 };
		uint8_t v = (uint8_t)strtoul(two, NULL, 16);

		put(o, &v, 1);
	}
}

/* Append in (bytes and marks) to o. */
static void append(struct buf *o, const struct buf *in)
{
	for (size_t i = 0; i < in->nmarks; i++) {
		assert_true(o->nmarks < MARKS_MAX);
		o->marks[o->nmarks++] = (struct mark){ o->n + in->marks[i].off, in->marks[i].len };
	}
	put(o, in->b, in->n);
}

static void put_length(struct buf *o, size_t len, int lform)
{
	uint8_t l[10];
	int k = lform;

	if (lform == LF_INDEF) {
		put_hex(o, "80");
		return;
	}
	if (lform == LF_MIN && len < 128) {
		l[0] = (uint8_t)len;
		put(o, l, 1);
		return;
	}
	if (lform == LF_MIN)
		for (k = 1; k < 8 && (len >> (8 * k)) != 0; k++)
			;
	l[0] = (uint8_t)(0x80 | k);
	for (int i = 0; i < k; i++)
		l[1 + i] = i >= k - 8 ? (uint8_t)((uint64_t)len >> (8 * (k - 1 - i))) : 0;
	put(o, l, (size_t)k + 1);
}

/* Append tag (hex), a length in form lform, content (and 00 00 after it
 * for an indefinite length) to o. */
static void tlv(struct buf *o, const char *tag, int lform, const struct buf *content)
{
	put_hex(o, tag);
	put_length(o, content->n, lform);
	append(o, content);
	if (lform == LF_INDEF)
		put_hex(o, "0000");
}

static void tlv_hex(struct buf *o, const char *tag, int lform, const char *hex)
{
	struct buf c = { .n = 0 };

	put_hex(&c, hex);
	tlv(o, tag, lform, &c);
}

/* n bytes of 0x80..0xbf, none a candidate (0x6e, 0x7f), different per seed */
static void put_cipher(struct buf *o, size_t n, uint8_t seed)
{
	assert_true(o->nmarks < MARKS_MAX);
	o->marks[o->nmarks++] = (struct mark){ o->n, n };
	for (size_t i = 0; i < n; i++) {
		uint8_t v = (uint8_t)(0x80 | ((seed * 7 + i) & 0x3f));

		put(o, &v, 1);
	}
}

/* ---------------------------------------------------------------- AP-REQs */

/* How an AP-REQ is written: the tags (hex), the form of every length, and
 * what MIT accepts besides the canonical layout.  All zero: DER as a client
 * writes it, with a kvno and 40 bytes of ciphertext. */
struct shape {
	const char *app, *seq, *auth, *encseq, *cipher, *os; /* NULL: 6e 30 a4 30 a2 04 */
	int lform;         /* every length but those below */
	int app_lform;     /* [APPLICATION 14]'s */
	int os_lform;      /* the OCTET STRING's */
	bool no_kvno;      /* EncryptedData without its [1] kvno */
	bool extra_apreq;  /* an element [5] after [4] */
	bool extra_enc;    /* an element [3] after [2] */
	bool os_nested;    /* the cipher inside another OCTET STRING (os constructed) */
	bool junk_before;  /* an element [7] before [4] (MIT refuses it) */
	bool junk_after_os; /* bytes after the OCTET STRING inside [2] (MIT refuses them) */
	size_t cipher_len; /* 0: 40 */
	bool empty_cipher; /* 0 bytes */
	uint8_t seed;
};

static const char *tag_or(const char *tag, const char *canonical)
{
	return tag ? tag : canonical;
}

/* Ticket ::= [APPLICATION 1] SEQUENCE { tkt-vno, realm, sname, enc-part }:
 * its enc-part holds an OCTET STRING too, which is not the authenticator. */
static void put_ticket(struct buf *o, int lf)
{
	struct buf t = { .n = 0 }, s = { .n = 0 }, enc = { .n = 0 }, e = { .n = 0 };

	tlv_hex(&s, "a0", lf, "020105");
	tlv_hex(&s, "a1", lf, "1b0454455354");
	tlv_hex(&s, "a2", lf, "300fa003020103a10830061b0448545450");
	tlv_hex(&e, "a0", lf, "020112");
	tlv_hex(&e, "a1", lf, "020102");
	tlv_hex(&e, "a2", lf, "0410000102030405060708090a0b0c0d0e0f");
	tlv(&enc, "30", lf, &e);
	tlv(&s, "a3", lf, &enc);
	tlv(&t, "30", lf, &s);
	tlv(o, "61", lf, &t);
}

/* EncryptedData ::= SEQUENCE { etype [0], kvno [1] OPTIONAL, cipher [2] } */
static void put_enc_data(struct buf *o, const struct shape *sh)
{
	struct buf e = { .n = 0 }, os = { .n = 0 }, c = { .n = 0 }, seq = { .n = 0 };

	tlv_hex(&e, "a0", sh->lform, "020112");
	if (!sh->no_kvno)
		tlv_hex(&e, "a1", sh->lform, "020103");
	put_cipher(&c, sh->empty_cipher ? 0 : sh->cipher_len ? sh->cipher_len : 40, sh->seed);
	if (sh->os_nested) {
		struct buf inner = { .n = 0 };

		tlv(&inner, "04", sh->lform, &c);
		tlv(&os, tag_or(sh->os, "04"), sh->os_lform, &inner);
	} else {
		tlv(&os, tag_or(sh->os, "04"), sh->os_lform, &c);
	}
	if (sh->junk_after_os)
		put_hex(&os, "0500");
	tlv(&e, tag_or(sh->cipher, "a2"), sh->lform, &os);
	if (sh->extra_enc)
		tlv_hex(&e, "a3", sh->lform, "020100");
	tlv(&seq, tag_or(sh->encseq, "30"), sh->lform, &e);
	append(o, &seq);
}

/* AP-REQ ::= [APPLICATION 14] SEQUENCE { pvno [0], msg-type [1],
 * ap-options [2], ticket [3], authenticator [4] EncryptedData } */
static void put_ap_req(struct buf *o, const struct shape *sh)
{
	struct buf f = { .n = 0 }, tk = { .n = 0 }, ed = { .n = 0 }, seq = { .n = 0 };

	tlv_hex(&f, "a0", sh->lform, "020105");
	tlv_hex(&f, "a1", sh->lform, "02010e");
	tlv_hex(&f, "a2", sh->lform, "03050020000000");
	put_ticket(&tk, sh->lform);
	tlv(&f, "a3", sh->lform, &tk);
	put_enc_data(&ed, sh);
	if (sh->junk_before)
		tlv_hex(&f, "a7", sh->lform, "020100");
	tlv(&f, tag_or(sh->auth, "a4"), sh->lform, &ed);
	if (sh->extra_apreq)
		tlv_hex(&f, "a5", sh->lform, "020100");
	tlv(&seq, tag_or(sh->seq, "30"), sh->lform, &f);
	tlv(o, tag_or(sh->app, "6e"), sh->app_lform, &seq);
}

/* GSS's InitialContextToken: 0x60, the krb5 OID, TOK_ID 01 00, the AP-REQ */
static void gss_wrap(struct buf *o, const struct buf *ap_req)
{
	struct buf c = { .n = 0 };

	put_hex(&c, "06092a864886f712010202" "0100");
	append(&c, ap_req);
	tlv(o, "60", LF_MIN, &c);
}

/* SPNEGO NegTokenInit { mechTypes [0] { krb5 }, mechToken [2] } */
static void spnego_init(struct buf *o, const struct buf *mech_token)
{
	struct buf c = { .n = 0 }, seq = { .n = 0 }, init = { .n = 0 }, tok = { .n = 0 };

	tlv_hex(&seq, "a0", LF_MIN, "300b06092a864886f712010202");
	tlv(&tok, "04", LF_MIN, mech_token);
	tlv(&seq, "a2", LF_MIN, &tok);
	tlv(&init, "30", LF_MIN, &seq);
	put_hex(&c, "06062b0601050502");
	tlv(&c, "a0", LF_MIN, &init);
	tlv(o, "60", LF_MIN, &c);
}

/* SPNEGO NegTokenResp { negState [0] accept-incomplete, responseToken [2] } */
static void spnego_resp(struct buf *o, const struct buf *response_token)
{
	struct buf seq = { .n = 0 }, resp = { .n = 0 }, tok = { .n = 0 };

	tlv_hex(&seq, "a0", LF_MIN, "0a0101");
	tlv(&tok, "04", LF_MIN, response_token);
	tlv(&seq, "a2", LF_MIN, &tok);
	tlv(&resp, "30", LF_MIN, &seq);
	tlv(o, "a1", LF_MIN, &resp);
}

/* An AP-REQ of shape sh in a, and in a GSS token in g. */
static void gss_ap_req(struct buf *a, struct buf *g, const struct shape *sh)
{
	put_ap_req(a, sh);
	gss_wrap(g, a);
}

/* How many offsets of tok MIT decodes an AP-REQ at; each one's
 * authenticator ciphertext must be, byte for byte, one of ours. */
static size_t mit_agrees(const uint8_t *tok, size_t n, const struct apreq_cipher *ours,
			 size_t nours)
{
	size_t decoded = 0;

	for (size_t o = 0; o < n; o++) {
		krb5_data d = { .length = (unsigned)(n - o), .data = (char *)(uintptr_t)(tok + o) };
		krb5_ap_req *req = NULL;
		bool seen = false;

		if (decode_krb5_ap_req(&d, &req) != 0)
			continue;
		decoded++;
		/* an empty ciphertext's data is NULL: no memcmp on it */
		for (size_t i = 0; i < nours; i++)
			seen |= ours[i].len == req->authenticator.ciphertext.length &&
				(ours[i].len == 0 ||
				 memcmp(ours[i].p, req->authenticator.ciphertext.data, ours[i].len) == 0);
		krb5_free_ap_req(NULL, req);
		assert_true(seen);
	}
	return decoded;
}

/* apreq_find on a copy of exactly the token's bytes (ASan sees a read past
 * them) must give the buffer's marks, in order; MIT decodes as many. */
static void expect_marks(const struct buf *tok)
{
	struct apreq_cipher out[MARKS_MAX + 1];
	uint8_t *copy = malloc(tok->n ? tok->n : 1);
	size_t got;

	memcpy(copy, tok->b, tok->n);
	got = apreq_find(copy, tok->n, out, MARKS_MAX + 1);
	assert_int_equal(got, tok->nmarks);
	for (size_t i = 0; i < got; i++) {
		assert_int_equal(out[i].p - copy, tok->marks[i].off);
		assert_int_equal(out[i].len, tok->marks[i].len);
	}
	assert_int_equal(mit_agrees(copy, tok->n, out, got), tok->nmarks);
	free(copy);
}

/* Nothing found, and MIT decodes nothing either. */
static void expect_none(const struct buf *tok)
{
	struct apreq_cipher out[2];

	assert_int_equal(apreq_find(tok->b, tok->n, out, 2), 0);
	assert_int_equal(mit_agrees(tok->b, tok->n, out, 0), 0);
}

/* ---------------------------------------------------------------- framings */

static void test_raw(void **state)
{
	struct shape sh = { .seed = 0 };
	struct buf t = { .n = 0 };

	(void)state;
	put_ap_req(&t, &sh);
	assert_int_equal(t.nmarks, 1);
	expect_marks(&t);
	/* a ciphertext long enough for a long-form length */
	sh.cipher_len = 300;
	t = (struct buf){ .n = 0 };
	put_ap_req(&t, &sh);
	assert_int_equal(t.marks[0].len, 300);
	expect_marks(&t);
}

static void test_gss(void **state)
{
	struct shape sh = { .seed = 0 };
	struct buf a = { .n = 0 }, t = { .n = 0 };

	(void)state;
	put_ap_req(&a, &sh);
	gss_wrap(&t, &a);
	assert_int_equal(t.b[0], 0x60);
	assert_int_equal(t.marks[0].off, a.marks[0].off + 3 + 11 + 2); /* 60 81 LL */
	expect_marks(&t);
}

/* In SPNEGO's NegTokenInit (the first leg), and its NegTokenResp (a later
 * one) with the GSS token or the bare AP-REQ as responseToken. */
static void test_spnego(void **state)
{
	struct buf a = { .n = 0 }, g = { .n = 0 }, t = { .n = 0 };

	(void)state;
	gss_ap_req(&a, &g, &(struct shape){ .cipher_len = 200 });
	spnego_init(&t, &g);
	assert_int_equal(t.b[0], 0x60);
	expect_marks(&t);
	t = (struct buf){ .n = 0 };
	spnego_resp(&t, &g);
	assert_int_equal(t.b[0], 0xa1);
	expect_marks(&t);
	t = (struct buf){ .n = 0 };
	spnego_resp(&t, &a);
	expect_marks(&t);
}

/* ---------------------------------------------------------------- what MIT accepts */

/* One shape, raw and in SPNEGO: found, the same ciphertext. */
static void expect_shape_found(const struct shape *sh)
{
	struct buf a = { .n = 0 }, g = { .n = 0 }, t = { .n = 0 };

	gss_ap_req(&a, &g, sh);
	assert_int_equal(a.nmarks, 1);
	expect_marks(&a);
	spnego_init(&t, &g);
	expect_marks(&t);
}

static void test_high_tag_numbers(void **state)
{
	(void)state;
	expect_shape_found(&(struct shape){ .app = "7f0e" });
	expect_shape_found(&(struct shape){ .app = "7f800e" });
	/* leading zeros: MIT's overflow check never trips on them */
	expect_shape_found(&(struct shape){ .app = "7f8080808080808080808080800e" });
	expect_shape_found(&(struct shape){ .seq = "3f10" });
	expect_shape_found(&(struct shape){ .auth = "bf04" });
	expect_shape_found(&(struct shape){ .auth = "bf808004" });
	expect_shape_found(&(struct shape){ .encseq = "3f8010" });
	expect_shape_found(&(struct shape){ .cipher = "bf02" });
	expect_shape_found(&(struct shape){ .os = "1f04" });
	expect_shape_found(&(struct shape){ .app = "7f0e", .seq = "3f10", .auth = "bf04",
					   .encseq = "3f10", .cipher = "bf02", .os = "1f8004" });
}

static void test_long_lengths(void **state)
{
	(void)state;
	for (int lf = 1; lf <= 8; lf++) {
		expect_shape_found(&(struct shape){ .lform = lf });
		expect_shape_found(&(struct shape){ .app_lform = lf });
		expect_shape_found(&(struct shape){ .os_lform = lf });
		expect_shape_found(&(struct shape){ .lform = lf, .app_lform = lf,
						   .os_lform = lf });
	}
}

static void test_optional_and_trailing(void **state)
{
	(void)state;
	expect_shape_found(&(struct shape){ .no_kvno = true });
	expect_shape_found(&(struct shape){ .extra_apreq = true });
	expect_shape_found(&(struct shape){ .extra_enc = true });
	expect_shape_found(&(struct shape){ .no_kvno = true, .extra_apreq = true,
					   .extra_enc = true, .lform = 2 });
	/* an empty ciphertext is still one */
	expect_shape_found(&(struct shape){ .empty_cipher = true });
}

/* What MIT refuses but we take, deliberately (apreq.h): found all the same. */
static void expect_lenient(const struct shape *sh)
{
	struct apreq_cipher out[2];
	struct buf t = { .n = 0 };

	put_ap_req(&t, sh);
	assert_int_equal(apreq_find(t.b, t.n, out, 2), 1);
	assert_int_equal(out[0].p - t.b, t.marks[0].off);
	assert_int_equal(out[0].len, t.marks[0].len);
	assert_int_equal(mit_agrees(t.b, t.n, out, 1), 0);
}

static void test_lenient(void **state)
{
	(void)state;
	expect_lenient(&(struct shape){ .junk_before = true });
	expect_lenient(&(struct shape){ .junk_after_os = true });
	expect_lenient(&(struct shape){ .auth = "84" }); /* [4] primitive */
	expect_lenient(&(struct shape){ .seq = "10" });  /* SEQUENCE primitive */
}

/* Bytes after the AP-REQ (MIT decodes what its tag's length says). */
static void test_bytes_after(void **state)
{
	struct shape sh = { .seed = 0 };
	struct buf t = { .n = 0 };

	(void)state;
	put_ap_req(&t, &sh);
	put_hex(&t, "0000ffff6e7f");
	expect_marks(&t);
}

/* ---------------------------------------------------------------- what MIT refuses */

static void expect_shape_none(const struct shape *sh)
{
	struct buf a = { .n = 0 }, g = { .n = 0 }, t = { .n = 0 };

	gss_ap_req(&a, &g, sh);
	expect_none(&a);
	spnego_init(&t, &g);
	expect_none(&t);
}

static void test_refused(void **state)
{
	(void)state;
	expect_shape_none(&(struct shape){ .app_lform = LF_INDEF });
	expect_shape_none(&(struct shape){ .os_lform = LF_INDEF });
	expect_shape_none(&(struct shape){ .lform = LF_INDEF });
	/* a constructed OCTET STRING (BER's segmented string) */
	expect_shape_none(&(struct shape){ .os = "24", .os_nested = true });
	/* 9 length bytes: more than MIT's size_t */
	expect_shape_none(&(struct shape){ .app_lform = 9 });
	expect_shape_none(&(struct shape){ .os_lform = 9 });
	/* a tag number above ASN1_TAGNUM_MAX: 0x10 << 21 passes INT_MAX >> 7
	 * before the last byte, which MIT then refuses to read */
	expect_shape_none(&(struct shape){ .app = "7f908080800e" });
	/* the wrong tags where it matters */
	expect_shape_none(&(struct shape){ .app = "6d" });
	expect_shape_none(&(struct shape){ .app = "7f0f" });
	expect_shape_none(&(struct shape){ .seq = "31" });
	expect_shape_none(&(struct shape){ .auth = "a5", .extra_apreq = false });
	expect_shape_none(&(struct shape){ .auth = "64" });
	expect_shape_none(&(struct shape){ .encseq = "a0" });
	expect_shape_none(&(struct shape){ .cipher = "a3" });
	expect_shape_none(&(struct shape){ .cipher = "42" });
	expect_shape_none(&(struct shape){ .os = "03" });
	expect_shape_none(&(struct shape){ .os = "44" });
}

/* A length one past its parent's end: not an AP-REQ MIT reads. */
static void test_length_past_parent(void **state)
{
	struct shape sh = { .seed = 0 };
	struct buf t = { .n = 0 };

	(void)state;
	put_ap_req(&t, &sh);
	t.b[t.marks[0].off - 1]++; /* the OCTET STRING's length */
	expect_none(&t);
	t.b[t.marks[0].off - 1]--;
	expect_marks(&t);
	t.b[1]++; /* [APPLICATION 14]'s length, past the token's end */
	expect_none(&t);
}

/* ---------------------------------------------------------------- several */

static void test_two(void **state)
{
	struct buf a = { .n = 0 }, g = { .n = 0 }, t = { .n = 0 };

	(void)state;
	put_ap_req(&a, &(struct shape){ .seed = 1 });
	put_hex(&a, "00");
	put_ap_req(&a, &(struct shape){ .seed = 2, .app = "7f0e", .cipher_len = 60 });
	assert_int_equal(a.nmarks, 2);
	expect_marks(&a);
	gss_wrap(&g, &a);
	spnego_init(&t, &g);
	expect_marks(&t);
}

static void test_more_than_max(void **state)
{
	struct apreq_cipher out[3];
	struct buf t = { .n = 0 };

	(void)state;
	for (uint8_t s = 1; s <= 3; s++)
		put_ap_req(&t, &(struct shape){ .seed = s });
	assert_int_equal(t.nmarks, 3);
	memset(out, 0, sizeof out);
	assert_int_equal(apreq_find(t.b, t.n, out, 2), 3);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(out[i].p - t.b, t.marks[i].off);
		assert_int_equal(out[i].len, t.marks[i].len);
	}
	assert_null(out[2].p);
	assert_int_equal(out[2].len, 0);
	assert_int_equal(apreq_find(t.b, t.n, NULL, 0), 1);
	assert_int_equal(apreq_find(t.b, t.n, out, 3), 3);
}

/* Every prefix: nothing read past it (ASan), every span inside it; an
 * AP-REQ that ends at the token's end is cut, so nothing is found. */
static void expect_truncations_none(const uint8_t *tok, size_t full)
{
	struct apreq_cipher out[4];

	for (size_t n = 0; n < full; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		size_t got;

		memcpy(copy, tok, n);
		got = apreq_find(copy, n, out, 4);
		for (size_t i = 0; i < got && i < 4; i++)
			assert_true(out[i].p >= copy && out[i].p + out[i].len <= copy + n);
		assert_int_equal(got, 0);
		free(copy);
	}
}

static void test_truncations(void **state)
{
	struct buf a = { .n = 0 }, g = { .n = 0 }, t = { .n = 0 };

	(void)state;
	put_ap_req(&a, &(struct shape){ .app = "7f800e", .lform = 3 });
	expect_marks(&a);
	expect_truncations_none(a.b, a.n);
	gss_wrap(&g, &a);
	spnego_init(&t, &g);
	expect_marks(&t);
	expect_truncations_none(t.b, t.n);
}

/* ---------------------------------------------------------------- a real token */

/* A SPNEGO NegTokenInit that python-gssapi (MIT krb5 1.20.1, Debian 12)
 * sent for HTTP@fuzz.test in a throwaway realm: tests/fuzz/negotiate-seeds.sh,
 * the token of corpus/negotiate/fuzz-spnego-plain-raw (its bytes after the
 * flag byte and the 2-byte length).  Where its authenticator's ciphertext
 * lies, by an independent decoder:
 *   openssl asn1parse -inform DER -i -in tok.der
 *     39:d=4  hl=4 l= 712 prim:     OCTET STRING   (mechToken: 60 82 02 c4,
 *         the krb5 OID 06 09 ..., 01 00: the AP-REQ at 43 + 17 = 60)
 *   openssl asn1parse -inform DER -i -in tok.der -offset 60
 *      0:d=0  hl=4 l= 691 cons: appl [ 14 ]
 *    488:d=2  hl=3 l= 204 cons:   cont [ 4 ]
 *    502:d=5  hl=3 l= 190 prim:      OCTET STRING
 * so the ciphertext starts at 60 + 502 + 3 = 565 and is 190 bytes long (to
 * the token's end, 755).  The ticket's own enc-part (at 60 + 109) is not it. */
static const uint8_t real_token[] = {
	0x60, 0x82, 0x02, 0xef, 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02,
	0xa0, 0x82, 0x02, 0xe3, 0x30, 0x82, 0x02, 0xdf, 0xa0, 0x0d, 0x30, 0x0b,
	0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0xa2,
	0x82, 0x02, 0xcc, 0x04, 0x82, 0x02, 0xc8, 0x60, 0x82, 0x02, 0xc4, 0x06,
	0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x01, 0x00,
	0x6e, 0x82, 0x02, 0xb3, 0x30, 0x82, 0x02, 0xaf, 0xa0, 0x03, 0x02, 0x01,
	0x05, 0xa1, 0x03, 0x02, 0x01, 0x0e, 0xa2, 0x07, 0x03, 0x05, 0x00, 0x20,
	0x00, 0x00, 0x00, 0xa3, 0x82, 0x01, 0xc9, 0x61, 0x82, 0x01, 0xc5, 0x30,
	0x82, 0x01, 0xc1, 0xa0, 0x03, 0x02, 0x01, 0x05, 0xa1, 0x0b, 0x1b, 0x09,
	0x46, 0x55, 0x5a, 0x5a, 0x2e, 0x54, 0x45, 0x53, 0x54, 0xa2, 0x1c, 0x30,
	0x1a, 0xa0, 0x03, 0x02, 0x01, 0x03, 0xa1, 0x13, 0x30, 0x11, 0x1b, 0x04,
	0x48, 0x54, 0x54, 0x50, 0x1b, 0x09, 0x66, 0x75, 0x7a, 0x7a, 0x2e, 0x74,
	0x65, 0x73, 0x74, 0xa3, 0x82, 0x01, 0x8d, 0x30, 0x82, 0x01, 0x89, 0xa0,
	0x03, 0x02, 0x01, 0x12, 0xa1, 0x03, 0x02, 0x01, 0x01, 0xa2, 0x82, 0x01,
	0x7b, 0x04, 0x82, 0x01, 0x77, 0x94, 0x2c, 0xef, 0xa5, 0xbc, 0x2e, 0x7f,
	0x4a, 0x8e, 0x45, 0xb2, 0xfe, 0x20, 0x8e, 0x04, 0xdd, 0xa9, 0x7a, 0xc8,
	0xb2, 0x1d, 0x86, 0xac, 0x8e, 0x30, 0x87, 0x52, 0x1a, 0xe6, 0x62, 0x71,
	0xcd, 0xc3, 0x52, 0x95, 0xd8, 0xac, 0xc9, 0x11, 0x55, 0xea, 0xf1, 0x7d,
	0xfe, 0xd2, 0x4c, 0x94, 0x8c, 0xb5, 0x6e, 0x4a, 0xdc, 0xc8, 0xb2, 0x5b,
	0x95, 0x26, 0x47, 0xde, 0x48, 0x27, 0x2a, 0x59, 0xe0, 0x6f, 0xdb, 0x66,
	0x86, 0xb1, 0xda, 0xf0, 0x00, 0x79, 0x61, 0x68, 0x22, 0x9c, 0xa0, 0x4a,
	0x30, 0xe9, 0x12, 0x4a, 0x92, 0x9f, 0xb9, 0x06, 0x3c, 0xa8, 0x42, 0x59,
	0xf2, 0x96, 0x81, 0xf4, 0x30, 0x02, 0xcf, 0x9a, 0x7e, 0x06, 0xf7, 0xc9,
	0x95, 0x43, 0x2c, 0x72, 0xba, 0x80, 0x22, 0xaa, 0xd4, 0x3e, 0x35, 0x08,
	0x2d, 0x5f, 0xc7, 0x67, 0xaa, 0x98, 0x76, 0xf3, 0x8a, 0x37, 0x10, 0x51,
	0xc0, 0x34, 0x39, 0x3e, 0x10, 0x75, 0x46, 0x9b, 0xfc, 0x79, 0xac, 0x9b,
	0xd7, 0xe5, 0x26, 0xe9, 0x01, 0x32, 0xa2, 0xa0, 0xc0, 0x07, 0xa0, 0x52,
	0x21, 0xd8, 0x92, 0x4f, 0x3b, 0x8b, 0x58, 0xba, 0x1e, 0xd8, 0xae, 0xe3,
	0x49, 0x46, 0xc3, 0xed, 0x94, 0x29, 0xb3, 0xa8, 0xc1, 0x6e, 0x4d, 0xf2,
	0xa1, 0x24, 0x38, 0x70, 0x09, 0x86, 0xb8, 0xa1, 0x1a, 0x49, 0xa7, 0x0e,
	0x5c, 0xe7, 0x7a, 0xbb, 0xd2, 0x1d, 0x20, 0x1c, 0xd0, 0xe5, 0xba, 0x1f,
	0x88, 0x51, 0xc7, 0x59, 0x4f, 0x2a, 0x01, 0x14, 0xed, 0xbe, 0x1c, 0x84,
	0x10, 0x5d, 0xe7, 0xd1, 0xc9, 0x84, 0xf6, 0xeb, 0x31, 0xf7, 0xc6, 0xbf,
	0x63, 0xec, 0xaf, 0x37, 0x05, 0x37, 0xae, 0x90, 0x39, 0x85, 0x9f, 0xff,
	0xce, 0x71, 0xc0, 0xcc, 0x3b, 0x88, 0x66, 0x45, 0x8d, 0xc5, 0xfe, 0x8b,
	0xb7, 0x5f, 0xa1, 0x80, 0xe7, 0xee, 0x4c, 0xe1, 0x2b, 0x5d, 0x93, 0xfc,
	0x2d, 0x49, 0xf0, 0x0f, 0xe4, 0xab, 0x3d, 0x22, 0x53, 0xa1, 0xbc, 0x19,
	0xe5, 0xfe, 0x63, 0xe6, 0xc0, 0x04, 0x95, 0xbf, 0xbc, 0x2b, 0x50, 0xa9,
	0xb2, 0x93, 0x4f, 0x5b, 0xcb, 0x17, 0xc3, 0xfd, 0x98, 0x31, 0x94, 0x2d,
	0xb6, 0x21, 0xdc, 0xbb, 0x3d, 0x01, 0x43, 0xd5, 0x40, 0x87, 0x3c, 0x57,
	0xdb, 0x7f, 0xdc, 0x05, 0xba, 0x46, 0x92, 0x08, 0x93, 0xe2, 0x8b, 0xc2,
	0xda, 0x36, 0xb3, 0x73, 0xdd, 0xce, 0x87, 0x6a, 0x6d, 0x63, 0x07, 0xb3,
	0x14, 0x98, 0xfa, 0x9f, 0xe1, 0x45, 0x31, 0x95, 0xbc, 0x6c, 0x2e, 0xb9,
	0x6c, 0xca, 0x9c, 0x9a, 0x13, 0x28, 0x4b, 0x24, 0xec, 0xdc, 0x84, 0x7f,
	0x40, 0xf9, 0xd2, 0xb6, 0xd1, 0x16, 0x0d, 0x78, 0xc0, 0x1d, 0xf4, 0xc2,
	0x20, 0x28, 0xb1, 0x81, 0x20, 0xdd, 0xc9, 0x87, 0xa4, 0x81, 0xcc, 0x30,
	0x81, 0xc9, 0xa0, 0x03, 0x02, 0x01, 0x12, 0xa2, 0x81, 0xc1, 0x04, 0x81,
	0xbe, 0xaf, 0x46, 0x36, 0x5f, 0x59, 0x39, 0x81, 0x9f, 0x50, 0x78, 0xbb,
	0x95, 0xc9, 0x6e, 0x5b, 0xea, 0xb1, 0x6e, 0x10, 0xa0, 0x3a, 0xfb, 0xae,
	0x40, 0xcf, 0x7e, 0x3f, 0xa0, 0xc0, 0xf8, 0x08, 0x53, 0x31, 0x5c, 0x92,
	0x00, 0x66, 0x20, 0xbc, 0x5a, 0x72, 0xcb, 0x89, 0xfd, 0xeb, 0x94, 0x1c,
	0xbd, 0x66, 0xb8, 0xb0, 0xcb, 0x72, 0x18, 0x03, 0xe2, 0x81, 0x5d, 0x0c,
	0x99, 0xc0, 0x05, 0xc1, 0x79, 0x39, 0xab, 0x3a, 0x7c, 0xc5, 0x99, 0x13,
	0x55, 0xb5, 0xf7, 0xe5, 0xbf, 0x90, 0x56, 0x77, 0x39, 0x21, 0x58, 0xe4,
	0x75, 0xcf, 0xbe, 0x8e, 0x53, 0x79, 0xa9, 0x75, 0x99, 0x3e, 0xa8, 0x17,
	0xa1, 0x16, 0xa1, 0xf2, 0x2f, 0x1e, 0x08, 0x56, 0x70, 0xfe, 0x82, 0x05,
	0x76, 0x66, 0x73, 0xa9, 0xd8, 0x2d, 0x38, 0x7a, 0x52, 0xcb, 0x11, 0x79,
	0x5d, 0x19, 0x00, 0xa0, 0x7a, 0x4b, 0x76, 0x5a, 0x2e, 0x6d, 0x75, 0xe8,
	0xf5, 0x6a, 0x35, 0xf8, 0x08, 0x1c, 0x0d, 0x29, 0xdc, 0x4d, 0x8f, 0x43,
	0x7e, 0x8b, 0x7f, 0x12, 0x1b, 0x44, 0xe3, 0x74, 0xa2, 0xda, 0xe5, 0xe6,
	0x65, 0xed, 0xeb, 0x68, 0xbb, 0x11, 0xf2, 0xd1, 0xc7, 0x2d, 0x6b, 0x53,
	0x70, 0xe7, 0x3d, 0x94, 0xf6, 0xdd, 0x11, 0xb7, 0x16, 0xfd, 0x67, 0xc2,
	0x11, 0x03, 0x32, 0x8b, 0xd4, 0x2b, 0x2c, 0x32, 0x4f, 0x66, 0xaf,
};
#define REAL_CIPHER_OFF 565
#define REAL_CIPHER_LEN 190

static void test_real_token(void **state)
{
	struct apreq_cipher out[2];

	(void)state;
	assert_int_equal(sizeof real_token, 755);
	assert_int_equal(apreq_find(real_token, sizeof real_token, out, 2), 1);
	assert_int_equal(out[0].p - real_token, REAL_CIPHER_OFF);
	assert_int_equal(out[0].len, REAL_CIPHER_LEN);
	assert_int_equal(mit_agrees(real_token, sizeof real_token, out, 1), 1);
	/* the mechToken alone (GSS header), the AP-REQ alone */
	assert_int_equal(apreq_find(real_token + 43, sizeof real_token - 43, out, 2), 1);
	assert_int_equal(out[0].p - real_token, REAL_CIPHER_OFF);
	assert_int_equal(apreq_find(real_token + 60, sizeof real_token - 60, out, 2), 1);
	assert_int_equal(out[0].p - real_token, REAL_CIPHER_OFF);
	assert_int_equal(out[0].len, REAL_CIPHER_LEN);
	expect_truncations_none(real_token, sizeof real_token);
}

/* ---------------------------------------------------------------- cost */

/* xorshift: the same bytes every run */
static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* The real token in 60 KB of noise: found, not given up on. */
static void test_big_noise(void **state)
{
	size_t n = 60000, at = 31111;
	uint8_t *tok = malloc(n);
	struct apreq_cipher out[2];
	uint32_t s = 2463534242u;

	(void)state;
	for (size_t i = 0; i < n; i++)
		tok[i] = (uint8_t)rnd(&s);
	memcpy(tok + at, real_token, sizeof real_token);
	assert_int_equal(apreq_find(tok, n, out, 2), 1);
	assert_int_equal(out[0].p - tok, at + REAL_CIPHER_OFF);
	assert_int_equal(out[0].len, REAL_CIPHER_LEN);
	free(tok);
}

/* k candidates that overlap: each [APPLICATION 14] SEQUENCE { [0] {the
 * next candidates}, [4] with a tag of `run` bytes 0x80, one EncryptedData }
 * -- every candidate reads the same run and finds the same ciphertext. */
static uint8_t *overlapping(size_t k, size_t run, size_t *n_out, size_t *cipher_off)
{
	const uint8_t enc[] = { 0x30, 0x06, 0xa2, 0x04, 0x04, 0x02, 0xab, 0xcd };
	size_t head = 12 + 6, tail = 1 + run + 1 + 1 + sizeof enc, n = k * head + tail, p = 0;
	uint8_t *t = malloc(n);

	for (size_t i = 0; i < k; i++) {
		size_t app = n - (p + 6), seq = app - 6, w = k * head - (p + 18);
		uint8_t h[18] = { 0x6e, 0x84, (uint8_t)(app >> 24), (uint8_t)(app >> 16),
				  (uint8_t)(app >> 8), (uint8_t)app, 0x30, 0x84,
				  (uint8_t)(seq >> 24), (uint8_t)(seq >> 16), (uint8_t)(seq >> 8),
				  (uint8_t)seq, 0xa0, 0x84, (uint8_t)(w >> 24), (uint8_t)(w >> 16),
				  (uint8_t)(w >> 8), (uint8_t)w };

		memcpy(t + p, h, sizeof h);
		p += sizeof h;
	}
	t[p++] = 0xbf; /* [4] constructed, high-tag-number form */
	memset(t + p, 0x80, run);
	p += run;
	t[p++] = 0x04;
	t[p++] = sizeof enc;
	memcpy(t + p, enc, sizeof enc);
	*cipher_off = p + 6;
	p += sizeof enc;
	assert_int_equal(p, n);
	*n_out = n;
	return t;
}

static void test_overlapping_candidates(void **state)
{
	struct apreq_cipher out[2];
	size_t n, off;
	uint8_t *t;

	(void)state;
	/* cheap: found once (the same span from every candidate) */
	t = overlapping(100, 10, &n, &off);
	assert_int_equal(apreq_find(t, n, out, 2), 1);
	assert_int_equal(out[0].p - t, off);
	assert_int_equal(out[0].len, 2);
	free(t);
	/* 2,000 candidates re-reading 20,000 bytes each: given up on */
	t = overlapping(2000, 20000, &n, &off);
	assert_int_equal(apreq_find(t, n, out, 2), APREQ_TOO_COSTLY);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_raw),
		cmocka_unit_test(test_gss),
		cmocka_unit_test(test_spnego),
		cmocka_unit_test(test_high_tag_numbers),
		cmocka_unit_test(test_long_lengths),
		cmocka_unit_test(test_optional_and_trailing),
		cmocka_unit_test(test_bytes_after),
		cmocka_unit_test(test_lenient),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_length_past_parent),
		cmocka_unit_test(test_two),
		cmocka_unit_test(test_more_than_max),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_real_token),
		cmocka_unit_test(test_big_noise),
		cmocka_unit_test(test_overlapping_candidates),
	};
	return cmocka_run_group_tests_name("apreq", tests, NULL, NULL);
}
