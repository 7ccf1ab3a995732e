/* test_proxyproto.c -- the PROXY protocol v2 reader (proxyproto.c): every
 * truncation of valid headers asks for exactly the bytes missing, every
 * malformed one is refused with its reason, and what a valid one says
 * (addresses, ports, LOCAL, the SSL TLV) is read back exactly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "proxyproto.h"

static const uint8_t sig[12] = { 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
				 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A };

struct hdr {
	uint8_t b[4096];
	size_t n;
};

/* A header's fixed part; its length field is set by finish(). */
static void start(struct hdr *h, uint8_t ver_cmd, uint8_t fam)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->b, sig, 12);
	h->b[12] = ver_cmd;
	h->b[13] = fam;
	h->n = 16;
}

static void put(struct hdr *h, const void *p, size_t n)
{
	memcpy(h->b + h->n, p, n);
	h->n += n;
}

static void put_tlv(struct hdr *h, uint8_t type, const void *v, size_t n)
{
	uint8_t t[3] = { type, (uint8_t)(n >> 8), (uint8_t)n };

	put(h, t, 3);
	put(h, v, n);
}

static void finish(struct hdr *h)
{
	h->b[14] = (uint8_t)((h->n - 16) >> 8);
	h->b[15] = (uint8_t)(h->n - 16);
}

/* 203.0.113.7:40000 -> 192.0.2.1:443 */
static void tcp4(struct hdr *h, uint8_t ver_cmd)
{
	static const uint8_t a[12] = { 203, 0, 113, 7, 192, 0, 2, 1, 0x9c, 0x40, 0x01, 0xbb };

	start(h, ver_cmd, 0x11);
	put(h, a, sizeof(a));
}

static void ssl_tlv(struct hdr *h, uint8_t client, uint32_t verify, bool with_version)
{
	uint8_t v[64];
	size_t n = 0;

	v[n++] = client;
	v[n++] = (uint8_t)(verify >> 24);
	v[n++] = (uint8_t)(verify >> 16);
	v[n++] = (uint8_t)(verify >> 8);
	v[n++] = (uint8_t)verify;
	if (with_version) {
		v[n++] = PP2_SUBTYPE_SSL_VERSION;
		v[n++] = 0;
		v[n++] = 7;
		memcpy(v + n, "TLSv1.3", 7);
		n += 7;
	}
	put_tlv(h, PP2_TYPE_SSL, v, n);
}

static const char *src_text(const struct pp2_info *in, char *buf, size_t len)
{
	const void *a = in->src.ss_family == AF_INET
				? (const void *)&((const struct sockaddr_in *)&in->src)->sin_addr
				: (const void *)&((const struct sockaddr_in6 *)&in->src)->sin6_addr;

	return inet_ntop(in->src.ss_family, a, buf, (socklen_t)len);
}

/* Every prefix of a valid header asks for more, and for the right count:
 * 16 until the fixed part is in, then the whole header. */
static void assert_truncations(const struct hdr *h)
{
	struct pp2_info in;

	for (size_t k = 0; k < h->n; k++) {
		enum pp2_status st = pp2_parse(h->b, k, &in);
		if (st != PP2_MORE)
			fail_msg("prefix of %zu bytes of %zu: status %d (%s)", k, h->n, st,
				 in.why ? in.why : "");
		assert_int_equal(in.need, k < 16 ? 16 : h->n);
	}
	assert_int_equal(pp2_parse(h->b, h->n, &in), PP2_DONE);
	assert_int_equal(in.len, h->n);
}

static void assert_bad(const struct hdr *h, const char *why)
{
	struct pp2_info in;

	assert_int_equal(pp2_parse(h->b, h->n, &in), PP2_BAD);
	assert_non_null(in.why);
	assert_string_equal(in.why, why);
	assert_false(in.has_addr);
	assert_false(in.ssl);
}

