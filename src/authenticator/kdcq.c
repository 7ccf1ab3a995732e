/* kdcq.c -- see kdcq.h.  A question is a job: the loop queues it (todo),
 * a thread takes it, asks the KDC with a krb5 context of its own (a
 * context is not shared between threads), puts it in `done` and writes
 * the eventfd; the loop hands the answer to the waiting owner.  The owner
 * may go away (its request ended) or give up at the deadline before the
 * thread is done: the job's owner is then NULL and what the thread brings
 * back is wiped and freed.  Owners are touched by the loop only. */
#include "kdcq.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "negotiate.h"
#include "util.h"

struct job {
	struct pamq_wait *w;     /* NULL: forgotten */
	struct kdcq_answer *ans;
	gss_cred_id_t proxy;
	char *target;
	uint64_t deadline_ms;
	/* the thread's result */
	int status;
	char why[400];
	gss_buffer_desc blob;
	struct job *next;        /* in todo or done (locked), or in asked */
	struct job *anext;       /* in `asked` (the loop's), while it waits */
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t more;
	struct job *todo, *todo_tail, *done;
	unsigned threads;        /* started */
	unsigned outstanding;    /* the loop's: jobs asked and not yet back */
	int efd;
	struct job *asked;       /* the loop's: jobs whose owner waits */
} K = { .lock = PTHREAD_MUTEX_INITIALIZER, .more = PTHREAD_COND_INITIALIZER, .efd = -1 };

int kdcq_init(void)
{
	K.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return K.efd;
}

static void job_free(struct job *j)
{
	OM_uint32 minor;

	if (j->proxy != GSS_C_NO_CREDENTIAL)
		gss_release_cred(&minor, &j->proxy);
	if (j->blob.value) {
		explicit_bzero(j->blob.value, j->blob.length);
		gss_release_buffer(&minor, &j->blob);
	}
	free(j->target);
	free(j);
}

/* ---------------------------------------------------------------- threads */

static struct job *take_todo(void)
{
	struct job *j;

	pthread_mutex_lock(&K.lock);
	while (!K.todo)
		pthread_cond_wait(&K.more, &K.lock);
	j = K.todo;
	K.todo = j->next;
	if (!K.todo)
		K.todo_tail = NULL;
	pthread_mutex_unlock(&K.lock);
	return j;
}

static void put_done(struct job *j)
{
	uint64_t one = 1;

	pthread_mutex_lock(&K.lock);
	j->next = K.done;
	K.done = j;
	pthread_mutex_unlock(&K.lock);
	if (write(K.efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_msg(LOG_ERR, "kdc questions: eventfd: %m");
}

static void *kdc_thread(void *arg)
{
	krb5_context k = arg;
	OM_uint32 minor;

	for (;;) {
		struct job *j = take_todo();
		if (negotiate_s4u_ticket(k, j->proxy, j->target, &j->blob, j->why,
					 sizeof(j->why)) < 0)
			j->status = 502;
		gss_release_cred(&minor, &j->proxy);
		put_done(j);
	}
	return NULL;
}

/* One more thread, up to KDCQ_THREADS, when every one is busy: started
 * on demand (after the authenticator's drop, which needs a single
 * thread).  -1 with why when none runs at all. */
static int add_thread(char *why, size_t len)
{
	krb5_context k;
	pthread_t t;
	int err;

	if (K.threads >= KDCQ_THREADS)
		return 0;
	if ((err = krb5_init_context(&k)) != 0) {
		snprintf(why, len, "s4u2proxy: krb5_init_context: error %d", err);
		return K.threads ? 0 : -1;
	}
	if ((err = pthread_create(&t, NULL, kdc_thread, k)) != 0) {
		krb5_free_context(k);
		snprintf(why, len, "s4u2proxy: cannot start a thread: %s", strerror(err));
		return K.threads ? 0 : -1;
	}
	pthread_detach(t);
	K.threads++;
	return 0;
}

/* ---------------------------------------------------------------- the loop */

int kdcq_s4u(struct pamq_wait *w, struct kdcq_answer *ans, gss_cred_id_t proxy,
	     const char *target)
{
	OM_uint32 minor;
	struct job *j;

	memset(ans, 0, sizeof(*ans));
	if (K.outstanding >= K.threads && add_thread(ans->why, sizeof(ans->why)) < 0) {
		gss_release_cred(&minor, &proxy);
		ans->status = 502;
		return -1;
	}
	j = xcalloc(1, sizeof(*j));
	j->w = w;
	j->ans = ans;
	j->proxy = proxy;
	j->target = xstrdup(target);
	j->deadline_ms = now_ms() + KDCQ_TIMEOUT_MS;
	j->anext = K.asked;
	K.asked = j;
	K.outstanding++;
	w->pending = true;
	w->answered = false;
	pthread_mutex_lock(&K.lock);
	if (K.todo_tail)
		K.todo_tail->next = j;
	else
		K.todo = j;
	K.todo_tail = j;
	pthread_cond_signal(&K.more);
	pthread_mutex_unlock(&K.lock);
	return 0;
}

static void unlink_asked(struct job *j)
{
	for (struct job **pp = &K.asked; *pp; pp = &(*pp)->anext) {
		if (*pp == j) {
			*pp = j->anext;
			return;
		}
	}
}

/* The owner has its answer (or its 504) and is resumed; the job is no
 * longer its. */
static void answer_owner(struct job *j, int status, const char *why)
{
	struct pamq_wait *w = j->w;
	struct kdcq_answer *a = j->ans;

	unlink_asked(j);
	j->w = NULL;
	a->status = status;
	snprintf(a->why, sizeof(a->why), "%s", status ? why : "");
	if (status == 0) {
		a->blob = xmalloc(j->blob.length ? j->blob.length : 1);
		memcpy(a->blob, j->blob.value, j->blob.length);
		a->len = j->blob.length;
	}
	w->pending = false;
	w->answered = true;
	w->resume(w);
}

void kdcq_on_readable(void)
{
	uint64_t n;
	struct job *done;

	if (read(K.efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_msg(LOG_ERR, "kdc questions: eventfd: %m");
	pthread_mutex_lock(&K.lock);
	done = K.done;
	K.done = NULL;
	pthread_mutex_unlock(&K.lock);
	while (done) {
		struct job *j = done;
		done = j->next;
		if (j->w)
			answer_owner(j, j->status, j->why);
		job_free(j);
		K.outstanding--;
	}
}

void kdcq_forget(struct pamq_wait *w)
{
	for (struct job *j = K.asked; j; j = j->anext) {
		if (j->w == w) {
			unlink_asked(j);
			j->w = NULL; /* the thread's answer is thrown away */
			return;
		}
	}
}

int kdcq_run_timers(uint64_t now)
{
	char why[160];
	int next = -1;

	for (struct job *j = K.asked, *after; j; j = after) {
		after = j->anext;
		if (now >= j->deadline_ms) {
			snprintf(why, sizeof(why), "s4u2proxy: the KDC did not answer within %u s",
				 KDCQ_TIMEOUT_MS / 1000);
			answer_owner(j, 504, why); /* the job stays the thread's */
		} else if (next < 0 || j->deadline_ms - now < (uint64_t)next) {
			next = (int)(j->deadline_ms - now);
		}
	}
	return next;
}
