/* metrics.c -- see metrics.h. */
#include "metrics.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "config.h"
#include "ctlproto.h"
#include "sbuf.h"
#include "util.h"

#define STATUS_MIN 100
#define STATUS_SLOTS 500   /* 100..599 */

typedef _Atomic uint64_t counter;

/* Upper bounds of the latency buckets, in microseconds and as written. */
static const uint64_t bucket_us[] = { 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000,
				      250000, 500000, 1000000, 2500000, 5000000, 10000000,
				      30000000, 60000000 };
static const char *const bucket_le[] = { "0.0005", "0.001", "0.0025", "0.005", "0.01",
					 "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5",
					 "5", "10", "30", "60" };
#define NBUCKETS (sizeof(bucket_us) / sizeof(bucket_us[0]))

static const char *const auth_labels[M_AUTH_COUNT] = {
	"", "ok", "no_credentials", "continue", "bad_token", "replay", "expired",
	"wrong_service", "scheme_not_offered", "bad_password", "pam_denied", "require_denied",
	"unavailable", "invalid_user_name", "throttled", "session",
};
static const char *const refusal_labels[M_REFUSE_COUNT] = {
	"", "level", "no_account", "below_min_uid",
};

/* One loop's counters.  The status table of a vdir is allocated when the
 * vdir answers its first request (most vdirs see a handful of codes, and
 * 500 slots for each of many loops and vdirs would add up). */
struct m_block {
	_Alignas(64) _Atomic(counter *) *status; /* [nvdirs + 1]: the last is "no vdir" */
	counter *pool_requests;     /* [npools] */
	counter *as_caller, *as_pool; /* [nvdirs] */
	counter auth[M_AUTH_COUNT];
	counter refused[M_REFUSE_COUNT];
	counter basic[M_BASIC_COUNT];
	counter hist[NBUCKETS + 1]; /* not cumulative; the last is +Inf */
	counter sum_us, count;
};

struct m_pool {
	_Atomic uint32_t state;
	counter restarts;
};

static struct {
	const struct config *c;
	size_t nvdirs, npools;
	unsigned nblocks;           /* loops + 1 spare for other threads */
	struct m_block *blocks;
	struct m_pool *pools;
	time_t started;
} M;

static __thread struct m_block *mine;

