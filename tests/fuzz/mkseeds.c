/* mkseeds.c -- the generated seeds of the fuzz targets: every message of
 * every channel made by its real encoder, and the targets' structured
 * inputs in their leg format (fuzz.h), so that the seeds stay valid when
 * an encoding changes.  `mkseeds DIR` writes DIR/TARGET/gen-NAME;
 * seeds.sh compares them with the committed ones (make fuzz-smoke) or
 * writes them into tests/fuzz/corpus (make fuzz-seeds).  Deterministic:
 * the same program writes the same bytes. */
#include <errno.h>
#include <gnutls/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "authmsg.h"
#include "authnmsg.h"
#include "chkmsg.h"
#include "ctlmsg.h"
#include "ctlproto.h"
#include "fuzz.h"
#include "idgate/module.h"
#include "proxy_msg.h"
#include "reqmsg.h"
#include "rlstate.h"
#include "session.h"
#include "spawnmsg.h"
#include "wire.h"

static const char *outdir;

/* ---------------------------------------------------------------- writing */

/* An input being written, in the format struct fz reads. */
struct fzw {
	uint8_t p[WIRE_MAX_FRAME + 64];
	size_t len;
};

static void w_bytes(struct fzw *w, const void *p, size_t n)
{
	if (w->len + n > sizeof(w->p)) {
		fprintf(stderr, "mkseeds: a seed over %zu bytes\n", sizeof(w->p));
		exit(1);
	}
	memcpy(w->p + w->len, p, n);
	w->len += n;
}

static void w_u8(struct fzw *w, uint8_t v)
{
	w_bytes(w, &v, 1);
}

static void w_u16(struct fzw *w, uint16_t v)
{
	w_u8(w, (uint8_t)(v >> 8));
	w_u8(w, (uint8_t)v);
}

static void w_u32(struct fzw *w, uint32_t v)
{
	w_u16(w, (uint16_t)(v >> 16));
	w_u16(w, (uint16_t)v);
}

static void w_u64(struct fzw *w, uint64_t v)
{
	w_u32(w, (uint32_t)(v >> 32));
	w_u32(w, (uint32_t)v);
}

/* A leg: 16-bit length, the bytes. */
static void w_leg(struct fzw *w, const void *p, size_t n)
{
	w_u16(w, (uint16_t)n);
	w_bytes(w, p, n);
}

static void w_str(struct fzw *w, const char *s)
{
	w_leg(w, s, strlen(s));
}

static void save(const char *target, const char *name, const struct fzw *w)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, target);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		goto fail;
	snprintf(path, sizeof(path), "%s/%s/gen-%s", outdir, target, name);
	f = fopen(path, "wb");
	if (!f || fwrite(w->p, 1, w->len, f) != w->len || fclose(f) != 0)
		goto fail;
	return;
fail:
	fprintf(stderr, "mkseeds: %s: %s\n", path, strerror(errno));
	exit(1);
}

/* fuzz_proto.h's frame: which, type, flags, descriptors, the payload; the
 * encoder's buffer is freed. */
static void save_frame(const char *target, const char *name, uint8_t which, uint16_t type,
		       uint16_t flags, uint8_t nfds, struct wbuf *b)
{
	struct fzw w = { .len = 0 };

	if (b->overflow) {
		fprintf(stderr, "mkseeds: %s/%s: over WIRE_MAX_PAYLOAD\n", target, name);
		exit(1);
	}
	w_u8(&w, which);
	w_u8(&w, (uint8_t)type);
	w_u16(&w, flags);
	w_u8(&w, nfds);
	w_bytes(&w, b->p, b->len);
	save(target, name, &w);
	wb_free(b);
}

/* ---------------------------------------------------------------- proto_req */

