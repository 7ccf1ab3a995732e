/* negload.c -- a load generator for idgated.
 *
 *   negload -p PORT [-H host] [-u PATH] [-c CONNECTIONS] [-n REQUESTS_PER_CONN]
 *           [-t THREADS] [-a negotiate|once|none] [-d] [-k NAME=VALUE]
 *
 * Each thread opens its share of the connections one after the other and
 * sends -n requests on each (HTTP/1.1 keep-alive).  With -a negotiate
 * (the default) every request carries a fresh token from
 * gss_init_sec_context(); with "once" only the first request of each
 * connection does; with "none" no request does.  Prints requests, seconds,
 * requests per second and latency percentiles; non-2xx answers count as
 * errors.  -d delegates the client's TGT with every token (GSS_C_DELEG_FLAG;
 * the ticket must be forwardable).  -k sends the cookie NAME=VALUE with every
 * request (a session cookie: with -a none, each request is authenticated by
 * it alone).  Credentials come from KRB5CCNAME (copied into memory first, so
 * the client does not re-read a file per request). */
#include <arpa/inet.h>
#include <errno.h>
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base64.h"

enum mode { AUTH_EVERY, AUTH_ONCE, AUTH_NONE };

static const char *host = "localhost";
static const char *path = "/";
static const char *cookie;
static int port, conns = 4, per_conn = 100, nthreads = 2;
static enum mode mode = AUTH_EVERY;
static OM_uint32 req_flags = GSS_C_MUTUAL_FLAG;
static gss_name_t target;