static void add(counter *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static uint64_t get(counter *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* n counters on cache lines of their own */
static counter *counters(size_t n)
{
	size_t bytes = ((n ? n : 1) * sizeof(counter) + 63) / 64 * 64;
	counter *c = aligned_alloc(64, bytes);

	if (!c)
		abort();
	memset(c, 0, bytes);
	return c;
}

void metrics_init(const struct config *c, unsigned nloops)
{
	M.c = c;
	M.nvdirs = c->nvdirs;
	M.npools = c->npools;
	M.nblocks = nloops + 1;
	M.started = time(NULL);
	/* each block on its own cache lines (the struct is 64-aligned): loops
	 * never write to a line that another loop writes to */
	M.blocks = aligned_alloc(64, sizeof(struct m_block) * M.nblocks);
	if (!M.blocks)
		abort();
	memset(M.blocks, 0, sizeof(struct m_block) * M.nblocks);
	for (unsigned i = 0; i < M.nblocks; i++) {
		struct m_block *b = &M.blocks[i];
		b->status = xcalloc(M.nvdirs + 1, sizeof(*b->status));
		b->pool_requests = counters(M.npools);
		b->as_caller = counters(M.nvdirs);
		b->as_pool = counters(M.nvdirs);
	}
	M.pools = xcalloc(M.npools ? M.npools : 1, sizeof(*M.pools));
}

void metrics_bind_loop(unsigned i)
{
	mine = i + 1 < M.nblocks ? &M.blocks[i] : &M.blocks[M.nblocks - 1];
}

/* The status table of (block, vdir), created on first use.  A spare block
 * is shared by several threads, hence the compare-and-swap. */
static counter *status_table(struct m_block *b, size_t slot)
{
	counter *t = atomic_load_explicit(&b->status[slot], memory_order_acquire);
	counter *expected = NULL;

	if (t)
		return t;
	t = counters(STATUS_SLOTS);
	if (!atomic_compare_exchange_strong(&b->status[slot], &expected, t)) {
		free(t);
		t = expected;
	}
	return t;
}

static void count_duration(struct m_block *b, uint64_t us)
{
	size_t i = 0;

	while (i < NBUCKETS && us > bucket_us[i])
		i++;
	add(&b->hist[i], 1);
	add(&b->sum_us, us);
	add(&b->count, 1);
}

void metrics_count(const struct m_request *m)
{
	struct m_block *b = mine ? mine : &M.blocks[M.nblocks - 1];
	bool routed = m->vdir >= 0 && (size_t)m->vdir < M.nvdirs;
	size_t slot = routed ? (size_t)m->vdir : M.nvdirs;

	if (!M.blocks)
		return;
	if (m->status >= STATUS_MIN && m->status < STATUS_MIN + STATUS_SLOTS)
		add(&status_table(b, slot)[m->status - STATUS_MIN], 1);
	if (routed) {
		add(&b->pool_requests[M.c->vdirs[m->vdir].pool->index], 1);
		if (m->ran == M_RAN_AS_CALLER)
			add(&b->as_caller[m->vdir], 1);
		else if (m->ran == M_RAN_AS_POOL)
			add(&b->as_pool[m->vdir], 1);
	}
	if (m->auth > M_AUTH_NONE && m->auth < M_AUTH_COUNT)
		add(&b->auth[m->auth], 1);
	if (m->refusal > M_REFUSE_NONE && m->refusal < M_REFUSE_COUNT)
		add(&b->refused[m->refusal], 1);
	count_duration(b, m->duration_us);
}

void metrics_count_basic(enum m_basic what)
{
	struct m_block *b = mine ? mine : &M.blocks[M.nblocks - 1];

	if (M.blocks && what < M_BASIC_COUNT)
		add(&b->basic[what], 1);
}

void metrics_pool_state(unsigned pool, uint32_t state, uint64_t restarts)
{
	if (pool >= M.npools)
		return;
	atomic_store(&M.pools[pool].state, state);
	atomic_store(&M.pools[pool].restarts, restarts);
}

bool metrics_every_pool_off(void)
{
	for (size_t p = 0; p < M.npools; p++) {
		uint32_t st = atomic_load(&M.pools[p].state);
		if (st != CTL_STATE_DISABLED && st != CTL_STATE_STOPPED)
			return false;
	}
	return M.npools > 0;
}

uint64_t metrics_pool_requests(unsigned pool)
{
	uint64_t n = 0;

	for (unsigned i = 0; pool < M.npools && i < M.nblocks; i++)
		n += get(&M.blocks[i].pool_requests[pool]);
	return n;
}

const char *metrics_auth_label(enum m_auth a)
{
	return a > M_AUTH_NONE && a < M_AUTH_COUNT ? auth_labels[a] : "";
}

/* ---------------------------------------------------------------- sums */

static uint64_t sum_field(size_t offset, size_t index)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < M.nblocks; i++) {
		counter *base = (counter *)((char *)&M.blocks[i] + offset);
		n += get(&base[index]);
	}
	return n;
}

static uint64_t sum_array(size_t member_offset, size_t index)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < M.nblocks; i++) {
		counter *arr = *(counter **)((char *)&M.blocks[i] + member_offset);
		n += get(&arr[index]);
	}
	return n;
}

static uint64_t sum_status(size_t slot, size_t code)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < M.nblocks; i++) {
		counter *t = atomic_load_explicit(&M.blocks[i].status[slot], memory_order_acquire);
		if (t)
			n += get(&t[code]);
	}
	return n;
}

/* ---------------------------------------------------------------- text */

/* A label value: backslash, double quote and line feed escaped. */
static void put_label(struct sbuf *b, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			sb_putc(b, '\\');
		if (*v == '\n')
			sb_puts(b, "\\n");
		else
			sb_putc(b, *v);
	}
}

