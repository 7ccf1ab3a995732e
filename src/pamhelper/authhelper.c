/* authhelper.c -- PAM, and only PAM.
 *
 * pam_unix cannot check another user's shadow entry from an unprivileged
 * process (unix_chkpwd refuses other users), so account checks must run
 * with privilege; but the network-facing process must have none.  As in
 * OpenSSH's monitor, a privileged process answers exactly the questions
 * the protocol allows, and checks every field of every question.
 *
 * Several threads take requests from the one SEQPACKET socket (each
 * recv() takes one whole message), so one slow PAM stack does not stall
 * the others.  PAM's failure delay is disabled: it would hold one of
 * these threads; the authenticator delays failed Basic answers itself, without
 * holding anything (throttle.h).  A question the helper refuses (a name
 * that is not a user name, a field out of bounds) gets the answer
 * AUTH_ANSWER_INVALID: the helper never exits on a question.
 *
 * Peers: what it accepts from each (a malformed question or one out of
 * bounds: answered invalid, or dropped and logged when it has no tag; a
 * message of any other type: logged, and the helper exits -- it drops its
 * only peer; the supervisor starts a new helper)
 *   authenticator  AUTH_ACCT, AUTH_PASS (valid user names only)
 * It answers AUTH_RESULT and sends the supervisor READY.  */
#include "authhelper.h"

#include <errno.h>
#include <pthread.h>
#include <security/pam_appl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "config.h"
#include "ctlmsg.h"
#include "log.h"
#include "peers.h"
#include "privsep.h"
#include "util.h"
#include "wire.h"

#define HELPER_THREADS 4

struct question {
	struct authm_question m;
	bool has_tag;
};

static const uint16_t from_frontend[] = { W_AUTH_ACCT, W_AUTH_PASS };
static const struct peer_table frontend_peer = PEER_TABLE("authenticator", from_frontend);

struct conv_data {
	const char *user, *password;
	char message[200]; /* the last error or info text a module gave */
};

static const struct config *cfg;
static int auth_sock;

static bool ascii_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* The length of the LOCAL part at the start of s, or 0 if there is none. */
static size_t local_part(const char *s)
{
	size_t i = 0;
	bool digits_only = true;

	if (!ascii_alnum(s[0]) && s[0] != '_')
		return 0;
	for (; ascii_alnum(s[i]) || s[i] == '_' || s[i] == '.' || s[i] == '-'; i++)
		digits_only = digits_only && s[i] >= '0' && s[i] <= '9';
	if (s[i] == '$') {
		i++;
		digits_only = false;
	}
	return digits_only ? 0 : i;
}

static bool domain_ok(const char *s)
{
	if (!ascii_alnum(*s))
		return false;
	for (; *s; s++)
		if (!ascii_alnum(*s) && *s != '.' && *s != '-')
			return false;
	return true;
}

bool auth_user_name_ok(const char *s)
{
	size_t n = strnlen(s, AUTH_MAX_USER + 1), local;

	if (n == 0 || n > AUTH_MAX_USER)
		return false;
	local = local_part(s);
	if (local == 0)
		return false;
	return s[local] == '\0' || (s[local] == '@' && domain_ok(s + local + 1));
}

static int conversation(int n, const struct pam_message **msg, struct pam_response **resp,
			void *arg)
{
	struct conv_data *cd = arg;
	struct pam_response *r = calloc((size_t)n, sizeof(*r));

	if (!r)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
			if (!cd->password)
				goto fail; /* an account check never gives a password */
			r[i].resp = strdup(cd->password);
			break;
		case PAM_PROMPT_ECHO_ON:
			r[i].resp = strdup(cd->user);
			break;
		case PAM_ERROR_MSG:
		case PAM_TEXT_INFO:
			snprintf(cd->message, sizeof(cd->message), "%s", msg[i]->msg);
			break;
		default:
			goto fail;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
fail:
	for (int i = 0; i < n; i++) {
		if (r[i].resp) {
			explicit_bzero(r[i].resp, strlen(r[i].resp));
			free(r[i].resp);
		}
	}
	free(r);
	return PAM_CONV_ERR;
}

static void no_delay(int retval, unsigned usec_delay, void *arg)
{
	(void)retval;
	(void)usec_delay;
	(void)arg;
}