static void seeds_proto_req(void)
{
	static const char creds[] = "\x05\x04\x00\x0c delegated credentials";
	struct wire_hdr hdrs[] = { { "Accept", "*/*" }, { "User-Agent", "curl/7.88.1" },
				   { "X-Empty", "" } };
	struct wire_req q = { .vdir = 2, .method = "GET", .path = "/app/a b.txt", .query = "x=1",
			      .version = "HTTP/1.1", .request_id = "YWJjZGVm-1",
			      .client_addr = "192.0.2.7", .host = "gw.example.test",
			      .client_port = 50123, .tls = 1, .principal = "alice@EXAMPLE.TEST",
			      .user = "alice", .uid = 1000, .gid = 1000,
			      .level = IDG_LEVEL_DELEGATION, .auth_type = W_AUTH_NEGOTIATE,
			      .impersonate = 1, .creds = creds, .creds_len = sizeof(creds) - 1,
			      .hdrs = hdrs, .nhdrs = 3 };
	struct wire_resp r = { .status = 200, .length = 5, .reason = NULL, .body = "hello",
			       .body_len = 5, .hdrs = hdrs, .nhdrs = 1 };
	struct wbuf b;

	wb_init(&b);
	wire_req_encode(&b, &q);
	save_frame("proto_req", "req-head", 0, W_REQ_HEAD, 0, 0, &b);
	q = (struct wire_req){ .method = "POST", .path = "/", .query = "", .version = "HTTP/1.0",
			       .request_id = "r", .client_addr = "::1", .host = "",
			       .uid = (uint32_t)-1, .gid = (uint32_t)-1 };
	wb_init(&b);
	wire_req_encode(&b, &q);
	save_frame("proto_req", "req-head-anonymous", 0, W_REQ_HEAD, W_REQ_END_TOO, 0, &b);
	wb_init(&b);
	wire_resp_encode(&b, &r);
	save_frame("proto_req", "resp-head-inline", 1, W_RESP_HEAD,
		   W_RESP_INLINE | W_RESP_END_TOO, 0, &b);
	r = (struct wire_resp){ .status = 206, .length = 4096, .fd_offset = 512,
				.hdrs = hdrs, .nhdrs = 2 };
	wb_init(&b);
	wire_resp_encode(&b, &r);
	save_frame("proto_req", "resp-head-fd", 1, W_RESP_HEAD, W_RESP_FD | W_RESP_END_TOO, 1, &b);
	r = (struct wire_resp){ .status = 403, .length = WIRE_LEN_UNKNOWN,
				.reason = "static: permission denied" };
	wb_init(&b);
	wire_resp_encode(&b, &r);
	save_frame("proto_req", "resp-head-chunked", 1, W_RESP_HEAD, 0, 0, &b);
	wb_init(&b);
	reqm_resp_end_encode(&b, "cgi: the program was killed");
	save_frame("proto_req", "resp-end-error", 2, W_RESP_END, W_RESP_END_ERROR, 0, &b);
	wb_init(&b);
	reqm_resp_end_encode(&b, NULL);
	save_frame("proto_req", "resp-end", 2, W_RESP_END, 0, 0, &b);
	wb_init(&b);
	wb_bytes(&b, "body bytes", 10);
	save_frame("proto_req", "req-body", 3, W_REQ_BODY, 0, 0, &b);
	wb_init(&b);
	save_frame("proto_req", "req-end", 4, W_REQ_END, 0, 0, &b);
	wb_init(&b);
	save_frame("proto_req", "req-abort", 4, W_REQ_ABORT, 0, 0, &b);
	wb_init(&b);
	wb_bytes(&b, "response body", 13);
	save_frame("proto_req", "resp-body", 5, W_RESP_BODY, 0, 0, &b);
}

/* ---------------------------------------------------------------- proto_ctl */

static void seeds_proto_ctl(void)
{
	const struct ctlm_pool_load load[2] = { { 120, 3, 0 }, { 7, 1, 2 } };
	struct ctlm_channels ch = { .pool = 1, .tag = 42 };
	struct ctlm_pool_state st = { .pool = 0, .retry_after = 0, .state = CTL_STATE_SERVING,
				      .restarts = 2 };
	struct ctlm_pool_retire re = { .pool = 1, .tag = 41 };
	struct wbuf b;

	/* which: the decoder + 8 * the number of pools */
	wb_init(&b);
	ctlm_channels_encode(&b, &ch);
	save_frame("proto_ctl", "channels", 0 + 9 * 2, W_CTL_CHANNELS, 0, 3, &b);
	wb_init(&b);
	ctlm_pool_state_encode(&b, &st);
	save_frame("proto_ctl", "pool-state-serving", 1 + 9 * 1, W_CTL_POOL_STATE, 0, 0, &b);
	st = (struct ctlm_pool_state){ .pool = 2, .retry_after = 30, .state = CTL_STATE_DISABLED,
				       .restarts = 5 };
	wb_init(&b);
	ctlm_pool_state_encode(&b, &st);
	save_frame("proto_ctl", "pool-state-disabled", 1 + 9 * 3, W_CTL_POOL_STATE, 0, 0, &b);
	wb_init(&b);
	ctlm_pool_state_encode(&b, &st);
	save_frame("proto_ctl", "pool-state-made", 2 + 9 * 3, W_CTL_POOL_STATE, 0, 0, &b);
	wb_init(&b);
	ctlm_pool_retire_encode(&b, &re);
	save_frame("proto_ctl", "pool-retire", 3 + 9 * 2, W_CTL_POOL_RETIRE, 0, 0, &b);
	wb_init(&b);
	ctlm_stats_query_encode(&b, 9);
	save_frame("proto_ctl", "stats-query", 4, W_CTL_STATS_QUERY, 0, 0, &b);
	wb_init(&b);
	ctlm_stats_encode(&b, 9, load, 2);
	save_frame("proto_ctl", "stats", 5 + 9 * 2, W_CTL_STATS, 0, 0, &b);
	wb_init(&b);
	ctlm_logs_encode(&b, W_LOG_AUDIT | W_LOG_ACCESS);
	save_frame("proto_ctl", "logs-both", 6, W_CTL_LOGS, 0, 2, &b);
	wb_init(&b);
	ctlm_logs_encode(&b, W_LOG_ACCESS);
	save_frame("proto_ctl", "logs-access", 6, W_CTL_LOGS, 0, 1, &b);
	wb_init(&b);
	ctlm_authsock_encode(&b, 1);
	save_frame("proto_ctl", "authsock", 8 + 9 * 1, W_CTL_AUTHSOCK, 0, 1, &b);
	wb_init(&b);
	save_frame("proto_ctl", "pamsock", 7, W_CTL_PAMSOCK, 0, 1, &b);
	wb_init(&b);
	save_frame("proto_ctl", "ready", 7, W_CTL_READY, 0, 0, &b);
}

