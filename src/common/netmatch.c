/* netmatch.c -- address lists (see netmatch.h). */
#include "netmatch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static int parse_one(const char *item, struct net *n, const char **why)
{
	char addr[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(item, '/');
	size_t len = slash ? (size_t)(slash - item) : strlen(item);
	unsigned max;

	if (len >= sizeof(addr)) {
		*why = "not an address";
		return -1;
	}
	memcpy(addr, item, len);
	addr[len] = '\0';
	memset(n, 0, sizeof(*n));
	if (inet_pton(AF_INET, addr, n->addr) == 1) {
		n->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, n->addr) == 1) {
		n->family = AF_INET6;
		max = 128;
	} else {
		*why = "not an IPv4 or IPv6 address";
		return -1;
	}
	n->bits = max;
	if (slash) {
		/* digits only: strtoul takes a sign, and "/-0" would be 0 bits,
		 * every address */
		size_t digits = strspn(slash + 1, "0123456789");
		unsigned long b = digits ? strtoul(slash + 1, NULL, 10) : 0;
		if (!digits || slash[1 + digits] || b > max) {
			*why = "the prefix length is not a number up to 32 (IPv4) or 128 (IPv6)";
			return -1;
		}
		n->bits = (unsigned)b;
	}
	return 0;
}

int netlist_parse(const char *text, struct netlist *out, const char **why, char *item,
		  size_t itemlen)
{
	char *copy = xstrdup(text), *save = NULL;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	for (char *t = strtok_r(copy, " \t,", &save); t && rc == 0; t = strtok_r(NULL, " \t,", &save)) {
		struct net n;
		if (parse_one(t, &n, why) < 0) {
			snprintf(item, itemlen, "%s", t);
			rc = -1;
			break;
		}
		out->v = xreallocarray(out->v, out->n + 1, sizeof(*out->v));
		out->v[out->n++] = n;
	}
	free(copy);
	if (rc < 0)
		netlist_free(out);
	return rc;
}

void netlist_free(struct netlist *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;

	if (memcmp(a, b, whole) != 0)
		return false;
	return rest == 0 || ((a[whole] ^ b[whole]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

bool netlist_has(const struct netlist *l, const struct sockaddr *sa)
{
	uint8_t a[16];
	int family = sa->sa_family;

	if (family == AF_INET) {
		memcpy(a, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (family == AF_INET6) {
		const struct in6_addr *x = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(x)) {
			family = AF_INET;
			memcpy(a, x->s6_addr + 12, 4);
		} else {
			memcpy(a, x->s6_addr, 16);
		}
	} else {
		return false;
	}
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].family == family && prefix_equal(l->v[i].addr, a, l->v[i].bits))
			return true;
	return false;
}