static void test_inet(void **state)
{
	struct hdr h;
	struct pp2_info in;
	char buf[64];
	const struct sockaddr_in *s = (const struct sockaddr_in *)&in.src;
	const struct sockaddr_in *d = (const struct sockaddr_in *)&in.dst;

	(void)state;
	tcp4(&h, 0x21);
	finish(&h);
	assert_truncations(&h);
	assert_int_equal(pp2_parse(h.b, h.n, &in), PP2_DONE);
	assert_int_equal(in.len, 28);
	assert_true(in.has_addr);
	assert_false(in.local);
	assert_false(in.ssl);
	assert_int_equal(in.addrlen, sizeof(struct sockaddr_in));
	assert_string_equal(src_text(&in, buf, sizeof(buf)), "203.0.113.7");
	assert_int_equal(ntohs(s->sin_port), 40000);
	assert_int_equal(ntohs(d->sin_port), 443);
	/* the bytes after the header (the request) are not the header's */
	memcpy(h.b + h.n, "GET / HTTP/1.1\r\n", 16);
	assert_int_equal(pp2_parse(h.b, h.n + 16, &in), PP2_DONE);
	assert_int_equal(in.len, 28);
}

static void test_inet6(void **state)
{
	struct hdr h;
	struct pp2_info in;
	uint8_t a[36] = { 0 };
	char buf[64];

	(void)state;
	inet_pton(AF_INET6, "2001:db8::5", a);
	inet_pton(AF_INET6, "2001:db8::1", a + 16);
	a[32] = 0x30; /* port 12345 */
	a[33] = 0x39;
	a[35] = 80;
	start(&h, 0x21, 0x21);
	put(&h, a, sizeof(a));
	finish(&h);
	assert_truncations(&h);
	assert_int_equal(pp2_parse(h.b, h.n, &in), PP2_DONE);
	assert_true(in.has_addr);
	assert_int_equal(in.src.ss_family, AF_INET6);
	assert_int_equal(in.addrlen, sizeof(struct sockaddr_in6));
	assert_string_equal(src_text(&in, buf, sizeof(buf)), "2001:db8::5");
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&in.src)->sin6_port), 12345);
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&in.dst)->sin6_port), 80);
}

/* AF_UNIX and AF_UNSPEC name no client a TCP listener can use: valid,
 * without an address (the sender's own is used). */
static void test_unix_unspec(void **state)
{
	struct hdr h;
	struct pp2_info in;
	uint8_t paths[216] = { 0 };

	(void)state;
	memcpy(paths, "/run/haproxy/client", 19);
	start(&h, 0x21, 0x31);
	put(&h, paths, sizeof(paths));
	ssl_tlv(&h, PP2_CLIENT_SSL, 0, false);
	finish(&h);
	assert_truncations(&h);
	assert_int_equal(pp2_parse(h.b, h.n, &in), PP2_DONE);
	assert_false(in.has_addr);
	assert_true(in.ssl);
	h.n = 16 + 215; /* one byte short of the paths */
	finish(&h);
	assert_bad(&h, "AF_UNIX address block shorter than 216 bytes");

	start(&h, 0x21, 0x00);
	put(&h, "anything at all", 15); /* discarded whole, TLV or not */
	finish(&h);
	assert_int_equal(pp2_parse(h.b, h.n, &in), PP2_DONE);
	assert_int_equal(in.len, 31);
	assert_false(in.has_addr);
	assert_false(in.ssl);
}

/* LOCAL: the sender's own connection (HAProxy's health checks): valid,
 * whatever the block holds, and nothing in it is read. */
static void test_local(void **state)
{
	struct hdr h;
	struct pp2_info in;

	(void)state;
	start(&h, 0x20, 0x00);
	finish(&h);
	assert_truncations(&h);
	assert_int_equal(pp2_parse(h.b, h.n, &in), PP2_DONE);
	assert_true(in.local);
	assert_false(in.has_addr);
	assert_int_equal(in.len, 16);
	tcp4(&h, 0x20);
	ssl_tlv(&h, PP2_CLIENT_SSL, 0, false);
	finish(&h);
	assert_int_equal(pp2_parse(h.b, h.n, &in), PP2_DONE);
	assert_true(in.local);
	assert_false(in.has_addr);
	assert_false(in.ssl);
	start(&h, 0x20, 0x41);
	finish(&h);
	assert_bad(&h, "unknown address family and transport byte");
}