/* ---------------------------------------------------------------- proto_authn */

static void seeds_proto_authn(void)
{
	struct authn_request q = {
		.tag = 5, .conn_id = 0x100000007ull, .vdir = 2, .tls = 1, .request_id = "r1",
		.method = "GET", .path = "/app/x", .client = "192.0.2.7",
		.authorization = "Negotiate YIIBhgYGKwYBBQUCoIIBejCCAXag",
		.cookies = { "a=1", "idgate_session=AQID" }, .ncookies = 2,
	};
	struct authn_reply r = {
		.tag = 5, .status = 0, .outcome = M_AUTH_OK, .reason = "",
		.hdrs = { { "WWW-Authenticate", "Negotiate oRQwEqADCgEAoQsGCSqGSIb3EgECAg==" } },
		.nhdrs = 1, .principal = "alice@IDGATE.TEST", .user = "alice", .uid = 1000,
		.gid = 100, .level = 2, .scheme = AUTHN_SCHEME_NEGOTIATE, .groups_left_out = "",
		.verdict = "\x01verdict", .verdict_len = 8,
	};
	struct wbuf b;

	wb_init(&b);
	authn_request_encode(&b, &q);
	save_frame("proto_authn", "request", 0 + 4 * 3, W_AUTHN_REQ, 0, 0, &b);
	wb_init(&b);
	authn_reply_encode(&b, &r);
	save_frame("proto_authn", "reply", 1, W_AUTHN_REPLY, 0, 0, &b);
	r = (struct authn_reply){ .tag = 6, .status = 401, .outcome = M_AUTH_NO_CREDENTIALS,
				  .reason = "no credentials",
				  .hdrs = { { "WWW-Authenticate", "Negotiate" } }, .nhdrs = 1,
				  .groups_left_out = "" };
	wb_init(&b);
	authn_reply_encode(&b, &r);
	save_frame("proto_authn", "reply-401", 1, W_AUTHN_REPLY, 0, 0, &b);
	/* a session cookie's answer: the verdict to keep, and the cookie's digest */
	r = (struct authn_reply){ .tag = 7, .status = 0, .outcome = M_AUTH_SESSION, .reason = "",
				  .principal = "alice@IDGATE.TEST", .user = "alice", .uid = 1000,
				  .gid = 100, .level = 2, .scheme = AUTHN_SCHEME_NEGOTIATE_SESSION,
				  .groups_left_out = "", .verdict = "\x01verdict", .verdict_len = 8,
				  .conn_verdict = "\x01kept", .conn_verdict_len = 5,
				  .conn_expires_ms = 90000,
				  .session_digest = (const uint8_t *)"0123456789abcdef0123456789abcdef" };
	wb_init(&b);
	authn_reply_encode(&b, &r);
	save_frame("proto_authn", "reply-session", 1, W_AUTHN_REPLY, 0, 0, &b);
	wb_init(&b);
	authn_conn_end_encode(&b, 0x100000007ull);
	save_frame("proto_authn", "conn-end", 2, W_AUTHN_CONN_END, 0, 0, &b);
	/* (a real verdict's nonce is random: the seed is a head of one, with
	 * the version; the fuzzer's seals make real ones) */
	wb_init(&b);
	wb_bytes(&b, "\x01\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b", 13);
	save_frame("proto_authn", "verdict-head", 3, W_REQ_HEAD, 0, 0, &b);
}

