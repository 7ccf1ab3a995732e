/* apreq.c -- see apreq.h.  A DER reader as lenient as MIT's get_tag(), and
 * the path from [APPLICATION 14] to the authenticator's OCTET STRING,
 * tried at every byte 0x6e or 0x7f of the token. */
#include "apreq.h"

#include <limits.h>
#include <stdbool.h>
#include <string.h>

#define CLASS_UNIVERSAL 0x00
#define CLASS_APPLICATION 0x40
#define CLASS_CONTEXT 0x80
#define CONSTRUCTED 0x20

#define TAG_OCTET_STRING 4
#define TAG_SEQUENCE 16
#define TAG_AP_REQ 14
#define TAG_AUTHENTICATOR 4 /* AP-REQ's [4] authenticator */
#define TAG_CIPHER 2        /* EncryptedData's [2] cipher */

/* MIT's asn1_tagnum is an int, and ASN1_TAGNUM_MAX is INT_MAX - 1. */
#define TAGNUM_MAX ((uint32_t)INT_MAX - 1)

/* Bytes of tags and lengths that one call may read, per byte of token and
 * in all: a real token reads a few per candidate (see apreq.h "Cost"). */
#define WORK_PER_BYTE 8
#define WORK_BASE 4096

struct tlv {
	uint8_t cls;         /* CLASS_* */
	bool constructed;
	uint32_t num;
	const uint8_t *c;    /* contents */
	size_t clen;
	const uint8_t *next; /* the byte after the contents */
};

struct scan {
	size_t work_left;
	bool gave_up;
	struct apreq_cipher *out;
	size_t max, count;
};

/* The tag at p[0..len), as MIT's get_tag() reads it: the number in 5 bits,
 * or in the high-tag-number form (base 128, any number of bytes, leading
 * zeros too, refused above TAGNUM_MAX exactly where MIT refuses it).
 * Returns how many bytes it takes, 0 if MIT refuses it. */
static size_t read_tag(struct scan *s, const uint8_t *p, size_t len, struct tlv *t)
{
	size_t i = 1;
	uint8_t o;

	if (len == 0)
		return 0;
	t->cls = p[0] & 0xc0;
	t->constructed = p[0] & CONSTRUCTED;
	t->num = p[0] & 0x1f;
	if (t->num != 0x1f)
		return 1;
	t->num = 0;
	do {
		if (i == len || t->num > (TAGNUM_MAX >> 7))
			return 0;
		if (s->work_left == 0) { /* a run of 0x80 bytes is paid for, taken or not */
			s->gave_up = true;
			return 0;
		}
		s->work_left--;
		o = p[i++];
		t->num = (t->num << 7) | (o & 0x7f);
	} while (o & 0x80);
	return t->num > TAGNUM_MAX ? 0 : i;
}

/* A definite length at p[0..len), as MIT reads it: short form, or 1 to
 * sizeof(size_t) bytes of long form, minimal or not; it must fit in what
 * follows it.  Returns how many bytes it takes, 0 if MIT refuses it. */
static size_t read_length(const uint8_t *p, size_t len, size_t *clen)
{
	size_t llen, i;

	if (len == 0)
		return 0;
	if (!(p[0] & 0x80)) {
		*clen = p[0];
		return *clen <= len - 1 ? 1 : 0;
	}
	llen = p[0] & 0x7f;
	if (llen == 0 || llen > sizeof(size_t) || llen > len - 1)
		return 0; /* indefinite, too long, past the end */
	*clen = 0;
	for (i = 1; i <= llen; i++)
		*clen = (*clen << 8) | p[i];
	return *clen <= len - 1 - llen ? 1 + llen : 0;
}

/* One element at p[0..len), its contents within len.  false: not an
 * element MIT would read (or the work allowed is used up). */
static bool get_tlv(struct scan *s, const uint8_t *p, size_t len, struct tlv *t)
{
	size_t tl, ll;

	if (s->gave_up)
		return false;
	tl = read_tag(s, p, len, t);
	if (tl == 0)
		return false;
	ll = read_length(p + tl, len - tl, &t->clen);
	if (ll == 0)
		return false;
	if (1 + ll > s->work_left) { /* the tag's other bytes are paid for already */
		s->gave_up = true;
		return false;
	}
	s->work_left -= 1 + ll;
	t->c = p + tl + ll;
	t->next = t->c + t->clen;
	return true;
}

