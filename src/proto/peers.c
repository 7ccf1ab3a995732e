/* peers.c -- see peers.h. */
#include "peers.h"

#include <stdio.h>

#include "wire.h"

bool peer_accepts(const struct peer_table *t, uint16_t type)
{
	for (size_t i = 0; i < t->ntypes; i++)
		if (t->types[i] == type)
			return true;
	return false;
}

static const char *known_name(uint16_t type)
{
	switch (type) {
	case W_REQ_HEAD: return "REQ_HEAD";
	case W_REQ_BODY: return "REQ_BODY";
	case W_REQ_END: return "REQ_END";
	case W_REQ_ABORT: return "REQ_ABORT";
	case W_RESP_HEAD: return "RESP_HEAD";
	case W_RESP_BODY: return "RESP_BODY";
	case W_RESP_END: return "RESP_END";
	case W_CTL_READY: return "CTL_READY";
	case W_CTL_CHANNELS: return "CTL_CHANNELS";
	case W_CTL_AUTHSOCK: return "CTL_AUTHSOCK";
	case W_CTL_POOL_STATE: return "CTL_POOL_STATE";
	case W_CTL_POOL_RETIRE: return "CTL_POOL_RETIRE";
	case W_CTL_STATS_QUERY: return "CTL_STATS_QUERY";
	case W_CTL_STATS: return "CTL_STATS";
	case W_CTL_LOGS: return "CTL_LOGS";
	case W_AUTH_ACCT: return "AUTH_ACCT";
	case W_AUTH_PASS: return "AUTH_PASS";
	case W_AUTH_RESULT: return "AUTH_RESULT";
	case W_SPAWN: return "SPAWN";
	case W_SPAWN_STARTED: return "SPAWN_STARTED";
	case W_SPAWN_FAILED: return "SPAWN_FAILED";
	case W_SPAWN_EXITED: return "SPAWN_EXITED";
	case W_SPAWN_KILL: return "SPAWN_KILL";
	case W_ADM_STATUS: return "ADM_STATUS";
	case W_ADM_POOL: return "ADM_POOL";
	case W_ADM_RELOAD: return "ADM_RELOAD";
	case W_ADM_CHECK: return "ADM_CHECK";
	case W_ADM_REOPEN: return "ADM_REOPEN";
	case W_ADM_OK: return "ADM_OK";
	case W_ADM_ERROR: return "ADM_ERROR";
	case W_ADM_STATUS_REPLY: return "ADM_STATUS_REPLY";
	case W_CHK_BEGIN: return "CHK_BEGIN";
	case W_CHK_ERROR: return "CHK_ERROR";
	case W_CHK_DONE: return "CHK_DONE";
	case W_CHK_FAILED: return "CHK_FAILED";
	case W_AUTHN_REQ: return "AUTHN_REQ";
	case W_AUTHN_REPLY: return "AUTHN_REPLY";
	case W_AUTHN_CONN_END: return "AUTHN_CONN_END";
	case W_CTL_PAMSOCK: return "CTL_PAMSOCK";
	case W_CTL_KEYTAB: return "CTL_KEYTAB";
	}
	return "unknown";
}

const char *peer_type_name(uint16_t type, char *buf, size_t len)
{
	snprintf(buf, len, "%s (%u)", known_name(type), (unsigned)type);
	return buf;
}
