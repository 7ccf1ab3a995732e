/* msgq.h -- frames for a peer that may stop reading, sent without ever
 * blocking the sender.
 *
 * A frame goes straight to the socket (non-blocking) while nothing
 * waits; when the socket is full it is queued here, with a copy of its
 * payload and duplicates of its descriptors, and later frames queue
 * behind it so that the peer sees them in order.  msgq_flush() sends what
 * the socket takes when it is writable again.  The queue is bounded in
 * frames and descriptors; what to do with a peer that stays stalled is
 * the owner's decision (msgq_idle_ms() says for how long it has not
 * taken anything). */
#ifndef IDGATE_MSGQ_H
#define IDGATE_MSGQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct msgq_frame;

struct msgq {
	struct msgq_frame *head, *tail;
	size_t n, nfds;
	size_t max_frames, max_fds;
	uint64_t progress_ms; /* when the peer last took a frame, or the queue began */
};

void msgq_init(struct msgq *q, size_t max_frames, size_t max_fds);
/* Send one frame (wire.h) on sock, or queue it.  0 sent, 1 queued (the
 * caller's fds stay the caller's), -1 with errno: EPIPE and the like
 * when the peer is gone, ENOBUFS when the queue is full, EMFILE when the
 * descriptors cannot be kept. */
int msgq_send(struct msgq *q, int sock, uint16_t type, const void *payload, size_t len,
	      const int *fds, size_t nfds);
/* Send queued frames while the socket takes them.  0 when nothing waits
 * any more, 1 while some still do, -1 with errno when the peer is gone
 * (the queue is then cleared). */
int msgq_flush(struct msgq *q, int sock);
bool msgq_pending(const struct msgq *q);
/* How long nothing was taken while frames wait; 0 when none wait. */
uint64_t msgq_idle_ms(const struct msgq *q, uint64_t now);
/* Drop every queued frame (closing its descriptors). */
void msgq_clear(struct msgq *q);

#endif