static bool is_tag(const struct tlv *t, uint8_t cls, uint32_t num)
{
	return t->cls == cls && t->num == num;
}

/* Keep a ciphertext found, once.  false: the scan is over (max + 1). */
static bool keep(struct scan *s, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < s->count && i < s->max; i++)
		if (s->out[i].p == p && s->out[i].len == len)
			return true;
	if (s->count < s->max)
		s->out[s->count] = (struct apreq_cipher){ p, len };
	s->count++;
	return s->count <= s->max;
}

/* The contents of an explicit tag, when they start with a SEQUENCE: where
 * that SEQUENCE's elements are.  (MIT also wants nothing after it.) */
static bool inner_sequence(struct scan *s, const struct tlv *outer, struct tlv *seq)
{
	return get_tlv(s, outer->c, outer->clen, seq) && is_tag(seq, CLASS_UNIVERSAL, TAG_SEQUENCE);
}

/* EncryptedData at the contents of [4]: every [2] holding a primitive
 * OCTET STRING, whatever comes before or after it.  false: stop the scan. */
static bool find_ciphers(struct scan *s, const struct tlv *auth)
{
	struct tlv seq, el, os;
	const uint8_t *p, *end;

	if (!inner_sequence(s, auth, &seq))
		return true;
	end = seq.next;
	for (p = seq.c; p < end && get_tlv(s, p, (size_t)(end - p), &el); p = el.next) {
		if (!is_tag(&el, CLASS_CONTEXT, TAG_CIPHER))
			continue;
		if (get_tlv(s, el.c, el.clen, &os) && is_tag(&os, CLASS_UNIVERSAL, TAG_OCTET_STRING) &&
		    !os.constructed && !keep(s, os.c, os.clen))
			return false;
	}
	return true;
}

/* An AP-REQ starting at p, the token's end at p + len: every [4] of its
 * SEQUENCE, wherever it is.  false: stop the scan. */
static bool try_ap_req(struct scan *s, const uint8_t *p, size_t len)
{
	struct tlv app, seq, el;
	const uint8_t *q, *end;

	if (!get_tlv(s, p, len, &app) || !is_tag(&app, CLASS_APPLICATION, TAG_AP_REQ) ||
	    !app.constructed || !inner_sequence(s, &app, &seq))
		return true;
	end = seq.next;
	for (q = seq.c; q < end && get_tlv(s, q, (size_t)(end - q), &el); q = el.next)
		if (is_tag(&el, CLASS_CONTEXT, TAG_AUTHENTICATOR) && !find_ciphers(s, &el))
			return false;
	return true;
}

/* The next byte 0x6e or 0x7f at or after p, or NULL: libc's memchr runs
 * through the token many bytes at a time, a byte loop took 0.6 ns a byte. */
static const uint8_t *next_of(const uint8_t *p, const uint8_t *end, uint8_t byte)
{
	return p < end ? memchr(p, byte, (size_t)(end - p)) : NULL;
}

size_t apreq_find(const uint8_t *tok, size_t n, struct apreq_cipher *out, size_t max)
{
	struct scan s = { .out = out, .max = max };
	const uint8_t *end = tok + n, *p6e, *p7f, *c;

	s.work_left = n > (SIZE_MAX - WORK_BASE) / WORK_PER_BYTE ? SIZE_MAX
								  : WORK_BASE + WORK_PER_BYTE * n;
	/* [APPLICATION 14] constructed: 0x6e, or 0x7f and the high-tag form */
	p6e = next_of(tok, end, 0x6e);
	p7f = next_of(tok, end, 0x7f);
	while (p6e || p7f) {
		c = !p7f || (p6e && p6e < p7f) ? p6e : p7f;
		if (!try_ap_req(&s, c, (size_t)(end - c)))
			break;
		if (s.gave_up)
			return APREQ_TOO_COSTLY;
		if (c == p6e)
			p6e = next_of(c + 1, end, 0x6e);
		else
			p7f = next_of(c + 1, end, 0x7f);
	}
	return s.count;
}
