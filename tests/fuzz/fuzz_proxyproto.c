/* fuzz_proxyproto.c -- the PROXY protocol v2 header (proxyproto.c) that a
 * `proxy` listener reads before HTTP or TLS (HAProxy; anyone who can
 * connect, before the sender is known to be trusted by the caller).
 *
 * Input: the bytes a peer sent.  Properties: the header is read the way
 * the front end reads it, the bytes arriving in pieces: every prefix asks
 * for more (never for fewer bytes than it has, never beyond 2048), or is
 * refused, and a refusal stands whatever follows; what comes after the
 * length asked for never changes the answer.  An accepted header is
 * exactly `16 + its length field` bytes with the signature, version 2 and
 * a LOCAL or PROXY command; an address is named only for a PROXY command
 * over TCP4 or TCP6 and is, byte for byte, the block's source; the
 * client spoke TLS only if a top-level PP2_TYPE_SSL TLV, re-read here
 * independently, has the client bit. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "proxyproto.h"

#define PREFIXES_MAX 256

static const uint8_t sig[PP2_SIG_LEN] = { 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
					  0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A };

static size_t be16(const uint8_t *p)
{
	return (size_t)p[0] << 8 | p[1];
}

/* The reference: walk the TLVs from `off` and say whether one of type SSL
 * carries the client bit (the parser checked that they tile the header). */
static bool ref_ssl(const uint8_t *b, size_t off, size_t len)
{
	bool ssl = false;

	while (off + 3 <= len) {
		size_t vlen = be16(b + off + 1);
		FZ_CHECK(off + 3 + vlen <= len);
		if (b[off] == PP2_TYPE_SSL && vlen >= 5)
			ssl = (b[off + 3] & PP2_CLIENT_SSL) != 0;
		off += 3 + vlen;
	}
	FZ_CHECK(off == len);
	return ssl;
}

static void check_done(const uint8_t *b, size_t n, const struct pp2_info *in)
{
	uint8_t cmd = b[12] & 0x0f, fam = b[13];

	FZ_CHECK(in->len >= PP2_FIXED_LEN && in->len <= n && in->len <= PP2_MAX_LEN);
	FZ_CHECK(memcmp(b, sig, PP2_SIG_LEN) == 0);
	FZ_CHECK(b[12] >> 4 == 2 && cmd <= 1);
	FZ_CHECK(in->len == PP2_FIXED_LEN + be16(b + 14));
	FZ_CHECK(in->local == (cmd == 0));
	FZ_CHECK(in->has_addr == (cmd == 1 && (fam == 0x11 || fam == 0x21)));
	if (in->has_addr && fam == 0x11) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)&in->src;
		FZ_CHECK(s->sin_family == AF_INET && in->addrlen == sizeof(*s));
		FZ_CHECK(memcmp(&s->sin_addr, b + 16, 4) == 0);
		FZ_CHECK(memcmp(&s->sin_port, b + 24, 2) == 0);
		FZ_CHECK(in->ssl == ref_ssl(b, 28, in->len));
	} else if (in->has_addr) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)&in->src;
		FZ_CHECK(s->sin6_family == AF_INET6 && in->addrlen == sizeof(*s));
		FZ_CHECK(memcmp(&s->sin6_addr, b + 16, 16) == 0);
		FZ_CHECK(memcmp(&s->sin6_port, b + 48, 2) == 0);
		FZ_CHECK(in->ssl == ref_ssl(b, 52, in->len));
	} else if (cmd == 1 && fam == 0x31) {
		FZ_CHECK(in->ssl == ref_ssl(b, 16 + 216, in->len));
	} else {
		FZ_CHECK(!in->ssl); /* LOCAL, UNSPEC: the block is not read */
		FZ_CHECK(cmd == 0 || fam == 0x00);
	}
}

/* The same answer for b[0..k) as the front end would get reading on. */
static void check_prefixes(const uint8_t *b, size_t n, enum pp2_status whole,
			   const struct pp2_info *w)
{
	size_t last = n < PREFIXES_MAX ? n : PREFIXES_MAX;

	for (size_t k = 0; k < last; k++) {
		struct pp2_info in;
		enum pp2_status st = pp2_parse(b, k, &in);
		if (st == PP2_BAD) {
			FZ_CHECK(whole == PP2_BAD); /* bad stays bad */
			continue;
		}
		if (st == PP2_DONE) {
			FZ_CHECK(whole == PP2_DONE && in.len == w->len && in.ssl == w->ssl);
			continue;
		}
		FZ_CHECK(in.need > k && in.need <= PP2_MAX_LEN);
		FZ_CHECK(in.need == PP2_FIXED_LEN || k >= PP2_FIXED_LEN);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz z = fz_init(data, size);
	size_t n;
	uint8_t *b = fz_rest_exact(&z, &n);
	struct pp2_info in, again;
	enum pp2_status st = pp2_parse(b, n, &in);

	if (st == PP2_DONE) {
		check_done(b, n, &in);
		/* what follows the header is not read */
		FZ_CHECK(pp2_parse(b, in.len, &again) == PP2_DONE && again.len == in.len);
		FZ_CHECK(again.ssl == in.ssl && again.has_addr == in.has_addr);
	} else if (st == PP2_MORE) {
		FZ_CHECK(in.need > n && in.need <= PP2_MAX_LEN);
	} else {
		FZ_CHECK(st == PP2_BAD && in.why && in.why[0]);
		FZ_CHECK(!in.has_addr && !in.ssl);
	}
	check_prefixes(b, n, st, &in);
	free(b);
	return 0;
}
