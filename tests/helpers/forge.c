/* forge.c -- see forge.h.  X-Forge values:
 *   replay        send the last remembered head again, byte for byte
 *   swap          this head, with the last remembered verdict
 *   path=P        this head and verdict, with path P
 *   method=M      ... with method M
 *   digest        ... with another Authorization digest
 *   conn          ... with another connection id
 *   runas         ... with the run-as flag turned over
 *   none          ... without the verdict
 *   random        ... with random bytes for the verdict (but its version)
 *   flip          ... with one bit of the verdict flipped
 *   selfseal      ... with a verdict made here, naming `alice` at the
 *                 delegation level, sealed with a key of our own */
#include "forge.h"

#include <microhttpd.h>
#include <pthread.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "idgate/module.h"
#include "util.h"
#include "verdict.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t *saved_head, *saved_verdict;
static size_t saved_head_len, saved_verdict_len;

static void remember(const struct wire_req *q, const struct wbuf *b)
{
	if (!q->verdict)
		return;
	pthread_mutex_lock(&lock);
	free(saved_head);
	free(saved_verdict);
	saved_head = xmalloc(b->len);
	memcpy(saved_head, b->p, b->len);
	saved_head_len = b->len;
	saved_verdict = xmalloc(q->verdict_len);
	memcpy(saved_verdict, q->verdict, q->verdict_len);
	saved_verdict_len = q->verdict_len;
	pthread_mutex_unlock(&lock);
}

static void self_seal(struct wire_req *q, struct wbuf *v)
{
	uint8_t key[VERDICT_KEY_LEN];
	struct passwd *pw = getpwnam("alice");
	struct verdict vd = {
		.kind = VERDICT_REQUEST, .vdir = q->vdir, .conn_id = q->conn_id,
		.request_id = q->request_id, .method = q->method, .path = q->path,
		.principal = "alice@IDGATE.TEST", .user = "alice",
		.uid = pw ? pw->pw_uid : 1000, .gid = pw ? pw->pw_gid : 1000,
		.level = IDG_LEVEL_DELEGATION, .auth_type = W_AUTH_NEGOTIATE,
	};

	memcpy(vd.authz_digest, q->authz_digest, VERDICT_DIGEST_LEN);
	vd.issued_ms = now_ms();
	vd.expires_ms = vd.issued_ms + 10000;
	if (getrandom(key, sizeof(key), 0) != sizeof(key) || verdict_new_id(&vd) < 0 ||
	    verdict_seal(key, &vd, v) < 0)
		abort();
	q->verdict = v->p;
	q->verdict_len = v->len;
}

/* A copy of the verdict to change (freed by the caller). */
static uint8_t *own_copy(struct wire_req *q)
{
	uint8_t *c = xmalloc(q->verdict_len ? q->verdict_len : 1);

	memcpy(c, q->verdict, q->verdict_len);
	q->verdict = c;
	return c;
}

static void tamper(const char *mode, struct wire_req *q, struct wbuf *tmp, uint8_t **own)
{
	if (strcmp(mode, "swap") == 0) {
		q->verdict = saved_verdict;
		q->verdict_len = saved_verdict_len;
	} else if (str_has_prefix(mode, "path=")) {
		q->path = mode + 5;
	} else if (str_has_prefix(mode, "method=")) {
		q->method = mode + 7;
	} else if (strcmp(mode, "digest") == 0) {
		q->authz_digest[0] ^= 1;
	} else if (strcmp(mode, "conn") == 0) {
		q->conn_id ^= 1;
	} else if (strcmp(mode, "runas") == 0) {
		q->impersonate ^= 1;
	} else if (strcmp(mode, "none") == 0) {
		q->verdict = NULL;
		q->verdict_len = 0;
	} else if (strcmp(mode, "random") == 0 && q->verdict) {
		*own = own_copy(q); /* all but the version byte */
		if (getrandom(*own + 1, q->verdict_len - 1, 0) != (ssize_t)q->verdict_len - 1)
			abort();
	} else if (strcmp(mode, "flip") == 0 && q->verdict) {
		*own = own_copy(q);
		(*own)[q->verdict_len / 2] ^= 0x10;
	} else if (strcmp(mode, "selfseal") == 0) {
		self_seal(q, tmp);
	}
}

void forge_head(struct MHD_Connection *conn, struct wire_req *q, struct wbuf *b)
{
	const char *mode = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Forge");
	struct wbuf tmp = { 0 };
	uint8_t *own = NULL;

	if (!mode) {
		wire_req_encode(b, q);
		remember(q, b);
		return;
	}
	pthread_mutex_lock(&lock);
	if (strcmp(mode, "replay") == 0 && saved_head) {
		wb_bytes(b, saved_head, saved_head_len);
	} else {
		tamper(mode, q, &tmp, &own);
		wire_req_encode(b, q);
	}
	pthread_mutex_unlock(&lock);
	free(own);
	wb_free(&tmp);
}