static void header(struct sbuf *b, const char *name, const char *type, const char *help)
{
	sb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static const char *vdir_label(size_t slot)
{
	return slot < M.nvdirs ? M.c->vdirs[slot].path : "(none)";
}

static void render_requests(struct sbuf *b)
{
	header(b, "idgate_requests_total", "counter",
	       "Requests answered, by vdir and HTTP status (vdir \"(none)\": none matched).");
	for (size_t slot = 0; slot <= M.nvdirs; slot++) {
		for (size_t code = 0; code < STATUS_SLOTS; code++) {
			uint64_t n = sum_status(slot, code);
			if (!n)
				continue;
			sb_puts(b, "idgate_requests_total{vdir=\"");
			put_label(b, vdir_label(slot));
			sb_printf(b, "\",status=\"%zu\"} %llu\n", code + STATUS_MIN,
				  (unsigned long long)n);
		}
	}
}

static void render_identity(struct sbuf *b)
{
	static const struct { const char *name, *help; size_t off; } kinds[] = {
		{ "idgate_requests_impersonated_total",
		  "Requests whose handler ran as the caller, by vdir.",
		  offsetof(struct m_block, as_caller) },
		{ "idgate_requests_trusted_total",
		  "Requests whose handler ran as the pool's own identity, by vdir.",
		  offsetof(struct m_block, as_pool) },
	};

	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		header(b, kinds[k].name, "counter", kinds[k].help);
		for (size_t v = 0; v < M.nvdirs; v++) {
			sb_printf(b, "%s{vdir=\"", kinds[k].name);
			put_label(b, M.c->vdirs[v].path);
			sb_printf(b, "\"} %llu\n", (unsigned long long)sum_array(kinds[k].off, v));
		}
	}
	header(b, "idgate_impersonation_refused_total", "counter",
	       "Authenticated requests refused (403) instead of impersonated, by reason.");
	for (size_t r = 1; r < M_REFUSE_COUNT; r++)
		sb_printf(b, "idgate_impersonation_refused_total{reason=\"%s\"} %llu\n",
			  refusal_labels[r],
			  (unsigned long long)sum_field(offsetof(struct m_block, refused), r));
}

static void render_auth(struct sbuf *b)
{
	size_t basic = offsetof(struct m_block, basic);

	header(b, "idgate_auth_total", "counter",
	       "Authentication outcomes of requests to vdirs that authenticate, by result.");
	for (size_t a = 1; a < M_AUTH_COUNT; a++)
		sb_printf(b, "idgate_auth_total{result=\"%s\"} %llu\n", auth_labels[a],
			  (unsigned long long)sum_field(offsetof(struct m_block, auth), a));
	header(b, "idgate_basic_delayed_total", "counter",
	       "Basic failures answered after the fail delay.");
	sb_printf(b, "idgate_basic_delayed_total %llu\n",
		  (unsigned long long)sum_field(basic, M_BASIC_DELAYED));
	header(b, "idgate_basic_throttled_total", "counter",
	       "Basic attempts refused with 429 before PAM, by what was locked.");
	sb_printf(b, "idgate_basic_throttled_total{by=\"address\"} %llu\n",
		  (unsigned long long)sum_field(basic, M_BASIC_BY_ADDRESS));
	sb_printf(b, "idgate_basic_throttled_total{by=\"account\"} %llu\n",
		  (unsigned long long)sum_field(basic, M_BASIC_BY_ACCOUNT));
}

static void render_latency(struct sbuf *b)
{
	uint64_t cumulative = 0;

	header(b, "idgate_request_duration_seconds", "histogram",
	       "Time from the request line to the end of the response.");
	for (size_t i = 0; i <= NBUCKETS; i++) {
		cumulative += sum_field(offsetof(struct m_block, hist), i);
		sb_printf(b, "idgate_request_duration_seconds_bucket{le=\"%s\"} %llu\n",
			  i < NBUCKETS ? bucket_le[i] : "+Inf", (unsigned long long)cumulative);
	}
	uint64_t us = sum_field(offsetof(struct m_block, sum_us), 0);
	sb_printf(b, "idgate_request_duration_seconds_sum %llu.%06llu\n",
		  (unsigned long long)(us / 1000000), (unsigned long long)(us % 1000000));
	sb_printf(b, "idgate_request_duration_seconds_count %llu\n",
		  (unsigned long long)sum_field(offsetof(struct m_block, count), 0));
}

