/* peers.h -- which messages a process accepts from each of its peers.
 *
 * Each process folder declares one table per peer (the types that peer
 * may send it) and checks every frame against it in one place, where the
 * frame arrives, before anything decodes it: a type not in the table is
 * logged and the peer dropped (each process says what dropping means for
 * it: a child killed, a channel closed, the process exiting).  */
#ifndef IDGATE_PEERS_H
#define IDGATE_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct peer_table {
	const char *peer;        /* "front end", for the log */
	const uint16_t *types;
	size_t ntypes;
};

#define PEER_TABLE(name, arr) { (name), (arr), sizeof(arr) / sizeof((arr)[0]) }

bool peer_accepts(const struct peer_table *t, uint16_t type);
/* "CTL_STATS (38)": a message type as the log names it. */
const char *peer_type_name(uint16_t type, char *buf, size_t len);

#endif
