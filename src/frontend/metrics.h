/* metrics.h -- the front end's counters, and their Prometheus text form.
 *
 * Each event loop counts into its own block (summed when scraped), with
 * relaxed atomic adds on cache lines no other thread writes: no lock, no
 * contention on the request path.  Labels come from a small fixed set or
 * from the configuration (vdir paths, pool names), never from a request:
 * no principal, user name or raw reason ever becomes a label, because the
 * admin listener has no authentication.
 *
 * Counters live as long as the front end: a reload starts a new front end,
 * and they restart from zero (idgate_frontend_start_time_seconds says when;
 * Prometheus' rate() handles such resets). */
#ifndef IDGATE_METRICS_H
#define IDGATE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "authnmsg.h" /* enum m_auth, enum m_basic: the authenticator says them */

struct config;
struct sbuf;

/* Why a request that was authenticated was not impersonated as asked. */
enum m_refusal {
	M_REFUSE_NONE = 0,
	M_REFUSE_LEVEL,         /* impersonate = true, the client allowed less */
	M_REFUSE_NO_ACCOUNT,    /* no local account to impersonate */
	M_REFUSE_MIN_UID,       /* account or group below min_uid */
	M_REFUSE_COUNT
};

enum m_ran { M_RAN_NOT = 0, M_RAN_AS_POOL, M_RAN_AS_CALLER };

/* One finished request. */
struct m_request {
	int vdir;               /* config index, -1: none matched */
	int status;
	uint64_t duration_us;
	enum m_auth auth;
	enum m_refusal refusal;
	enum m_ran ran;         /* handed to a worker, and as whom */
};

/* Gauges read at scrape time. */
struct m_live {
	size_t in_flight;
	/* busy channels and queued requests of a pool, or NULL */
	void (*pool_load)(unsigned pool, uint32_t *busy, uint32_t *queued);
};

void metrics_init(const struct config *c, unsigned nloops);
/* The calling thread counts into loop i's block (others share a spare). */
void metrics_bind_loop(unsigned i);
void metrics_count(const struct m_request *m);
/* One event of Basic's brake, counted by the calling loop. */
void metrics_count_basic(enum m_basic what);
/* From the supervisor (W_CTL_POOL_STATE). */
void metrics_pool_state(unsigned pool, uint32_t state, uint64_t restarts);
/* Every pool disabled by rapid_fail or stopped (idgatectl): 503 for all. */
bool metrics_every_pool_off(void);
/* Requests answered for vdirs of the pool. */
uint64_t metrics_pool_requests(unsigned pool);
/* The exposition text (text/plain; version=0.0.4). */
void metrics_render(struct sbuf *out, const struct m_live *live);

const char *metrics_auth_label(enum m_auth a);

#endif