static void pool_line(struct sbuf *b, const char *metric, size_t p, unsigned long long v)
{
	sb_printf(b, "%s{pool=\"%s\"} %llu\n", metric, M.c->pools[p].name, v);
}

static void render_pool_states(struct sbuf *b)
{
	header(b, "idgate_pool_state", "gauge", "1 for the state each pool is in.");
	for (size_t p = 0; p < M.npools; p++) {
		uint32_t st = atomic_load(&M.pools[p].state);
		for (uint32_t s = 0; s <= CTL_STATE_MAX; s++)
			sb_printf(b, "idgate_pool_state{pool=\"%s\",state=\"%s\"} %d\n",
				  M.c->pools[p].name, ctl_state_name(s), st == s);
	}
	header(b, "idgate_pool_disabled", "gauge",
	       "1 while rapid_fail keeps the pool disabled (503).");
	for (size_t p = 0; p < M.npools; p++)
		pool_line(b, "idgate_pool_disabled", p,
			  atomic_load(&M.pools[p].state) == CTL_STATE_DISABLED);
	header(b, "idgate_pool_worker_restarts_total", "counter",
	       "Pool workers restarted after a failure, in this configuration generation.");
	for (size_t p = 0; p < M.npools; p++)
		pool_line(b, "idgate_pool_worker_restarts_total", p, get(&M.pools[p].restarts));
}

static void render_pools(struct sbuf *b, const struct m_live *live)
{
	header(b, "idgate_pool_requests_total", "counter", "Requests answered, by pool.");
	for (size_t p = 0; p < M.npools; p++)
		pool_line(b, "idgate_pool_requests_total", p, metrics_pool_requests((unsigned)p));
	render_pool_states(b);
	if (!live->pool_load)
		return;
	uint32_t *busy = xcalloc(M.npools + 1, sizeof(uint32_t));
	uint32_t *queued = xcalloc(M.npools + 1, sizeof(uint32_t));
	for (size_t p = 0; p < M.npools; p++)
		live->pool_load((unsigned)p, &busy[p], &queued[p]);
	header(b, "idgate_pool_busy_threads", "gauge", "Worker threads serving a request now.");
	for (size_t p = 0; p < M.npools; p++)
		pool_line(b, "idgate_pool_busy_threads", p, busy[p]);
	header(b, "idgate_pool_queued_requests", "gauge", "Requests waiting for a worker thread.");
	for (size_t p = 0; p < M.npools; p++)
		pool_line(b, "idgate_pool_queued_requests", p, queued[p]);
	free(busy);
	free(queued);
}

static void render_audit(struct sbuf *b)
{
	header(b, "idgate_audit_write_failures_total", "counter",
	       "Audit lines that could not be written (a full disk, a quota, an I/O error).");
	sb_printf(b, "idgate_audit_write_failures_total %llu\n",
		  (unsigned long long)audit_write_failures());
	header(b, "idgate_audit_failing", "gauge",
	       "1 while the last audit write failed (with audit_failure = refuse: requests get 503).");
	sb_printf(b, "idgate_audit_failing %d\n", audit_failing() ? 1 : 0);
}

void metrics_render(struct sbuf *out, const struct m_live *live)
{
	header(out, "idgate_build_info", "gauge", "The running version.");
	sb_printf(out, "idgate_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
	header(out, "idgate_frontend_start_time_seconds", "gauge",
	       "When this front end started (counters restart from zero on a reload).");
	sb_printf(out, "idgate_frontend_start_time_seconds %lld\n", (long long)M.started);
	header(out, "idgate_requests_in_flight", "gauge", "Requests being served now.");
	sb_printf(out, "idgate_requests_in_flight %zu\n", live->in_flight);
	render_requests(out);
	render_latency(out);
	render_auth(out);
	render_identity(out);
	render_audit(out);
	render_pools(out, live);
}
