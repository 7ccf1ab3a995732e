/* proxyproto.h -- HAProxy's PROXY protocol, version 2 (the binary one),
 * as a listener with the `proxy` flag reads it before HTTP or TLS
 * (https://www.haproxy.org/download/2.6/doc/proxy-protocol.txt, section 2.2).
 *
 * A pure function over the bytes received so far: it says how many bytes
 * the header needs in all (so that the caller reads exactly those and
 * leaves what follows -- the request, a ClientHello -- in the socket), or
 * what is wrong with it, or what it says.  Only the binary version 2 is
 * read: the text version 1 is refused (it is a line of text a client can
 * also send, and HAProxy sends v2 with send-proxy-v2).
 *
 * Everything here is the sender's word; the caller believes it only when
 * the sender is in [server] proxy_protocol_from. */
#ifndef IDGATE_PROXYPROTO_H
#define IDGATE_PROXYPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define PP2_SIG_LEN 12
#define PP2_FIXED_LEN 16         /* signature, version/command, family, length */
/* The largest header we read: addresses (216 bytes for AF_UNIX) and the
 * TLVs HAProxy sends (SSL with version, cipher, CN; ALPN; unique id).
 * The protocol allows 65535; anything above this is refused. */
#define PP2_MAX_LEN 2048

enum pp2_status {
	PP2_MORE = 0,            /* incomplete: read up to `need` bytes in all */
	PP2_DONE,                /* a valid header of `len` bytes */
	PP2_BAD,                 /* not a valid header: `why` says */
};

/* TLV types (section 2.2.7) */
#define PP2_TYPE_ALPN 0x01
#define PP2_TYPE_AUTHORITY 0x02
#define PP2_TYPE_CRC32C 0x03
#define PP2_TYPE_NOOP 0x04
#define PP2_TYPE_UNIQUE_ID 0x05
#define PP2_TYPE_SSL 0x20
#define PP2_SUBTYPE_SSL_VERSION 0x21
#define PP2_SUBTYPE_SSL_CN 0x22
#define PP2_SUBTYPE_SSL_CIPHER 0x23
#define PP2_SUBTYPE_SSL_SIG_ALG 0x24
#define PP2_SUBTYPE_SSL_KEY_ALG 0x25
#define PP2_TYPE_NETNS 0x30
#define PP2_CLIENT_SSL 0x01

struct pp2_info {
	size_t need;             /* PP2_MORE: bytes the header needs in all so far */
	size_t len;              /* PP2_DONE: the header's length */
	const char *why;         /* PP2_BAD: static text */
	/* PP2_DONE: */
	bool local;              /* LOCAL command: the connection is the sender's own */
	bool has_addr;           /* a TCP client over IPv4 or IPv6 is named in src */
	struct sockaddr_storage src, dst;
	socklen_t addrlen;       /* of src and dst */
	bool ssl;                /* a PP2_TYPE_SSL TLV with PP2_CLIENT_SSL: the client
	                            spoke TLS to the sender */
	uint32_t ssl_verify;     /* its verify field (0: a client certificate checked) */
};

/* Read the bytes b[0..n) received so far.  PP2_MORE with info->need > n
 * (the caller reads on, up to need and not beyond), PP2_DONE with
 * info->len <= n (the caller must have read exactly that), or PP2_BAD. */
enum pp2_status pp2_parse(const uint8_t *b, size_t n, struct pp2_info *info);

/* CRC-32C (Castagnoli), as PP2_TYPE_CRC32C carries it. */
uint32_t pp2_crc32c(const uint8_t *b, size_t n);

#endif
