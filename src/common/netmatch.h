/* netmatch.h -- lists of addresses and networks ("10.0.0.0/8 ::1"), for
 * the clients whose word idgated takes ([server] trusted_proxies). */
#ifndef IDGATE_NETMATCH_H
#define IDGATE_NETMATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct net {
	int family;          /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	unsigned bits;       /* prefix length */
};

struct netlist {
	struct net *v;
	size_t n;
};

/* Parse "ADDR[/BITS] ..." (blanks or commas between).  0, or -1 with
 * *why naming the item at fault (static text: "not an address", ...). */
int netlist_parse(const char *text, struct netlist *out, const char **why, char *item,
		  size_t itemlen);
void netlist_free(struct netlist *l);

/* Is the peer in the list?  An IPv4-mapped IPv6 peer (::ffff:a.b.c.d)
 * counts as its IPv4 address. */
bool netlist_has(const struct netlist *l, const struct sockaddr *sa);

#endif
