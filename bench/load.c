/* load.c -- a concurrent HTTP load generator for bench/peers.
 *
 *   load -p PORT [-H HOST] [-u PATH] [-c CONNS] [-n REQS_PER_CONN] [-d SECONDS]
 *        [-a none|negotiate|once|session] [-T TOKENS] [-t THREADS] [-D]
 *        [-g CPU_FILE] [-P SERVER_PID] [-o FILE]
 *   load -p PORT -I N [-d SECONDS] [-u PATH]        (idle connections)
 *
 * Keeps CONNS connections open at once (non-blocking sockets in one epoll
 * loop per client thread), each sending REQS_PER_CONN requests one after
 * the other (HTTP/1.1 keep-alive; the last one says "Connection: close",
 * so the server closes first and the TIME_WAIT sockets are the server's),
 * then a new connection in its place, for SECONDS.  Latency is from the
 * request's write -- from connect() for the first request of a
 * connection -- to the last byte of its response.
 *
 * Authentication (-a):
 *   negotiate  a fresh SPNEGO token on every request
 *   once       a token on the first request of each connection only
 *   session    one Negotiate request before the run; every timed request
 *              sends the cookie that answer set, and no token
 *   none       nothing
 * Tokens are made before the run (TOKENS of them, each with its own
 * authenticator, so the server's replay cache accepts each once): the
 * client's GSSAPI work is neither timed nor competing with the server.
 * The run ends early, and says so, when the tokens run out.  -D delegates
 * the client's TGT with every token (GSS_C_DELEG_FLAG: the ticket must be
 * forwardable).  Credentials come from KRB5CCNAME.
 *
 * -o FILE: one line per request as it ends, "MS STATUS", MS the wall
 * clock (CLOCK_REALTIME) in milliseconds and STATUS the answer's status,
 * 000 for a broken connection (not for a retry, which is sent again) and
 * hung for one still unanswered 10 s after the run (the fault tests: which
 * requests failed, how, and when, against the moment of a kill).
 *
 * Server CPU: -g names a cgroup file holding the server's CPU time
 * (cgroup v1 cpuacct.usage in ns, or cgroup v2 cpu.stat's usage_usec);
 * otherwise with -P: user+system time of SERVER_PID and all its descendants,
 * with the time of the children they reaped, from /proc.  With -P the
 * context switches of all their threads are counted as well.  Both are
 * read just before the first connect and just after the last answer.
 *
 * Output, one line:
 *   requests N errors N seconds S rps R p50_us N p99_us N
 *   server_cpu_us_per_req X ctxsw_per_req X client_cpu_us_per_req X max_us N
 *   proc_cpu_us_per_req X others_cpu_pct N retries N connections N [tokens_ran_out]
 * (proc_cpu: the same from /proc, -1 without -P: a check on the cgroup's;
 * others_cpu: what the rest of the machine used meanwhile, in % of all its
 * CPUs -- other people's work, which makes the numbers noisy; retries:
 * requests sent again because the server had closed their kept-alive
 * connection; connections: how many were opened; ctxsw -1: processes of
 * the server ended meanwhile, their switches are lost.)
 * Non-2xx answers and broken connections count as errors (exit 1). */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base64.h"

enum mode { AUTH_NONE, AUTH_EVERY, AUTH_ONCE, AUTH_SESSION };
enum state { ST_CONNECTING, ST_WRITING, ST_READING };

#define IN_CAP 65536

static const char *host = "localhost", *path = "/", *cpu_file;
static int port, conns = 8, per_conn = 100, nthreads = 1, idle_conns;
static double seconds = 5.0;
static long server_pid;
static enum mode mode = AUTH_NONE;
static OM_uint32 req_flags = GSS_C_MUTUAL_FLAG;
static gss_name_t target;
static char cookie[4096];
static FILE *req_log; /* -o */
static pthread_mutex_t req_log_lock = PTHREAD_MUTEX_INITIALIZER;