static void test_signature_version_command(void **state)
{
	struct hdr h;
	struct pp2_info in;

	(void)state;
	/* a wrong byte anywhere in the signature is seen as soon as it comes */
	for (size_t i = 0; i < 12; i++) {
		tcp4(&h, 0x21);
		finish(&h);
		h.b[i] ^= 0x20;
		for (size_t k = i + 1; k <= h.n; k++) {
			assert_int_equal(pp2_parse(h.b, k, &in), PP2_BAD);
			assert_string_equal(in.why, "no PROXY protocol v2 signature");
		}
	}
	memcpy(h.b, "PROXY TCP4 203.0.113.7 192.0.2.1 40000 443\r\n", 44);
	h.n = 44;
	assert_bad(&h, "PROXY protocol version 1 (text): only version 2 is read");
	memcpy(h.b, "GET / HTTP/1.1\r\n", 16);
	h.n = 16;
	assert_bad(&h, "no PROXY protocol v2 signature");
	memcpy(h.b, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x00", 12); /* a ClientHello */
	h.n = 12;
	assert_bad(&h, "no PROXY protocol v2 signature");

	const uint8_t versions[] = { 0x01, 0x11, 0x31, 0xf1, 0x00 };
	for (size_t i = 0; i < sizeof(versions); i++) {
		tcp4(&h, versions[i]);
		finish(&h);
		assert_bad(&h, "PROXY protocol version other than 2");
	}
	for (uint8_t cmd = 2; cmd < 16; cmd++) {
		tcp4(&h, (uint8_t)(0x20 | cmd));
		finish(&h);
		assert_bad(&h, "PROXY protocol command other than LOCAL or PROXY");
	}
}

static void test_families(void **state)
{
	struct hdr h;
	const uint8_t dgram[] = { 0x12, 0x22, 0x32 };
	const uint8_t unknown[] = { 0x01, 0x10, 0x13, 0x23, 0x30, 0x33, 0x41, 0xff };

	(void)state;
	for (size_t i = 0; i < sizeof(dgram); i++) {
		start(&h, 0x21, dgram[i]);
		h.n += 216;
		finish(&h);
		assert_bad(&h, "a datagram transport: HTTP comes over a stream");
	}
	for (size_t i = 0; i < sizeof(unknown); i++) {
		start(&h, 0x21, unknown[i]);
		h.n += 216;
		finish(&h);
		assert_bad(&h, "unknown address family and transport byte");
	}
}

static void test_lengths(void **state)
{
	struct hdr h;
	struct pp2_info in;

	(void)state;
	tcp4(&h, 0x21);
	h.n = 16 + 11; /* the length says 11: one byte short of two addresses and ports */
	finish(&h);
	assert_bad(&h, "AF_INET address block shorter than 12 bytes");
	start(&h, 0x21, 0x21);
	h.n += 35;
	finish(&h);
	assert_bad(&h, "AF_INET6 address block shorter than 36 bytes");
	/* the limit: 2048 bytes in all, asked for no further */
	tcp4(&h, 0x21);
	h.n = 2048;
	finish(&h);
	assert_int_equal(pp2_parse(h.b, 16, &in), PP2_MORE);
	assert_int_equal(in.need, 2048);
	h.b[2048] = 0;
	h.n = 2049;
	finish(&h);
	assert_int_equal(pp2_parse(h.b, 16, &in), PP2_BAD);
	assert_string_equal(in.why, "PROXY protocol header longer than 2048 bytes");
	h.b[14] = h.b[15] = 0xff;
	assert_int_equal(pp2_parse(h.b, 16, &in), PP2_BAD);
}

static void test_tlvs(void **state)
{
	struct hdr h;
	struct pp2_info in;
	uint8_t id[129];

	(void)state;
	/* SSL with the client bit and a version sub-TLV, among others */
	tcp4(&h, 0x21);
	put_tlv(&h, PP2_TYPE_ALPN, "http/1.1", 8);
	ssl_tlv(&h, PP2_CLIENT_SSL | 0x02, 0, true);
	put_tlv(&h, PP2_TYPE_NOOP, "", 0);
	put_tlv(&h, 0xe0, "custom", 6); /* unknown: ignored */
	finish(&h);
	assert_truncations(&h);
	assert_int_equal(pp2_parse(h.b, h.n, &in), PP2_DONE);
	assert_true(in.ssl);
	assert_true(in.has_addr);
	assert_int_equal(in.ssl_verify, 0);
	/* without the client bit: the client did not speak TLS */
	tcp4(&h, 0x21);
	ssl_tlv(&h, 0x00, 1, false);
	finish(&h);
	assert_int_equal(pp2_parse(h.b, h.n, &in), PP2_DONE);
	assert_false(in.ssl);
	assert_int_equal(in.ssl_verify, 1);
	/* no SSL TLV: no TLS */
	tcp4(&h, 0x21);
	put_tlv(&h, PP2_TYPE_AUTHORITY, "example.org", 11);
	finish(&h);
	assert_int_equal(pp2_parse(h.b, h.n, &in), PP2_DONE);
	assert_false(in.ssl);

	tcp4(&h, 0x21);
	ssl_tlv(&h, PP2_CLIENT_SSL, 0, false);
	ssl_tlv(&h, PP2_CLIENT_SSL, 0, false);
	finish(&h);
	assert_bad(&h, "PP2_TYPE_SSL twice");
	tcp4(&h, 0x21);
	put_tlv(&h, PP2_TYPE_SSL, "\x01\0\0\0", 4);
	finish(&h);
	assert_bad(&h, "PP2_TYPE_SSL shorter than its client and verify fields");
	tcp4(&h, 0x21);
	put_tlv(&h, PP2_TYPE_SSL, "\x01\0\0\0\0\x21\0", 7);
	finish(&h);
	assert_bad(&h, "PP2_TYPE_SSL: truncated sub-TLV");
	tcp4(&h, 0x21);
	put_tlv(&h, PP2_TYPE_SSL, "\x01\0\0\0\0\x21\0\x02x", 9);
	finish(&h);
	assert_bad(&h, "PP2_TYPE_SSL: sub-TLV longer than its TLV");
	/* TLVs that do not tile the header */
	for (size_t extra = 1; extra <= 2; extra++) {
		tcp4(&h, 0x21);
		put(&h, "\x04\x00", extra);
		finish(&h);
		assert_bad(&h, "truncated TLV");
	}
	tcp4(&h, 0x21);
	put(&h, "\x04\x00\x05" "abcd", 7);
	finish(&h);
	assert_bad(&h, "TLV longer than the header");
	memset(id, 'x', sizeof(id));
	tcp4(&h, 0x21);
	put_tlv(&h, PP2_TYPE_UNIQUE_ID, id, 128);
	finish(&h);
	assert_int_equal(pp2_parse(h.b, h.n, &in), PP2_DONE);
	tcp4(&h, 0x21);
	put_tlv(&h, PP2_TYPE_UNIQUE_ID, id, 129);
	finish(&h);
	assert_bad(&h, "PP2_TYPE_UNIQUE_ID longer than 128 bytes");
}

static void test_crc32c(void **state)
{
	struct hdr h;
	struct pp2_info in;
	uint32_t crc;
	size_t at;

	(void)state;
	/* RFC 3720 B.4: 32 bytes of zeros */
	memset(h.b, 0, 32);
	assert_int_equal(pp2_crc32c(h.b, 32), 0x8a9136aa);
	assert_int_equal(pp2_crc32c((const uint8_t *)"123456789", 9), 0xe3069283);

	tcp4(&h, 0x21);
	ssl_tlv(&h, PP2_CLIENT_SSL, 0, false);
	at = h.n + 3;
	put_tlv(&h, PP2_TYPE_CRC32C, "\0\0\0\0", 4);
	finish(&h);
	crc = pp2_crc32c(h.b, h.n);
	h.b[at] = (uint8_t)(crc >> 24);
	h.b[at + 1] = (uint8_t)(crc >> 16);
	h.b[at + 2] = (uint8_t)(crc >> 8);
	h.b[at + 3] = (uint8_t)crc;
	assert_int_equal(pp2_parse(h.b, h.n, &in), PP2_DONE);
	assert_true(in.ssl);
	h.b[16] ^= 1; /* another client address: the sum no longer matches */
	assert_bad(&h, "PP2_TYPE_CRC32C does not match the header");
	h.b[16] ^= 1;
	h.b[at + 3] ^= 1;
	assert_bad(&h, "PP2_TYPE_CRC32C does not match the header");
	tcp4(&h, 0x21);
	put_tlv(&h, PP2_TYPE_CRC32C, "\0\0\0", 3);
	finish(&h);
	assert_bad(&h, "PP2_TYPE_CRC32C not of 4 bytes");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inet),
		cmocka_unit_test(test_inet6),
		cmocka_unit_test(test_unix_unspec),
		cmocka_unit_test(test_local),
		cmocka_unit_test(test_signature_version_command),
		cmocka_unit_test(test_families),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_tlvs),
		cmocka_unit_test(test_crc32c),
	};
	return cmocka_run_group_tests_name("proxyproto", tests, NULL, NULL);
}