struct result {
	double *lat; /* seconds */
	size_t n, errors;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *fresh_token(void)
{
	OM_uint32 major, minor;
	gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
	gss_buffer_desc out = GSS_C_EMPTY_BUFFER;
	static gss_OID_desc spnego = { 6, "\x2b\x06\x01\x05\x05\x02" };
	char *b64;

	major = gss_init_sec_context(&minor, GSS_C_NO_CREDENTIAL, &ctx, target, &spnego,
				     req_flags, 0, GSS_C_NO_CHANNEL_BINDINGS, GSS_C_NO_BUFFER,
				     NULL, &out, NULL, NULL);
	if (GSS_ERROR(major)) {
		fprintf(stderr, "gss_init_sec_context failed: %u/%u\n", major, minor);
		exit(1);
	}
	b64 = base64_encode(out.value, out.length);
	gss_release_buffer(&minor, &out);
	gss_delete_sec_context(&minor, &ctx, GSS_C_NO_BUFFER);
	return b64;
}

static int dial(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("connect");
		exit(1);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* Read one response; returns its status, or -1. */
static int read_response(int fd, char *buf, size_t cap)
{
	size_t have = 0;
	char *end = NULL;
	long clen = 0;
	int status;

	while (!end) {
		ssize_t r = read(fd, buf + have, cap - have - 1);
		if (r <= 0)
			return -1;
		have += (size_t)r;
		buf[have] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	if (sscanf(buf, "HTTP/1.1 %d", &status) != 1)
		return -1;
	char *cl = strcasestr(buf, "\r\nContent-Length:");
	if (cl)
		clen = strtol(cl + 17, NULL, 10);
	size_t body = have - (size_t)(end + 4 - buf);
	while ((long)body < clen) {
		ssize_t r = read(fd, buf, cap);
		if (r <= 0)
			return -1;
		body += (size_t)r;
	}
	return status;
}

static void *worker(void *arg)
{
	struct result *res = arg;
	char *req = malloc(80000), *buf = malloc(1 << 20);
	int my_conns = conns / nthreads;

	res->lat = calloc((size_t)my_conns * (size_t)per_conn, sizeof(double));
	for (int c = 0; c < my_conns; c++) {
		int fd = dial();
		for (int k = 0; k < per_conn; k++) {
			char *tok = NULL;
			if (mode == AUTH_EVERY || (mode == AUTH_ONCE && k == 0))
				tok = fresh_token();
			int len = snprintf(req, 80000, "GET %s HTTP/1.1\r\nHost: %s:%d\r\n%s%s%s%s%s%s\r\n",
					   path, host, port, tok ? "Authorization: Negotiate " : "",
					   tok ? tok : "", tok ? "\r\n" : "", cookie ? "Cookie: " : "",
					   cookie ? cookie : "", cookie ? "\r\n" : "");
			free(tok);
			double t0 = now();
			if (write(fd, req, (size_t)len) != len) {
				res->errors++;
				break;
			}
			int st = read_response(fd, buf, 1 << 20);
			res->lat[res->n++] = now() - t0;
			if (st < 200 || st > 299)
				res->errors++;
			if (st < 0)
				break;
		}
		close(fd);
	}
	free(req);
	free(buf);
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Copy the credentials into a MEMORY: cache used by this process. */
static void memory_ccache(void)
{
	krb5_context k;
	krb5_ccache from, to;
	OM_uint32 minor;

	if (krb5_init_context(&k) || krb5_cc_default(k, &from) ||
	    krb5_cc_resolve(k, "MEMORY:negload", &to)) {
		fprintf(stderr, "cannot open the credential cache\n");
		exit(1);
	}
	krb5_principal p;
	if (krb5_cc_get_principal(k, from, &p) || krb5_cc_initialize(k, to, p) ||
	    krb5_cc_copy_creds(k, from, to)) {
		fprintf(stderr, "cannot copy the credential cache (kinit first)\n");
		exit(1);
	}
	gss_krb5_ccache_name(&minor, "MEMORY:negload", NULL);
}

int main(int argc, char **argv)
{
	OM_uint32 minor;
	char name[300];
	gss_buffer_desc nb;
	int opt;

	while ((opt = getopt(argc, argv, "p:H:u:c:n:t:a:dk:")) != -1) {
		switch (opt) {
		case 'k': cookie = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'd': req_flags |= GSS_C_DELEG_FLAG; break;
		case 'H': host = optarg; break;
		case 'u': path = optarg; break;
		case 'c': conns = atoi(optarg); break;
		case 'n': per_conn = atoi(optarg); break;
		case 't': nthreads = atoi(optarg); break;
		case 'a':
			mode = strcmp(optarg, "none") == 0 ? AUTH_NONE
			       : strcmp(optarg, "once") == 0 ? AUTH_ONCE : AUTH_EVERY;
			break;
		default:
			fprintf(stderr, "usage: negload -p PORT [-H host] [-u path] [-c conns] "
					"[-n per-conn] [-t threads] [-a negotiate|once|none] [-d] "
					"[-k NAME=VALUE]\n");
			return 2;
		}
	}
	if (!port || nthreads < 1 || conns < nthreads)
		return 2;
	if (mode != AUTH_NONE) {
		memory_ccache();
		snprintf(name, sizeof(name), "HTTP@%s", host);
		nb.value = name;
		nb.length = strlen(name);
		gss_import_name(&minor, &nb, GSS_C_NT_HOSTBASED_SERVICE, &target);
		free(fresh_token()); /* fetch the service ticket before timing */
	}
	pthread_t *t = calloc((size_t)nthreads, sizeof(*t));
	struct result *res = calloc((size_t)nthreads, sizeof(*res));
	double t0 = now();
	for (int i = 0; i < nthreads; i++)
		pthread_create(&t[i], NULL, worker, &res[i]);
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	double secs = now() - t0;
	size_t total = 0, errors = 0, k = 0;
	for (int i = 0; i < nthreads; i++) {
		total += res[i].n;
		errors += res[i].errors;
	}
	double *all = calloc(total ? total : 1, sizeof(double));
	for (int i = 0; i < nthreads; i++)
		for (size_t j = 0; j < res[i].n; j++)
			all[k++] = res[i].lat[j];
	qsort(all, total, sizeof(double), cmp);
	printf("requests %zu errors %zu seconds %.3f rps %.0f p50_us %.0f p99_us %.0f\n", total,
	       errors, secs, (double)total / secs, total ? all[total / 2] * 1e6 : 0,
	       total ? all[(size_t)((double)total * 0.99)] * 1e6 : 0);
	return errors ? 1 : 0;
}