/* The token pool, filled before the run and taken from by all threads. */
static char **tokens;
static size_t ntokens;
static atomic_size_t next_token;
static atomic_int tokens_ran_out;
static double deadline;

struct conn {
	int fd, done, close_after;
	enum state state;
	double t0;
	char *out;
	size_t out_len, out_off;
	char in[IN_CAP];
	size_t in_len, head_len;
	long body_left;
	int status, server_closes, have_head;
	uint32_t events; /* what epoll watches for it; 0: not registered */
};

struct loop {
	int nconns;
	struct conn *c;
	double *lat;
	size_t n, cap, errors, retries, opened;
	int active;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "load: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* ------------------------------------------------------------- tokens */

static char *fresh_token(void)
{
	static gss_OID_desc spnego = { 6, "\x2b\x06\x01\x05\x05\x02" };
	OM_uint32 major, minor;
	gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
	gss_buffer_desc out = GSS_C_EMPTY_BUFFER;
	char *b64;

	major = gss_init_sec_context(&minor, GSS_C_NO_CREDENTIAL, &ctx, target, &spnego,
				     req_flags, 0, GSS_C_NO_CHANNEL_BINDINGS,
				     GSS_C_NO_BUFFER, NULL, &out, NULL, NULL);
	if (GSS_ERROR(major)) {
		fprintf(stderr, "load: gss_init_sec_context failed: %u/%u (kinit first)\n", major,
			minor);
		exit(2);
	}
	b64 = base64_encode(out.value, out.length);
	gss_release_buffer(&minor, &out);
	gss_delete_sec_context(&minor, &ctx, GSS_C_NO_BUFFER);
	return b64;
}

/* Copy the credentials into a MEMORY: cache, so that making a token reads
 * no file. */
static void memory_ccache(void)
{
	krb5_context k;
	krb5_ccache from, to;
	krb5_principal p;
	OM_uint32 minor;

	if (krb5_init_context(&k) || krb5_cc_default(k, &from) ||
	    krb5_cc_resolve(k, "MEMORY:load", &to) || krb5_cc_get_principal(k, from, &p) ||
	    krb5_cc_initialize(k, to, p) || krb5_cc_copy_creds(k, from, to)) {
		fprintf(stderr, "load: cannot copy the credential cache (kinit first)\n");
		exit(2);
	}
	gss_krb5_ccache_name(&minor, "MEMORY:load", NULL);
}

static void *make_tokens(void *arg)
{
	size_t half = (size_t)(uintptr_t)arg;

	for (size_t i = half; i < ntokens; i += 2)
		tokens[i] = fresh_token();
	return NULL;
}

/* Two threads: the client's two CPUs are idle before the run. */
static void fill_token_pool(size_t n)
{
	pthread_t t;

	ntokens = n;
	tokens = calloc(n, sizeof(*tokens));
	if (!tokens)
		die("calloc");
	pthread_create(&t, NULL, make_tokens, (void *)(uintptr_t)1);
	make_tokens((void *)(uintptr_t)0);
	pthread_join(t, NULL);
}

static const char *take_token(void)
{
	size_t i = atomic_fetch_add(&next_token, 1);

	if (i >= ntokens) {
		atomic_store(&tokens_ran_out, 1);
		return NULL;
	}
	return tokens[i];
}

/* ------------------------------------------------------- server CPU */

/* CPU seconds in a cgroup file: cpuacct.usage (ns) or cpu.stat (usage_usec). */
static double cgroup_cpu(void)
{
	FILE *f = fopen(cpu_file, "r");
	char line[256];
	double v = -1;

	if (!f)
		die(cpu_file);
	while (fgets(line, sizeof(line), f)) {
		unsigned long long x;
		if (sscanf(line, "usage_usec %llu", &x) == 1) {
			v = (double)x / 1e6;
			break;
		}
		if (isdigit((unsigned char)line[0]) && sscanf(line, "%llu", &x) == 1) {
			v = (double)x / 1e9;
			break;
		}
	}
	fclose(f);
	return v;
}

struct proc {
	long pid, ppid;
	double cpu;
};

/* Every process's parent and CPU time (its own and its reaped children's). */
static size_t read_procs(struct proc **out)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	size_t n = 0, cap = 1024;
	struct proc *p = malloc(cap * sizeof(*p));
	double hz = (double)sysconf(_SC_CLK_TCK);

