/* spawnmsg.c -- see spawnmsg.h. */
#include "spawnmsg.h"

static void put_strings(struct wbuf *b, char *const *v)
{
	uint32_t n = 0;

	while (v && v[n])
		n++;
	wb_u32(b, n);
	for (uint32_t i = 0; i < n; i++)
		wb_str(b, v[i]);
}

void spawnm_request_encode(struct wbuf *b, const struct ident *as, const char *path,
			   const char *cwd, char *const *argv, char *const *envp)
{
	wb_u32(b, as->uid);
	wb_u32(b, as->gid);
	wb_u32(b, (uint32_t)as->ngroups);
	for (size_t i = 0; i < as->ngroups; i++)
		wb_u32(b, as->groups[i]);
	wb_str(b, path);
	wb_str(b, cwd);
	put_strings(b, argv);
	put_strings(b, envp);
}

/* A counted list of strings into out (NULL-terminated); its count or -1. */
static int read_strings(struct rbuf *r, char **out, uint32_t max)
{
	uint32_t n = rb_u32(r);

	if (r->bad || n > max)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		out[i] = (char *)rb_str(r);
		if (r->bad || !out[i])
			return -1;
	}
	out[n] = NULL;
	return (int)n;
}

int spawnm_request_decode(const struct wire_frame *f, struct spawnm_request *q)
{
	struct rbuf r;
	uint32_t n;

	if (f->type != W_SPAWN || f->flags || (f->nfds != SPAWNM_FDS && f->nfds != SPAWNM_FDS + 1))
		return -1;
	q->exec_fd = f->nfds == SPAWNM_FDS + 1;
	rb_init(&r, f->payload, f->len);
	q->as.uid = rb_u32(&r);
	q->as.gid = rb_u32(&r);
	n = rb_u32(&r);
	if (r.bad || n > IDENT_MAX_GROUPS)
		return -1;
	q->as.ngroups = n;
	for (uint32_t i = 0; i < n; i++)
		q->as.groups[i] = rb_u32(&r);
	q->path = rb_str(&r);
	q->cwd = rb_str(&r);
	if (read_strings(&r, q->argv, SPAWN_MAX_ARGS) < 1 ||
	    read_strings(&r, q->envp, SPAWN_MAX_ENV) < 0 || r.bad || r.left || !q->path || !q->cwd)
		return -1;
	return 0;
}

void spawnm_started_encode(struct wbuf *b, uint32_t pid)
{
	wb_u32(b, pid);
}

void spawnm_failed_encode(struct wbuf *b, uint32_t err, const char *step)
{
	wb_u32(b, err);
	wb_str(b, step);
}

int spawnm_answer_decode(const struct wire_frame *f, struct spawnm_answer *a)
{
	struct rbuf r;

	a->started = f->type == W_SPAWN_STARTED;
	if (!wire_frame_is(f, a->started ? W_SPAWN_STARTED : W_SPAWN_FAILED, 0))
		return -1;
	rb_init(&r, f->payload, f->len);
	if (a->started) {
		a->pid = rb_u32(&r);
		return r.bad || r.left || a->pid == 0 || a->pid > INT32_MAX ? -1 : 0;
	}
	a->err = rb_u32(&r);
	a->step = rb_str(&r);
	if (r.bad || r.left || !a->step || a->err == 0 || a->err > SPAWNM_MAX_ERRNO)
		return -1;
	return 0;
}

void spawnm_exited_encode(struct wbuf *b, uint32_t status)
{
	wb_u32(b, status);
}

/* What wait() says of a child that ended: an exit code in the second
 * byte, or a signal the kernel has (1 to SIGRTMAX, 64), maybe with the core
 * bit, in the first.  (0x7f there marks a stopped child, which WUNTRACED
 * alone reports: never an end.) */
static bool wait_status_ok(uint32_t st)
{
	uint32_t sig = st & 0x7f;

	if (st > 0xffff)
		return false;
	return (st & 0xff) == 0 || ((st >> 8) == 0 && sig >= 1 && sig <= SPAWNM_MAX_SIGNAL);
}

int spawnm_exited_decode(const struct wire_frame *f, uint32_t *status)
{
	struct rbuf r;

	if (!wire_frame_is(f, W_SPAWN_EXITED, 0))
		return -1;
	rb_init(&r, f->payload, f->len);
	*status = rb_u32(&r);
	return r.bad || r.left || !wait_status_ok(*status) ? -1 : 0;
}

int spawnm_kill_decode(const struct wire_frame *f)
{
	return wire_frame_is(f, W_SPAWN_KILL, 0) && f->len == 0 ? 0 : -1;
}