/* ---------------------------------------------------------------- proto_auth */

static void seeds_proto_auth(void)
{
	struct authm_question q = { .op = W_AUTH_ACCT, .tag = 77, .user = "alice",
				    .rhost = "192.0.2.7" };
	struct authm_result r = { .tag = 77, .code = 0, .message = "Success" };
	struct wbuf b;

	wb_init(&b);
	authm_question_encode(&b, &q);
	save_frame("proto_auth", "acct", 0, W_AUTH_ACCT, 0, 0, &b);
	q = (struct authm_question){ .op = W_AUTH_PASS, .tag = 78, .user = "bob@AD.EXAMPLE.TEST",
				     .rhost = "2001:db8::1", .password = "correct horse" };
	wb_init(&b);
	authm_question_encode(&b, &q);
	save_frame("proto_auth", "pass", 0, W_AUTH_PASS, 0, 0, &b);
	wb_init(&b);
	authm_result_encode(&b, &r);
	save_frame("proto_auth", "result-ok", 1, W_AUTH_RESULT, 0, 0, &b);
	r = (struct authm_result){ .tag = 78, .code = 7,
				   .message = "Authentication failure" };
	wb_init(&b);
	authm_result_encode(&b, &r);
	save_frame("proto_auth", "result-denied", 1, W_AUTH_RESULT, 0, 0, &b);
	r = (struct authm_result){ .tag = 79, .code = AUTH_ANSWER_INVALID,
				   .message = "the PAM helper refused the question" };
	wb_init(&b);
	authm_result_encode(&b, &r);
	save_frame("proto_auth", "result-invalid", 1, W_AUTH_RESULT, 0, 0, &b);
}

/* ---------------------------------------------------------------- proto_spawn */

static void seeds_proto_spawn(void)
{
	/* fuzz_proto_spawn's pool: 990:990 with 991; callers 1000-60000, gid 100 */
	struct ident pool = { .uid = 990, .gid = 990, .groups = { 991 }, .ngroups = 1 };
	struct ident caller = { .uid = 1000, .gid = 1000, .groups = { 100, 1001 }, .ngroups = 2 };
	char *argv[] = { "/srv/cgi/app.cgi", NULL };
	char *envp[] = { "GATEWAY_INTERFACE=CGI/1.1", "REMOTE_USER=alice", "PATH_INFO=/x", NULL };
	struct wbuf b;

	wb_init(&b);
	spawnm_request_encode(&b, &pool, "/srv/cgi/app.cgi", "/srv/cgi", argv, envp);
	save_frame("proto_spawn", "spawn-pool", 0, W_SPAWN, 0, 4, &b);
	wb_init(&b);
	spawnm_request_encode(&b, &caller, "/srv/cgi/app.cgi", "/", argv, NULL);
	save_frame("proto_spawn", "spawn-caller-execfd", 0, W_SPAWN, 0, 5, &b);
	wb_init(&b);
	spawnm_started_encode(&b, 4242);
	save_frame("proto_spawn", "started", 1, W_SPAWN_STARTED, 0, 0, &b);
	wb_init(&b);
	spawnm_failed_encode(&b, EACCES, "execve");
	save_frame("proto_spawn", "failed", 1, W_SPAWN_FAILED, 0, 0, &b);
	wb_init(&b);
	spawnm_exited_encode(&b, 3 << 8);
	save_frame("proto_spawn", "exited-3", 2, W_SPAWN_EXITED, 0, 0, &b);
	wb_init(&b);
	spawnm_exited_encode(&b, 9 | 0x80);
	save_frame("proto_spawn", "killed-9-core", 2, W_SPAWN_EXITED, 0, 0, &b);
	wb_init(&b);
	save_frame("proto_spawn", "kill", 3, W_SPAWN_KILL, 0, 0, &b);
}

/* ---------------------------------------------------------------- proto_chk */