	if (!d || !p)
		die("/proc");
	while ((e = readdir(d))) {
		char fn[64], buf[1024], *s;
		unsigned long long ut, st, cut, cst;
		long pid = strtol(e->d_name, &s, 10), ppid;
		FILE *f;

		if (*s || pid <= 0)
			continue;
		snprintf(fn, sizeof(fn), "/proc/%ld/stat", pid);
		if (!(f = fopen(fn, "r")))
			continue;
		s = fgets(buf, sizeof(buf), f);
		fclose(f);
		if (!s || !(s = strrchr(buf, ')')))
			continue;
		/* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt
		 * majflt cmajflt utime stime cutime cstime */
		if (sscanf(s + 2, "%*c %ld %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu",
			   &ppid, &ut, &st, &cut, &cst) != 5)
			continue;
		if (n == cap && !(p = realloc(p, (cap *= 2) * sizeof(*p))))
			die("realloc");
		p[n++] = (struct proc){ pid, ppid, (double)(ut + st + cut + cst) / hz };
	}
	closedir(d);
	*out = p;
	return n;
}

static int is_descendant(const struct proc *p, size_t n, long pid)
{
	for (int depth = 0; depth < 64 && pid > 1; depth++) {
		if (pid == server_pid)
			return 1;
		long parent = 0;
		for (size_t i = 0; i < n; i++)
			if (p[i].pid == pid)
				parent = p[i].ppid;
		pid = parent;
	}
	return 0;
}

/* Voluntary + involuntary context switches of all threads of PID. */
static unsigned long long ctx_switches(long pid)
{
	char dn[64];
	DIR *d;
	struct dirent *e;
	unsigned long long total = 0;

	snprintf(dn, sizeof(dn), "/proc/%ld/task", pid);
	if (!(d = opendir(dn)))
		return 0;
	while ((e = readdir(d))) {
		char fn[384], line[256];
		FILE *f;
		unsigned long long v;
		if (e->d_name[0] == '.')
			continue;
		snprintf(fn, sizeof(fn), "%s/%s/status", dn, e->d_name);
		if (!(f = fopen(fn, "r")))
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "voluntary_ctxt_switches: %llu", &v) == 1 ||
			    sscanf(line, "nonvoluntary_ctxt_switches: %llu", &v) == 1)
				total += v;
		fclose(f);
	}
	closedir(d);
	return total;
}

struct server_usage {
	double cpu, proc_cpu; /* from the cgroup (else /proc), and from /proc */
	unsigned long long ctxsw;
};

static struct server_usage server_usage(void)
{
	struct server_usage u = { -1, -1, 0 };
	struct proc *p = NULL;
	size_t n;

	if (cpu_file)
		u.cpu = cgroup_cpu();
	if (!server_pid)
		return u;
	n = read_procs(&p);
	u.proc_cpu = 0;
	for (size_t i = 0; i < n; i++)
		if (is_descendant(p, n, p[i].pid)) {
			u.proc_cpu += p[i].cpu;
			u.ctxsw += ctx_switches(p[i].pid);
		}
	free(p);
	if (!cpu_file)
		u.cpu = u.proc_cpu;
	return u;
}

/* ------------------------------------------------------- connections */

static int dial(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket");
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS)
		die("connect");
	return fd;
}

