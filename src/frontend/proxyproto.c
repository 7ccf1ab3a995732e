/* proxyproto.c -- see proxyproto.h.  Every length is checked against the
 * header's before a byte is read: the header is the network's. */
#include "proxyproto.h"

#include <netinet/in.h>
#include <string.h>

static const uint8_t signature[PP2_SIG_LEN] = { 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
						0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A };

#define FAM_UNSPEC 0x00
#define FAM_TCP4 0x11
#define FAM_UDP4 0x12
#define FAM_TCP6 0x21
#define FAM_UDP6 0x22
#define FAM_UNIX_STREAM 0x31
#define FAM_UNIX_DGRAM 0x32
#define INET_ADDR_LEN 12         /* two IPv4 addresses, two ports */
#define INET6_ADDR_LEN 36
#define UNIX_ADDR_LEN 216        /* two paths of 108 bytes */
#define UNIQUE_ID_MAX 128        /* section 2.2.5 */
#define SSL_FIXED_LEN 5          /* client, verify */

static uint32_t be16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t crc32c_update(uint32_t crc, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		crc ^= b[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
	}
	return crc;
}

uint32_t pp2_crc32c(const uint8_t *b, size_t n)
{
	return ~crc32c_update(~0u, b, n);
}

static enum pp2_status bad(struct pp2_info *info, const char *why)
{
	info->why = why;
	return PP2_BAD;
}

/* The checksum covers the whole header with its own four bytes as zeros. */
static bool crc_matches(const uint8_t *b, size_t len, size_t at)
{
	static const uint8_t zeros[4];
	uint32_t crc = crc32c_update(~0u, b, at);

	crc = crc32c_update(crc, zeros, 4);
	crc = ~crc32c_update(crc, b + at + 4, len - at - 4);
	return crc == be32(b + at);
}

/* PP2_TYPE_SSL's value: client bits, verify, then sub-TLVs that must tile
 * the rest exactly. */
static enum pp2_status read_ssl(const uint8_t *v, size_t n, struct pp2_info *info)
{
	size_t off = SSL_FIXED_LEN;

	if (n < SSL_FIXED_LEN)
		return bad(info, "PP2_TYPE_SSL shorter than its client and verify fields");
	while (off < n) {
		if (n - off < 3)
			return bad(info, "PP2_TYPE_SSL: truncated sub-TLV");
		if (be16(v + off + 1) > n - off - 3)
			return bad(info, "PP2_TYPE_SSL: sub-TLV longer than its TLV");
		off += 3 + be16(v + off + 1);
	}
	info->ssl = (v[0] & PP2_CLIENT_SSL) != 0;
	info->ssl_verify = be32(v + 1);
	return PP2_DONE;
}

/* The TLVs from `off` to the header's end tile it exactly. */
static enum pp2_status read_tlvs(const uint8_t *b, size_t off, size_t len, struct pp2_info *info)
{
	bool seen_ssl = false, seen_crc = false;

	while (off < len) {
		uint8_t type;
		size_t vlen;

		if (len - off < 3)
			return bad(info, "truncated TLV");
		type = b[off];
		vlen = be16(b + off + 1);
		if (vlen > len - off - 3)
			return bad(info, "TLV longer than the header");
		if (type == PP2_TYPE_SSL) {
			if (seen_ssl)
				return bad(info, "PP2_TYPE_SSL twice");
			seen_ssl = true;
			if (read_ssl(b + off + 3, vlen, info) == PP2_BAD)
				return PP2_BAD;
		} else if (type == PP2_TYPE_CRC32C) {
			if (seen_crc || vlen != 4)
				return bad(info, seen_crc ? "PP2_TYPE_CRC32C twice"
							  : "PP2_TYPE_CRC32C not of 4 bytes");
			seen_crc = true;
			if (!crc_matches(b, len, off + 3))
				return bad(info, "PP2_TYPE_CRC32C does not match the header");
		} else if (type == PP2_TYPE_UNIQUE_ID && vlen > UNIQUE_ID_MAX) {
			return bad(info, "PP2_TYPE_UNIQUE_ID longer than 128 bytes");
		}
		/* other types, known or not, are ignored (section 2.2.7) */
		off += 3 + vlen;
	}
	return PP2_DONE;
}

static void take_inet(const uint8_t *a, struct pp2_info *info)
{
	struct sockaddr_in *s = (struct sockaddr_in *)&info->src;
	struct sockaddr_in *d = (struct sockaddr_in *)&info->dst;

	s->sin_family = d->sin_family = AF_INET;
	memcpy(&s->sin_addr, a, 4);
	memcpy(&d->sin_addr, a + 4, 4);
	memcpy(&s->sin_port, a + 8, 2); /* both in network order */
	memcpy(&d->sin_port, a + 10, 2);
	info->addrlen = sizeof(*s);
	info->has_addr = true;
}