static void seeds_proto_chk(void)
{
	struct chkm_error e = { .vdir = 1, .key = "root", .message = "not a directory" };
	struct chkm_done d = { .vdir = 2, .passed = true, .flags = CHK_CREDS | CHK_S4U,
			       .target = "HTTP/backend.example.test@EXAMPLE.TEST" };
	struct wbuf b;

	/* which: the decoder + 4 * the number of vdirs */
	wb_init(&b);
	chkm_begin_encode(&b, 1);
	save_frame("proto_chk", "begin", 0 + 4 * 2, W_CHK_BEGIN, 0, 0, &b);
	wb_init(&b);
	chkm_error_encode(&b, &e);
	save_frame("proto_chk", "error", 1 + 4 * 2, W_CHK_ERROR, 0, 0, &b);
	e = (struct chkm_error){ .vdir = 0, .key = NULL, .message = "init() failed" };
	wb_init(&b);
	chkm_error_encode(&b, &e);
	save_frame("proto_chk", "error-vdir", 1 + 4 * 1, W_CHK_ERROR, 0, 0, &b);
	wb_init(&b);
	chkm_done_encode(&b, &d);
	save_frame("proto_chk", "done-s4u", 2 + 4 * 3, W_CHK_DONE, 0, 0, &b);
	d = (struct chkm_done){ .vdir = 0, .passed = false, .flags = 0, .target = "" };
	wb_init(&b);
	chkm_done_encode(&b, &d);
	save_frame("proto_chk", "done-failed", 2 + 4 * 1, W_CHK_DONE, 0, 0, &b);
	wb_init(&b);
	chkm_failed_encode(&b, "cannot fork the check child");
	save_frame("proto_chk", "failed", 3, W_CHK_FAILED, 0, 0, &b);
}

/* ---------------------------------------------------------------- ctlproto */

static void seeds_ctlproto(void)
{
	struct ctl_pool pools[2] = {
		{ .name = "default", .user = "idgate-pool", .state = CTL_STATE_SERVING,
		  .pid = 1234, .threads = 8, .since_s = 3600, .restarts = 1, .requests = 99,
		  .busy = 2, .queued = 0, .ndraining = 2, .draining = { 1100, 1101 } },
		{ .name = "users", .user = "root", .state = CTL_STATE_DISABLED, .impersonates = 1,
		  .requests = CTL_UNKNOWN },
	};
	struct ctl_status st = { .version = "1.0", .config = "/etc/idgate/idgate.conf",
				 .pid = 1, .frontend_pid = 2, .generation = 3, .uptime_s = 4,
				 .npools = 2, .pools = pools };
	static const uint16_t empty[] = { W_ADM_STATUS, W_ADM_RELOAD, W_ADM_CHECK, W_ADM_REOPEN };
	struct wbuf b;
	char name[32];

	for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
		wb_init(&b);
		snprintf(name, sizeof(name), "request-%u", empty[i]);
		save_frame("ctlproto", name, 0, empty[i], 0, 0, &b);
	}
	/* as ctl_request_send writes W_ADM_POOL */
	wb_init(&b);
	wb_u32(&b, CTL_POOL_RECYCLE);
	wb_str(&b, "default");
	save_frame("ctlproto", "request-pool", 0, W_ADM_POOL, 0, 0, &b);
	wb_init(&b);
	ctl_status_encode(&b, &st);
	save_frame("ctlproto", "status", 1, W_ADM_STATUS_REPLY, 0, 0, &b);
	/* as ctl_send_ok and ctl_send_error write them */
	wb_init(&b);
	wb_str(&b, "reloaded");
	wb_u32(&b, 200);
	wb_u32(&b, 100);
	save_frame("ctlproto", "ok", 2, W_ADM_OK, 0, 0, &b);
	wb_init(&b);
	wb_u32(&b, CTL_ERR_NO_POOL);
	wb_str(&b, "no pool 'x'");
	save_frame("ctlproto", "error", 3, W_ADM_ERROR, 0, 0, &b);
}

/* ---------------------------------------------------------------- wire */

/* fuzz_wire's mode 0: descriptors, buffer size, shutdown, the message. */
static void save_message(const char *name, uint8_t nfds, uint8_t cap, uint8_t shut,
			 uint16_t type, uint16_t flags, struct wbuf *b)
{
	struct fzw w = { .len = 0 };
	uint32_t len = (uint32_t)b->len;

	w_u8(&w, 0);
	w_u8(&w, nfds);
	w_u8(&w, cap);
	w_u8(&w, shut);
	/* the header as wire_send writes it: host order */
	w_bytes(&w, &type, 2);
	w_bytes(&w, &flags, 2);
	w_bytes(&w, &len, 4);
	w_bytes(&w, b->p, b->len);
	save("wire", name, &w);
	wb_free(b);
}