/* Build the next request of C; returns 0 when no more may be sent. */
static int build_request(struct conn *c)
{
	const char *tok = NULL;
	int last = per_conn > 0 && c->done == per_conn - 1, len;

	if (now() >= deadline)
		return 0;
	if (mode == AUTH_EVERY || (mode == AUTH_ONCE && c->done == 0))
		if (!(tok = take_token()))
			return 0;
	len = snprintf(c->out, 16384, "GET %s HTTP/1.1\r\nHost: %s:%d\r\n%s%s%s%s%s%s%s\r\n", path,
		       host, port, tok ? "Authorization: Negotiate " : "", tok ? tok : "",
		       tok ? "\r\n" : "", mode == AUTH_SESSION ? "Cookie: " : "",
		       mode == AUTH_SESSION ? cookie : "", mode == AUTH_SESSION ? "\r\n" : "",
		       last ? "Connection: close\r\n" : "");
	if (len <= 0 || len >= 16384) {
		fprintf(stderr, "load: request too long\n");
		exit(2);
	}
	c->out_len = (size_t)len;
	c->out_off = 0;
	c->in_len = c->head_len = 0;
	c->have_head = 0;
	c->close_after = last;
	return 1;
}

/* Watch C's socket for EVENTS (no system call when that is already so). */
static void watch(int ep, struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	if (c->events == events)
		return;
	if (epoll_ctl(ep, c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev) < 0)
		die("epoll_ctl");
	c->events = events;
}

/* Open C's next connection and start its first request, or retire it. */
static void start_conn(struct loop *l, int ep, struct conn *c)
{
	c->done = 0;
	if (!build_request(c)) {
		c->fd = -1;
		l->active--;
		return;
	}
	c->t0 = now();
	c->fd = dial();
	l->opened++;
	c->state = ST_CONNECTING;
	c->events = 0;
	watch(ep, c, EPOLLOUT);
}

static void end_conn(struct loop *l, int ep, struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	start_conn(l, ep, c);
}

static void record(struct loop *l, double secs)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 65536;
		if (!(l->lat = realloc(l->lat, l->cap * sizeof(double))))
			die("realloc");
	}
	l->lat[l->n++] = secs;
}

/* -o: one request ended with STATUS ("000": broken, "hung"). */
static void log_request(const char *status)
{
	struct timespec ts;

	if (!req_log)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	pthread_mutex_lock(&req_log_lock);
	fprintf(req_log, "%lld %s\n", (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, status);
	pthread_mutex_unlock(&req_log_lock);
}

/* The head is complete: status, how much body follows, who closes. */
static void parse_head(struct conn *c)
{
	char *end = strstr(c->in, "\r\n\r\n"), *cl;

	c->head_len = (size_t)(end + 4 - c->in);
	*end = '\0';
	if (sscanf(c->in, "HTTP/1.%*d %d", &c->status) != 1)
		c->status = -1;
	cl = strcasestr(c->in, "\r\nContent-Length:");
	c->body_left = cl ? strtol(cl + 17, NULL, 10) : 0;
	c->server_closes = strcasestr(c->in, "\r\nConnection: close") != NULL;
	c->body_left -= (long)(c->in_len - c->head_len);
	c->have_head = 1;
}

/* Read what is there; returns 1 when the response is complete, 0 when
 * more is to come, -1 when the connection broke. */
static int read_some(struct conn *c)
{
	for (;;) {
		char scratch[65536];
		char *dst = c->have_head ? scratch : c->in + c->in_len;
		size_t room = c->have_head ? sizeof(scratch) : IN_CAP - 1 - c->in_len;
		ssize_t r = read(c->fd, dst, room);

		if (r < 0)
			return errno == EAGAIN ? 0 : -1;
		if (r == 0 || room == 0)
			return -1;
		if (c->have_head) {
			c->body_left -= r;
		} else {
			c->in_len += (size_t)r;
			c->in[c->in_len] = '\0';
			if (strstr(c->in, "\r\n\r\n"))
				parse_head(c);
		}
		if (c->have_head && c->body_left <= 0)
			return 1;
	}
}

/* The connection broke.  When the server closed a kept-alive connection
 * before answering its next request (Apache's event MPM does, to free
 * workers, when they are all busy), a client sends the request again on a
 * new one: so does this one -- with a new token -- and counts a retry.
 * Any other break is an error. */
static void broken(struct loop *l, int ep, struct conn *c)
{
	if (c->done > 0 && c->in_len == 0) {
		l->retries++;
	} else {
		l->errors++;
		log_request("000");
	}
	end_conn(l, ep, c);
}

static void write_some(struct loop *l, int ep, struct conn *c)
{
	ssize_t w = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);

	if (w < 0 && errno == EAGAIN) {
		watch(ep, c, EPOLLOUT);
		return;
	}
	if (w <= 0) {
		broken(l, ep, c);
		return;
	}
	c->out_off += (size_t)w;
	if (c->out_off == c->out_len) {
		c->state = ST_READING;
		watch(ep, c, EPOLLIN);
	}
}