static int ask_pam(const struct question *q, char *message, size_t len)
{
	struct conv_data cd = { .user = q->m.user, .password = q->m.password };
	struct pam_conv conv = { conversation, &cd };
	pam_handle_t *pamh = NULL;
	int rc;

	rc = pam_start(cfg->server.pam_service, q->m.user, &conv, &pamh);
	if (rc != PAM_SUCCESS) {
		snprintf(message, len, "pam_start: %s", pam_strerror(NULL, rc));
		return rc;
	}
	pam_set_item(pamh, PAM_FAIL_DELAY, (const void *)no_delay);
	if (*q->m.rhost)
		pam_set_item(pamh, PAM_RHOST, q->m.rhost);
	pam_set_item(pamh, PAM_TTY, "http");
	if (q->m.op == W_AUTH_PASS)
		rc = pam_authenticate(pamh, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
	if (rc == PAM_SUCCESS)
		rc = pam_acct_mgmt(pamh, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
	snprintf(message, len, "%s%s%s", pam_strerror(pamh, rc), cd.message[0] ? ": " : "",
		 cd.message);
	pam_end(pamh, rc);
	return rc;
}

const char *authhelper_read_question(const struct wire_frame *f, struct authm_question *q,
				     bool *has_tag)
{
	if (authm_question_decode(f, q, has_tag) < 0)
		return f->nfds ? "descriptor attached" : "malformed message";
	if (!auth_user_name_ok(q->user))
		return "not a valid user name";
	if (strlen(q->rhost) > AUTH_MAX_RHOST ||
	    (q->password && strlen(q->password) > AUTH_MAX_PASSWORD))
		return "field out of bounds";
	return NULL;
}

static void answer(uint64_t tag, int code, const char *message)
{
	struct authm_result m = { .tag = tag, .code = code, .message = message };
	struct wbuf b;

	wb_init(&b);
	authm_result_encode(&b, &m);
	if (wire_send(auth_sock, W_AUTH_RESULT, 0, b.p, b.len, NULL, 0, 0) < 0)
		log_msg(LOG_ERR, "cannot answer the authenticator: %m");
	wb_free(&b);
}

/* One question, answered: by PAM, or AUTH_ANSWER_INVALID when it is
 * refused.  A refusal never stops the helper: it serves every caller, and
 * one odd name must not cost the others their answers. */
static void serve_one(struct wire_frame *f, char *message, size_t len)
{
	struct question q = { .has_tag = false };
	const char *bad = authhelper_read_question(f, &q.m, &q.has_tag);
	int code;

	wire_close_fds(f); /* none is expected: a question with one is refused */
	if (bad) {
		log_msg(LOG_WARNING, "refused a question from the authenticator: %s", bad);
		if (!q.has_tag)
			return;
		snprintf(message, len, "the PAM helper refused the question: %s", bad);
		code = AUTH_ANSWER_INVALID;
	} else {
		code = ask_pam(&q, message, len);
	}
	answer(q.m.tag, code, message);
}

static void *serve(void *arg)
{
	uint8_t *buf = xmalloc(WIRE_MAX_FRAME);
	struct wire_frame f;
	char message[300];

	(void)arg;
	for (;;) {
		int rc = wire_recv(auth_sock, buf, &f, 0);
		if (rc == 0 || (rc < 0 && errno != EPROTO))
			_exit(0); /* the authenticator is gone */
		if (rc < 0) {
			log_msg(LOG_WARNING, "refused a malformed frame from the authenticator");
			continue;
		}
		if (!peer_accepts(&frontend_peer, f.type)) {
			log_msg(LOG_ERR, "the authenticator broke the protocol: unexpected message %s; "
				"exiting", peer_type_name(f.type, message, sizeof(message)));
			_exit(2);
		}
		serve_one(&f, message, sizeof(message));
		explicit_bzero(buf, WIRE_MAX_FRAME); /* it held a password */
	}
	return NULL;
}

void authhelper_main(const struct config *c, int sock, int ctl)
{
	pthread_t t[HELPER_THREADS];
	sigset_t set;
	int sig;

	static const int keep[] = { CAP_AUDIT_WRITE }; /* PAM writes audit records */
	char err[256];

	log_set_role("auth");
	prctl(PR_SET_NAME, "idgate-pam", 0, 0, 0);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); /* it sees passwords */
	/* uid 0 stays (pam_unix reads the root-owned shadow file and checks
	 * geteuid()), but not the power of root: every other capability goes */
	if (privsep_privileged() && privsep_keep_caps(keep, 1, err, sizeof(err)) < 0)
		die("cannot drop capabilities: %s", err);
	cfg = c;
	auth_sock = sock;
	block_child_signals(&set);
	for (int i = 0; i < HELPER_THREADS; i++)
		if (pthread_create(&t[i], NULL, serve, NULL) != 0)
			die("cannot start a thread");
	if (ctlm_send_ready(ctl) < 0)
		die("cannot report readiness: %m");
	while (sigwait(&set, &sig) != 0 || sig == SIGHUP)
		;
	exit(0);
}