static void seeds_wire(void)
{
	struct ctlm_channels ch = { .pool = 0, .tag = 1 };
	struct fzw w = { .len = 0 };
	struct wbuf b;

	wb_init(&b);
	ctlm_channels_encode(&b, &ch);
	save_message("channels-16-fds", 16, 255, 0, W_CTL_CHANNELS, 0, &b);
	wb_init(&b);
	wb_bytes(&b, "0123456789abcdef", 16);
	save_message("body-small-buffer", 0, 0, 0, W_REQ_BODY, 0, &b);
	wb_init(&b);
	save_message("end-and-shutdown", 0, 255, 1, W_REQ_END, 0, &b);
	/* mode 1: u32, u64, str, bytes over what the encoder wrote */
	w_u8(&w, 1);
	w_leg(&w, "\x00\x01\x02\x03\x02", 5);
	wb_init(&b);
	wb_u32(&b, 7);
	wb_u64(&b, 8);
	wb_str(&b, "text");
	wb_blob(&b, "blob", 4);
	wb_str(&b, NULL);
	w_bytes(&w, b.p, b.len);
	wb_free(&b);
	save("wire", "primitives", &w);
}

/* ---------------------------------------------------------------- spool_meta, levels */

static void seeds_spool_meta(void)
{
	static const char *const plain[12] = {
		"20250102T030405.123456789Z-abc", "/orders", "YWJj-1", "POST", "/spool/orders",
		"/spool", "alice@EXAMPLE.TEST", "alice", "Negotiate", "192.0.2.7",
		"application/json", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	};
	static const char *const hostile[12] = {
		"1234", "/\xff\xfe", "\"\\\n", "P\x01ST", "/a\"b\\c\x7f", "/\xed\xa0\x80",
		"\xf4\x90\x80\x80@X", "\xc0\xaf", "\xe2\x82", "::1", "text/\t", ""
	};
	const char *const *sets[2] = { plain, hostile };
	const char *names[2] = { "plain", "hostile" };

	for (int k = 0; k < 2; k++) {
		struct fzw w = { .len = 0 };
		w_u32(&w, k ? 0x0800u | 40u << 16 : 0); /* which are NULL; room for the queue */
		w_u64(&w, 1735787045123456789ull);
		w_u32(&w, k ? 0xffffffffu : 1000);
		w_u32(&w, k ? 0xffffffffu : 1000);
		w_u8(&w, k ? 0 : IDG_LEVEL_IMPERSONATION);
		w_u32(&w, 50123);
		w_u32(&w, 17);
		for (int i = 0; i < 12; i++)
			w_str(&w, sets[k][i]);
		save("spool_meta", names[k], &w);
	}
}

static void seeds_levels(void)
{
	struct fzw w = { .len = 0 };

	w_u8(&w, IDG_LEVEL_DELEGATION);
	w_str(&w, " Impersonation ");
	w_str(&w, "identification, delegation");
	save("levels", "two-headers", &w);
	w.len = 0;
	w_u8(&w, IDG_LEVEL_IMPERSONATION);
	w_str(&w, "anonymous");
	w_str(&w, "bogus");
	save("levels", "one-bad", &w);
}

/* ---------------------------------------------------------------- session */

/* The cookies' nonces: a counter in place of GnuTLS's generator (this
 * program's definition is the one session.c's call binds to), so that the
 * same program seals the same bytes. */
int gnutls_rnd(gnutls_rnd_level_t level, void *data, size_t len)
{
	static uint8_t next;

	(void)level;
	memset(data, ++next, len);
	return 0;
}

static void save_cookie(const char *name, const struct session_keys *k,
			const struct session_scope *sc, const struct session_claims *c)
{
	char why[256], *v = session_seal(k, sc, c, why, sizeof(why));
	struct fzw w = { .len = 0 };

	if (!v) {
		fprintf(stderr, "mkseeds: session_seal: %s\n", why);
		exit(1);
	}
	w_u8(&w, 0);        /* open */
	w_u32(&w, 60);      /* a minute after FZ_SESSION_NOW */
	w_u32(&w, 36000);   /* session_lifetime 10h */
	w_u8(&w, 0);        /* our scope */
	w_bytes(&w, v, strlen(v));
	save("session", name, &w);
	free(v);
}