static void on_response(struct loop *l, int ep, struct conn *c)
{
	char code[16];

	record(l, now() - c->t0);
	if (c->status < 200 || c->status > 299)
		l->errors++;
	snprintf(code, sizeof(code), "%03d", c->status < 0 ? 0 : c->status);
	log_request(code);
	c->done++;
	if (c->close_after || c->server_closes || !build_request(c)) {
		end_conn(l, ep, c);
		return;
	}
	c->t0 = now();
	c->state = ST_WRITING;
	write_some(l, ep, c); /* the socket is writable: it just answered */
}

static void on_event(struct loop *l, int ep, struct conn *c, uint32_t ev)
{
	if (c->state == ST_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err) {
			errno = err;
			die("connect");
		}
		c->state = ST_WRITING;
	}
	if (c->state == ST_WRITING && (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		write_some(l, ep, c);
		return;
	}
	if (c->state == ST_READING) {
		int r = read_some(c);
		if (r > 0)
			on_response(l, ep, c);
		else if (r < 0)
			broken(l, ep, c);
	}
}

static void *run_loop(void *arg)
{
	struct loop *l = arg;
	struct epoll_event evs[256];
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0)
		die("epoll_create1");
	l->c = calloc((size_t)l->nconns, sizeof(*l->c));
	l->active = l->nconns;
	for (int i = 0; i < l->nconns; i++) {
		if (!(l->c[i].out = malloc(16384)))
			die("malloc");
		start_conn(l, ep, &l->c[i]);
	}
	/* After the deadline no request starts; the ones under way may take
	 * 10 s more to finish before they count as errors. */
	while (l->active > 0) {
		int n = epoll_wait(ep, evs, 256, 1000);
		if (n < 0 && errno != EINTR)
			die("epoll_wait");
		for (int i = 0; i < n; i++)
			on_event(l, ep, evs[i].data.ptr, evs[i].events);
		if (now() > deadline + 10) {
			l->errors += (size_t)l->active;
			for (int i = 0; i < l->active; i++)
				log_request("hung");
			break;
		}
	}
	close(ep);
	return NULL;
}

/* ------------------------------------------------------------ session */

/* One Negotiate request, untimed: the cookie its answer sets. */
static void get_session_cookie(void)
{
	char *tok = fresh_token(), req[16384], in[IN_CAP], *sc, *end;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), len;
	size_t have = 0;

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect");
	len = snprintf(req, sizeof(req),
		       "GET %s HTTP/1.1\r\nHost: %s:%d\r\nAuthorization: Negotiate %s\r\n"
		       "Connection: close\r\n\r\n", path, host, port, tok);
	if (write(fd, req, (size_t)len) != len)
		die("write");
	for (ssize_t r; have < sizeof(in) - 1 && (r = read(fd, in + have, sizeof(in) - 1 - have)) > 0;)
		have += (size_t)r;
	in[have] = '\0';
	close(fd);
	free(tok);
	if (!(sc = strcasestr(in, "\r\nSet-Cookie: "))) {
		fprintf(stderr, "load: -a session: no Set-Cookie in the answer:\n%.300s\n", in);
		exit(2);
	}
	sc += 14;
	end = sc + strcspn(sc, ";\r\n");
	snprintf(cookie, sizeof(cookie), "%.*s", (int)(end - sc), sc);
}

/* ---------------------------------------------------------- idle mode */