static void take_inet6(const uint8_t *a, struct pp2_info *info)
{
	struct sockaddr_in6 *s = (struct sockaddr_in6 *)&info->src;
	struct sockaddr_in6 *d = (struct sockaddr_in6 *)&info->dst;

	s->sin6_family = d->sin6_family = AF_INET6;
	memcpy(&s->sin6_addr, a, 16);
	memcpy(&d->sin6_addr, a + 16, 16);
	memcpy(&s->sin6_port, a + 32, 2);
	memcpy(&d->sin6_port, a + 34, 2);
	info->addrlen = sizeof(*s);
	info->has_addr = true;
}

/* A PROXY command's address block, then its TLVs.  An AF_UNSPEC block is
 * discarded whole (section 2.2: the receiver uses the real endpoints); an
 * AF_UNIX one names no address a TCP listener can use (the same). */
static enum pp2_status read_proxy(const uint8_t *b, size_t len, struct pp2_info *info)
{
	size_t alen = len - PP2_FIXED_LEN;

	switch (b[13]) {
	case FAM_UNSPEC:
		return PP2_DONE;
	case FAM_TCP4:
		if (alen < INET_ADDR_LEN)
			return bad(info, "AF_INET address block shorter than 12 bytes");
		take_inet(b + PP2_FIXED_LEN, info);
		return read_tlvs(b, PP2_FIXED_LEN + INET_ADDR_LEN, len, info);
	case FAM_TCP6:
		if (alen < INET6_ADDR_LEN)
			return bad(info, "AF_INET6 address block shorter than 36 bytes");
		take_inet6(b + PP2_FIXED_LEN, info);
		return read_tlvs(b, PP2_FIXED_LEN + INET6_ADDR_LEN, len, info);
	case FAM_UNIX_STREAM:
		if (alen < UNIX_ADDR_LEN)
			return bad(info, "AF_UNIX address block shorter than 216 bytes");
		return read_tlvs(b, PP2_FIXED_LEN + UNIX_ADDR_LEN, len, info);
	case FAM_UDP4:
	case FAM_UDP6:
	case FAM_UNIX_DGRAM:
		return bad(info, "a datagram transport: HTTP comes over a stream");
	default:
		return bad(info, "unknown address family and transport byte");
	}
}

/* The first 16 bytes: signature, version and command, family, length. */
static enum pp2_status read_fixed(const uint8_t *b, size_t n, struct pp2_info *info)
{
	size_t cmp = n < PP2_SIG_LEN ? n : PP2_SIG_LEN;

	if (memcmp(b, signature, cmp) != 0)
		return bad(info, n >= 5 && memcmp(b, "PROXY", 5) == 0
					 ? "PROXY protocol version 1 (text): only version 2 is read"
					 : "no PROXY protocol v2 signature");
	if (n < PP2_FIXED_LEN) {
		info->need = PP2_FIXED_LEN;
		return PP2_MORE;
	}
	if (b[12] >> 4 != 2)
		return bad(info, "PROXY protocol version other than 2");
	if ((b[12] & 0x0f) > 1)
		return bad(info, "PROXY protocol command other than LOCAL or PROXY");
	info->need = PP2_FIXED_LEN + be16(b + 14);
	if (info->need > PP2_MAX_LEN)
		return bad(info, "PROXY protocol header longer than 2048 bytes");
	return PP2_MORE;
}

enum pp2_status pp2_parse(const uint8_t *b, size_t n, struct pp2_info *info)
{
	enum pp2_status st;

	memset(info, 0, sizeof(*info));
	st = read_fixed(b, n, info);
	if (st != PP2_MORE || n < info->need)
		return st;
	info->len = info->need;
	info->need = 0;
	if ((b[12] & 0x0f) == 0) { /* LOCAL: the sender's own connection, block ignored */
		if (b[13] != FAM_UNSPEC && b[13] != FAM_TCP4 && b[13] != FAM_TCP6 &&
		    b[13] != FAM_UNIX_STREAM && b[13] != FAM_UDP4 && b[13] != FAM_UDP6 &&
		    b[13] != FAM_UNIX_DGRAM)
			return bad(info, "unknown address family and transport byte");
		info->local = true;
		return PP2_DONE;
	}
	st = read_proxy(b, info->len, info);
	if (st == PP2_BAD) {
		info->has_addr = info->ssl = false;
		info->len = 0;
	}
	return st;
}