static void seeds_session(void)
{
	const struct session_scope sc = { FZ_SESSION_COOKIE, FZ_SESSION_VDIR };
	struct session_claims c = { .principal = "alice@EXAMPLE.TEST", .localname = "alice",
				    .level = IDG_LEVEL_IMPERSONATION, .issued = FZ_SESSION_NOW,
				    .expires = FZ_SESSION_NOW + 3600 };
	static const char cookies[] = "theme=dark; idg_session=AQID ;x=1;;  idg_session = b ; "
				      "theme=\"l\"";
	char why[256];
	struct session_keys *k = session_keys_parse(FZ_SESSION_KEYS, strlen(FZ_SESSION_KEYS), why,
						    sizeof(why));
	struct fzw w = { .len = 0 };

	if (!k) {
		fprintf(stderr, "mkseeds: session_keys_parse: %s\n", why);
		exit(1);
	}
	save_cookie("open-negotiate", k, &sc, &c);
	c = (struct session_claims){ .anonymous = true, .level = IDG_LEVEL_ANONYMOUS,
				     .issued = FZ_SESSION_NOW - 7200, .expires = FZ_SESSION_NOW };
	save_cookie("open-anonymous-expired", k, &sc, &c);
	c = (struct session_claims){ .principal = "bob", .localname = "bob", .basic = true,
				     .level = IDG_LEVEL_IDENTIFICATION,
				     .issued = FZ_SESSION_NOW + 3600,
				     .expires = FZ_SESSION_NOW + 7200 };
	save_cookie("open-basic-future", k, &sc, &c);
	session_keys_free(k);
	/* seal: flags, level + 1, issued, lifetime, principal, local name */
	w_u8(&w, 1);
	w_u8(&w, 1);
	w_u8(&w, IDG_LEVEL_DELEGATION + 1);
	w_u32(&w, 0);
	w_u32(&w, 3600);
	w_str(&w, "carol@EXAMPLE.TEST");
	w_str(&w, "carol");
	save("session", "seal", &w);
	/* the Cookie header: name, another name, the header */
	w.len = 0;
	w_u8(&w, 2);
	w_str(&w, FZ_SESSION_COOKIE);
	w_str(&w, "theme");
	w_bytes(&w, cookies, strlen(cookies));
	save("session", "cookie-header", &w);
	w.len = 0;
	w_u8(&w, 3);
	w_bytes(&w, FZ_SESSION_KEYS, strlen(FZ_SESSION_KEYS));
	w_bytes(&w, "  \t\r\n", 4);
	save("session", "key-file", &w);
}

/* ---------------------------------------------------------------- text after a head */

/* A seed of a target that reads a few bytes (head) and then text. */
struct text_seed {
	uint8_t head[10];
	size_t nhead;
	const char *text;
};

static void save_texts(const char *target, const char *prefix, const struct text_seed *t,
		       size_t n)
{
	char name[64];

	for (size_t i = 0; i < n; i++) {
		struct fzw w = { .len = 0 };
		w_bytes(&w, t[i].head, t[i].nhead);
		w_bytes(&w, t[i].text, strlen(t[i].text));
		snprintf(name, sizeof(name), "%s-%zu", prefix, i);
		save(target, name, &w);
	}
}

/* fuzz_static: mode 0, a size of 11 (u64, then a shift of 0) and a Range;
 * mode 1, weak or strong and an entity-tag list; mode 2 and a date. */
#define RANGE11 { 0, 0, 0, 0, 0, 0, 0, 0, 11, 0 }, 10
static void seeds_static(void)
{
	static const struct text_seed ranges[] = {
		{ RANGE11, "bytes=0-4" }, { RANGE11, "bytes=6-" }, { RANGE11, "bytes=-3" },
		{ RANGE11, "Bytes=5-100 " }, { RANGE11, "bytes=0-1,3-4" }, { RANGE11, "bytes=11-" },
	};
	static const struct text_seed lists[] = {
		{ { 1, 0 }, 2, "\"1a-2b-3c\"" }, { { 1, 1 }, 2, "W/\"x\", W/\"1a-2b-3c\"" },
		{ { 1, 0 }, 2, "*" }, { { 1, 1 }, 2, "\"a\",\"b\" ,  \"1a-2b-3c\"" },
	};
	static const struct text_seed dates[] = {
		{ { 2 }, 1, "Thu, 01 Jan 2026 00:00:00 GMT" },
		{ { 2 }, 1, "Sun, 29 Feb 2004 23:59:60 GMT" },
	};

	save_texts("static", "range", ranges, sizeof(ranges) / sizeof(ranges[0]));
	save_texts("static", "etags", lists, sizeof(lists) / sizeof(lists[0]));
	save_texts("static", "date", dates, sizeof(dates) / sizeof(dates[0]));
}

/* ---------------------------------------------------------------- handlers' requests */

/* fuzz_request.h's request: flags, method, path, query, Host, principal,
 * user, then header names and values. */
static void w_request(struct fzw *w, uint8_t flags, const char *const *fields,
		      const char *const *hdrs)
{
	w_u8(w, flags);
	for (int i = 0; i < 6; i++)
		w_str(w, fields[i]);
	for (size_t i = 0; hdrs[i]; i++)
		w_str(w, hdrs[i]);
}