/* Open N connections, one request each (left open), hold them SECONDS. */
static int hold_idle(void)
{
	static struct conn c;
	char req[512];
	int *fds = calloc((size_t)idle_conns, sizeof(int)), len, ok = 0;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	len = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n", path, host, port);
	for (int i = 0; i < idle_conns; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (fds[i] < 0 || connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)) < 0)
			die("connect");
		if (write(fds[i], req, (size_t)len) != len)
			die("write");
		c.fd = fds[i]; /* blocking: read_some returns once it is all there */
		c.in_len = 0;
		c.have_head = 0;
		ok += read_some(&c) == 1 && c.status == 200 && !c.server_closes;
	}
	printf("idle %d ok %d holding\n", idle_conns, ok);
	fflush(stdout);
	struct timespec ts = { (time_t)seconds, 0 };
	nanosleep(&ts, NULL);
	/* still open? a server that dropped one gives EOF now */
	int open_ = 0;
	for (int i = 0; i < idle_conns; i++) {
		char b;
		open_ += recv(fds[i], &b, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN;
		close(fds[i]);
	}
	printf("still_open %d\n", open_);
	return ok == idle_conns && open_ == idle_conns ? 0 : 1;
}

/* --------------------------------------------------------------- main */

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* CPU seconds the whole machine spent busy (all CPUs, from /proc/stat). */
static double machine_busy(void)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	int n = f ? fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
			   &v[3], &v[4], &v[5], &v[6], &v[7])
		  : 0;

	if (f)
		fclose(f);
	if (n != 8)
		return -1;
	/* user nice system idle iowait irq softirq steal: all but idle and iowait */
	return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double)sysconf(_SC_CLK_TCK);
}

