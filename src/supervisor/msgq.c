/* msgq.c -- see msgq.h. */
#include "msgq.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"
#include "wire.h"

struct msgq_frame {
	uint16_t type;
	uint8_t *payload;
	size_t len;
	int fds[WIRE_MAX_FDS];
	size_t nfds;
	struct msgq_frame *next;
};

void msgq_init(struct msgq *q, size_t max_frames, size_t max_fds)
{
	memset(q, 0, sizeof(*q));
	q->max_frames = max_frames;
	q->max_fds = max_fds;
}

static void frame_free(struct msgq_frame *f)
{
	for (size_t i = 0; i < f->nfds; i++)
		close(f->fds[i]);
	free(f->payload);
	free(f);
}

/* A copy of the frame, its descriptors duplicated.  NULL with errno. */
static struct msgq_frame *frame_copy(uint16_t type, const void *payload, size_t len,
				     const int *fds, size_t nfds)
{
	struct msgq_frame *f = xcalloc(1, sizeof(*f));

	f->type = type;
	f->len = len;
	f->payload = xmalloc(len ? len : 1);
	if (len)
		memcpy(f->payload, payload, len);
	for (; f->nfds < nfds; f->nfds++) {
		f->fds[f->nfds] = fcntl(fds[f->nfds], F_DUPFD_CLOEXEC, 3);
		if (f->fds[f->nfds] < 0) {
			int e = errno;
			frame_free(f);
			errno = e;
			return NULL;
		}
	}
	return f;
}

static int enqueue(struct msgq *q, uint16_t type, const void *payload, size_t len,
		   const int *fds, size_t nfds)
{
	struct msgq_frame *f;

	if (len > WIRE_MAX_PAYLOAD || nfds > WIRE_MAX_FDS) {
		errno = EMSGSIZE;
		return -1;
	}
	if (q->n >= q->max_frames || q->nfds + nfds > q->max_fds) {
		errno = ENOBUFS;
		return -1;
	}
	f = frame_copy(type, payload, len, fds, nfds);
	if (!f)
		return -1;
	if (!q->head)
		q->progress_ms = now_ms();
	if (q->tail)
		q->tail->next = f;
	else
		q->head = f;
	q->tail = f;
	q->n++;
	q->nfds += nfds;
	return 1;
}

int msgq_send(struct msgq *q, int sock, uint16_t type, const void *payload, size_t len,
	      const int *fds, size_t nfds)
{
	if (!q->head) {
		if (wire_send(sock, type, 0, payload, len, fds, nfds, MSG_DONTWAIT) == 0)
			return 0;
		if (errno != EAGAIN)
			return -1;
	}
	return enqueue(q, type, payload, len, fds, nfds);
}

int msgq_flush(struct msgq *q, int sock)
{
	while (q->head) {
		struct msgq_frame *f = q->head;
		if (wire_send(sock, f->type, 0, f->payload, f->len, f->fds, f->nfds,
			      MSG_DONTWAIT) < 0) {
			if (errno == EAGAIN)
				return 1;
			int e = errno;
			msgq_clear(q);
			errno = e;
			return -1;
		}
		q->head = f->next;
		if (!q->head)
			q->tail = NULL;
		q->n--;
		q->nfds -= f->nfds;
		q->progress_ms = now_ms();
		frame_free(f);
	}
	return 0;
}

bool msgq_pending(const struct msgq *q)
{
	return q->head != NULL;
}

uint64_t msgq_idle_ms(const struct msgq *q, uint64_t now)
{
	return q->head && now > q->progress_ms ? now - q->progress_ms : 0;
}

void msgq_clear(struct msgq *q)
{
	while (q->head) {
		struct msgq_frame *f = q->head;
		q->head = f->next;
		frame_free(f);
	}
	q->tail = NULL;
	q->n = q->nfds = 0;
}