static void seeds_requests(void)
{
	static const char *const alice[] = { "GET", "/app/a b/c.txt", "x=1&y=%41", "gw.example.test",
					     "alice@EXAMPLE.TEST", "alice" };
	static const char *const anon[] = { "POST", "/app", "", "[2001:db8::1]:8443", "", "" };
	static const char *const hdrs[] = {
		"Accept", "*/*", "Connection", "keep-alive, X-Drop", "X-Drop", "1",
		"X-Forwarded-For", "198.51.100.1", "Forwarded", "for=198.51.100.1",
		"X-Remote-User", "mallory", "X_Remote_User", "mallory", "Cookie", "a=1",
		"Authorization", "Negotiate YII", "Proxy", "http://evil/", "x-a", "1", "X-A", "2",
		NULL };
	static const char *const body[] = { "Content-Type", "text/plain", "Content-Length", "12",
					    "Transfer-Encoding", "chunked", NULL };
	struct fzw w = { .len = 0 };

	for (uint8_t how = 0; how < 4; how++) {
		char name[32];
		w.len = 0;
		w_u8(&w, (uint8_t)(how | how << 2 | 0x70));
		w_request(&w, (uint8_t)(how & 1 ? 1 | IDG_LEVEL_DELEGATION << 1 : 8), how & 2 ? anon : alice,
			  how & 1 ? body : hdrs);
		snprintf(name, sizeof(name), "request-%u", how);
		save("proxy_head", name, &w);
		w.len = 0;
		w_request(&w, (uint8_t)(how & 1 ? 1 | IDG_LEVEL_DELEGATION << 1 : 8), how & 2 ? anon : alice,
			  how & 1 ? body : hdrs);
		save("cgi_env", name, &w);
	}
}

/* fuzz_rlstate: one byte per event, the low bit for the channel's. */
static void seeds_rlstate(void)
{
	static const int chan[] = { RL_CH_EV_BIND, RL_CH_EV_HEAD, RL_CH_EV_BODY, RL_CH_EV_BODY,
				    RL_CH_EV_END_SENT, RL_CH_EV_END, RL_CH_EV_RELEASE,
				    RL_CH_EV_BIND, RL_CH_EV_UNUSED, RL_CH_EV_RELEASE, RL_CH_EV_DIE };
	static const int req[] = { RL_EV_QUEUE, RL_EV_BIND, RL_EV_HEAD_SENT, RL_EV_RESP_HEAD,
				   RL_EV_DISCARD, RL_EV_END_SENT, RL_EV_RESP_END, RL_EV_FAIL };
	struct fzw w = { .len = 0 };

	for (size_t i = 0; i < sizeof(chan) / sizeof(chan[0]); i++) {
		w_u8(&w, (uint8_t)(chan[i] * 2 + 1));
		if (i < sizeof(req) / sizeof(req[0]))
			w_u8(&w, (uint8_t)(req[i] * 2));
	}
	save("rlstate", "lifecycle", &w);
}

/* ---------------------------------------------------------------- confvalues */

static void seeds_confvalues(void)
{
	/* the mode (fuzz_confvalues), then the value */
	static const struct text_seed values[] = {
		{ { 0 }, 1, "64k" }, { { 0 }, 1, "10m" }, { { 0 }, 1, "1500ms" },
		{ { 0 }, 1, "18446744073709551615" }, { { 1 }, 1, "5/5m" },
		{ { 2 }, 1, "10.0.0.0/8, 2001:db8::/32 192.0.2.7" }, { { 2 }, 1, "::ffff:192.0.2.1/128" },
		{ { 3 }, 1, "http://[::1]:8080/api/v1/" }, { { 3 }, 1, "http://backend.example.test" },
		{ { 3 }, 1, "unix:/run/app.sock" }, { { 4 }, 1, PROXY_STRIP_DEFAULT }, { { 4 }, 1, "none" },
	};

	save_texts("confvalues", "value", values, sizeof(values) / sizeof(values[0]));
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: mkseeds DIR\n");
		return 2;
	}
	outdir = argv[1];
	seeds_proto_req();
	seeds_proto_ctl();
	seeds_proto_auth();
	seeds_proto_authn();
	seeds_proto_spawn();
	seeds_proto_chk();
	seeds_ctlproto();
	seeds_wire();
	seeds_spool_meta();
	seeds_levels();
	seeds_session();
	seeds_static();
	seeds_requests();
	seeds_rlstate();
	seeds_confvalues();
	return 0;
}