static double client_cpu(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void usage(void)
{
	fprintf(stderr, "usage: load -p PORT [-H host] [-u path] [-c conns] [-n per-conn] "
			"[-d seconds] [-a none|negotiate|once|session] [-T tokens] [-t threads] [-D] "
			"[-g cgroup-cpu-file] [-P server-pid] [-o request-log] | -p PORT -I N [-d seconds]\n");
	exit(2);
}

static void parse_args(int argc, char **argv, size_t *want_tokens)
{
	int opt;

	while ((opt = getopt(argc, argv, "p:H:u:c:n:d:a:T:t:g:P:I:Do:")) != -1) {
		switch (opt) {
		case 'D': req_flags |= GSS_C_DELEG_FLAG; break;
		case 'p': port = atoi(optarg); break;
		case 'H': host = optarg; break;
		case 'u': path = optarg; break;
		case 'c': conns = atoi(optarg); break;
		case 'n': per_conn = atoi(optarg); break;
		case 'd': seconds = atof(optarg); break;
		case 'T': *want_tokens = (size_t)atol(optarg); break;
		case 't': nthreads = atoi(optarg); break;
		case 'g': cpu_file = optarg; break;
		case 'P': server_pid = atol(optarg); break;
		case 'I': idle_conns = atoi(optarg); break;
		case 'o':
			if (!(req_log = fopen(optarg, "w")))
				die(optarg);
			setvbuf(req_log, NULL, _IOLBF, 0); /* read while the run goes on */
			break;
		case 'a':
			mode = strcmp(optarg, "negotiate") == 0 ? AUTH_EVERY
			       : strcmp(optarg, "once") == 0	? AUTH_ONCE
			       : strcmp(optarg, "session") == 0 ? AUTH_SESSION
			       : strcmp(optarg, "none") == 0	? AUTH_NONE
								: (usage(), AUTH_NONE);
			break;
		default: usage();
		}
	}
	if (!port || nthreads < 1 || conns < nthreads || per_conn < 1 || seconds <= 0)
		usage();
}

static void setup_auth(size_t want_tokens)
{
	char name[300];
	OM_uint32 minor;
	gss_buffer_desc nb;

	memory_ccache();
	snprintf(name, sizeof(name), "HTTP@%s", host);
	nb.value = name;
	nb.length = strlen(name);
	gss_import_name(&minor, &nb, GSS_C_NT_HOSTBASED_SERVICE, &target);
	free(fresh_token()); /* the service ticket, fetched before timing */
	if (mode == AUTH_SESSION)
		get_session_cookie();
	else
		fill_token_pool(want_tokens);
}

/* What the rest of the machine used meanwhile, in % of all its CPUs:
 * other people's work, which makes the numbers noisy. */
static double others_pct(double busy, double secs, double server, double client)
{
	if (busy < 0 || server < 0)
		return -1;
	double o = (busy - server - client) / (secs * (double)sysconf(_SC_NPROCESSORS_ONLN)) * 100;
	return o < 0 ? 0 : o;
}

static void report(struct loop *lp, double secs, struct server_usage u0, struct server_usage u1,
		   double ccpu, double busy)
{
	size_t total = 0, errors = 0, k = 0, retries = 0, opened = 0;

	for (int i = 0; i < nthreads; i++) {
		total += lp[i].n;
		errors += lp[i].errors;
		retries += lp[i].retries;
		opened += lp[i].opened;
	}
	double *all = calloc(total ? total : 1, sizeof(double));
	for (int i = 0; i < nthreads; i++)
		for (size_t j = 0; j < lp[i].n; j++)
			all[k++] = lp[i].lat[j];
	qsort(all, total, sizeof(double), cmp);
	double n = total ? (double)total : 1;
	printf("requests %zu errors %zu seconds %.3f rps %.0f p50_us %.0f p99_us %.0f "
	       "server_cpu_us_per_req %.1f ctxsw_per_req %.2f client_cpu_us_per_req %.1f max_us %.0f "
	       "proc_cpu_us_per_req %.1f others_cpu_pct %.0f retries %zu connections %zu%s\n",
	       total, errors, secs, (double)total / secs, total ? all[total / 2] * 1e6 : 0,
	       total ? all[(size_t)((double)total * 0.99)] * 1e6 : 0,
	       u0.cpu >= 0 ? (u1.cpu - u0.cpu) * 1e6 / n : -1,
	       u1.ctxsw >= u0.ctxsw ? (double)(u1.ctxsw - u0.ctxsw) / n : -1, ccpu * 1e6 / n, total ? all[total - 1] * 1e6 : 0,
	       u0.proc_cpu >= 0 ? (u1.proc_cpu - u0.proc_cpu) * 1e6 / n : -1,
	       others_pct(busy, secs, u0.cpu >= 0 ? u1.cpu - u0.cpu : -1, ccpu), retries, opened,
	       atomic_load(&tokens_ran_out) ? " tokens_ran_out" : "");
	free(all);
}

int main(int argc, char **argv)
{
	size_t want_tokens = 20000;

	parse_args(argc, argv, &want_tokens);
	if (idle_conns > 0)
		return hold_idle();
	if (mode != AUTH_NONE)
		setup_auth(mode == AUTH_ONCE ? want_tokens / (size_t)per_conn + (size_t)conns
					     : want_tokens);

	pthread_t *t = calloc((size_t)nthreads, sizeof(*t));
	struct loop *lp = calloc((size_t)nthreads, sizeof(*lp));
	for (int i = 0; i < nthreads; i++)
		lp[i].nconns = conns / nthreads + (i < conns % nthreads);
	struct server_usage u0 = server_usage();
	double b0 = machine_busy(), c0 = client_cpu(), t0 = now();
	deadline = t0 + seconds;
	for (int i = 0; i < nthreads; i++)
		pthread_create(&t[i], NULL, run_loop, &lp[i]);
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	double secs = now() - t0, ccpu = client_cpu() - c0, busy = machine_busy() - b0;
	struct server_usage u1 = server_usage();
	report(lp, secs, u0, u1, ccpu, b0 < 0 ? -1 : busy);
	if (req_log && fclose(req_log) != 0)
		die("-o");
	size_t errors = 0;
	for (int i = 0; i < nthreads; i++)
		errors += lp[i].errors;
	return errors ? 1 : 0;
}
