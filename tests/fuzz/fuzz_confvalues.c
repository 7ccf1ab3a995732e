/* fuzz_confvalues.c -- the values of idgate.conf that have parsers of
 * their own, as an administrator (or a package's conf.d file) writes
 * them: sizes, durations and numbers (units.c), rapid_fail,
 * trusted_proxies (netmatch.c), a proxy vdir's backend and strip_headers
 * (proxy_msg.c; read by the proxy module's init(), which fuzz_config does
 * not load).
 *
 * Input: a mode byte, then the value.  Properties: a number, size or
 * duration is accepted exactly when it is digits and a unit of the table,
 * and is then their product, without overflow (read again here with
 * strtoull); rapid_fail is COUNT/DURATION with 1-10000 and a positive
 * duration; an address list holds only ADDRESS or ADDRESS/DIGITS items
 * (up to 32 or 128), each of which contains its own address; a backend is
 * http://HOST[:PORT][/PATH] or unix:/PATH with a Host header of host
 * characters only and a port of 1-65535; strip_headers names tokens. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "netmatch.h"
#include "proxy_msg.h"
#include "units.h"
#include "wire.h"

/* digits then a suffix; the multiplier of the suffix in the table, or 0. */
static uint64_t reference(const char *s, const char *const *suffix, const uint64_t *mult,
			  size_t n, bool any_case, uint64_t *v)
{
	char *end;
	size_t d = strspn(s, "0123456789");

	if (d == 0)
		return 0;
	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (any_case ? strcasecmp(s + d, suffix[i]) == 0 : strcmp(s + d, suffix[i]) == 0)
			return mult[i];
	return 0;
}

static void units(const char *s)
{
	static const char *const sizes[] = { "", "b", "k", "kb", "m", "mb", "g", "gb" };
	static const uint64_t size_mult[] = { 1, 1, 1 << 10, 1 << 10, 1 << 20, 1 << 20, 1 << 30,
					      1 << 30 };
	static const char *const durs[] = { "", "ms", "s", "m", "h", "d" };
	static const uint64_t dur_mult[] = { 1000, 1, 1000, 60000, 3600000, 86400000 };
	const char *why;
	uint64_t got, v, m, want;

	m = reference(s, sizes, size_mult, 8, true, &v);
	if (parse_size(s, &got, &why) == 0)
		FZ_CHECK(m && !__builtin_mul_overflow(v, m, &want) && got == want);
	else
		FZ_CHECK(!m || __builtin_mul_overflow(v, m, &want));
	m = reference(s, durs, dur_mult, 6, false, &v);
	if (parse_duration_ms(s, &got, &why) == 0)
		FZ_CHECK(m && !__builtin_mul_overflow(v, m, &want) && got == want);
	else
		FZ_CHECK(!m || __builtin_mul_overflow(v, m, &want));
	static const char *const none[] = { "" };
	static const uint64_t one[] = { 1 };
	m = reference(s, none, one, 1, false, &v);
	if (parse_uint(s, 65535, &got, &why) == 0)
		FZ_CHECK(m && v <= 65535 && got == v);
	else
		FZ_CHECK(!m || v > 65535);
}

static void rapid_fail(const char *s)
{
	unsigned count;
	uint64_t window;
	const char *why;

	if (parse_rapid_fail(s, &count, &window, &why) < 0)
		return;
	FZ_CHECK(count >= 1 && count <= 10000 && window > 0);
	FZ_CHECK(strspn(s, "0123456789") >= 1 && s[strspn(s, "0123456789")] == '/');
}

/* Each item of an accepted list: an address, perhaps /DIGITS. */
static void check_item(const char *item, const struct net *n)
{
	char addr[64];
	const char *slash = strchr(item, '/');
	size_t len = slash ? (size_t)(slash - item) : strlen(item);
	unsigned char buf[16];
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} u;
	struct netlist one = { (struct net *)n, 1 };

	FZ_CHECK(len < sizeof(addr));
	memcpy(addr, item, len);
	addr[len] = '\0';
	FZ_CHECK(inet_pton(n->family, addr, buf) == 1);
	if (slash)
		FZ_CHECK(slash[1] && strspn(slash + 1, "0123456789") == strlen(slash + 1));
	FZ_CHECK(n->bits <= (n->family == AF_INET ? 32u : 128u));
	memset(&u, 0, sizeof(u));
	if (n->family == AF_INET) {
		u.in.sin_family = AF_INET;
		memcpy(&u.in.sin_addr, buf, 4);
	} else {
		u.in6.sin6_family = AF_INET6;
		memcpy(&u.in6.sin6_addr, buf, 16);
		if (IN6_IS_ADDR_V4MAPPED(&u.in6.sin6_addr))
			return; /* compared as the IPv4 address it maps */
	}
	FZ_CHECK(netlist_has(&one, &u.sa));
}

static void addresses(const char *s)
{
	struct netlist l;
	const char *why;
	char item[128], *copy, *save = NULL;
	size_t i = 0;

	if (netlist_parse(s, &l, &why, item, sizeof(item)) < 0)
		return;
	copy = strdup(s);
	for (char *t = strtok_r(copy, " \t,", &save); t; t = strtok_r(NULL, " \t,", &save)) {
		FZ_CHECK(i < l.n);
		check_item(t, &l.v[i++]);
	}
	FZ_CHECK(i == l.n);
	free(copy);
	netlist_free(&l);
}

static void backend(const char *s)
{
	struct proxy_backend b;
	char err[256];

	if (proxy_backend_parse(s, &b, err, sizeof(err)) < 0) {
		FZ_CHECK(err[0]);
		return;
	}
	FZ_CHECK(b.hostport[0] && strspn(b.hostport, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
						    "0123456789.-:[]") == strlen(b.hostport));
	if (b.kind == PROXY_UNIX) {
		FZ_CHECK(b.sockpath[0] == '/' && !b.prefix);
	} else {
		FZ_CHECK(b.host[0] && b.port[0] && strspn(b.port, "0123456789") == strlen(b.port));
		FZ_CHECK(atoi(b.port) >= 1 && atoi(b.port) <= 65535);
		FZ_CHECK(!b.prefix || b.prefix[0] == '/');
		for (const char *p = b.prefix; p && *p; p++)
			FZ_CHECK(*p > 0x20 && *p < 0x7f && *p != '?' && *p != '#');
	}
	proxy_backend_free(&b);
}

static void strip(const char *s)
{
	struct proxy_strip st;
	char err[256];

	if (proxy_strip_parse(s, &st, err, sizeof(err)) < 0)
		return;
	for (size_t i = 0; i < st.n; i++)
		FZ_CHECK(http_token_ok(st.names[i]));
	proxy_strip_free(&st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz z = fz_init(data, size);
	uint8_t mode = fz_u8(&z);
	char *s = fz_rest(&z, NULL);

	switch (mode % 5) {
	case 0:
		units(s);
		break;
	case 1:
		rapid_fail(s);
		break;
	case 2:
		addresses(s);
		break;
	case 3:
		backend(s);
		break;
	default:
		strip(s);
		break;
	}
	free(s);
	return 0;
}
