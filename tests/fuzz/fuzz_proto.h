/* fuzz_proto.h -- what the targets of src/proto's codecs share.
 *
 * Their input is one frame as the receiver sees it after wire_recv():
 *   u8 which decoder, u8 type, u16 flags, u8 descriptor count, the payload
 * (the rest, in a buffer of exactly its size).  The type, flags and count
 * are the fuzzer's, not the decoder's, so that every decoder is also fed
 * frames of the wrong kind.  The descriptors are numbers only: decoders
 * count them and never use them.  mkseeds.c writes frames of every message
 * with the real encoders. */
#ifndef IDGATE_FUZZ_PROTO_H
#define IDGATE_FUZZ_PROTO_H

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "wire.h"

struct fzp {
	uint8_t which;
	struct wire_frame f;
	uint8_t *buf; /* the payload, freed by fzp_free */
};

static inline void fzp_read(struct fzp *m, const uint8_t *data, size_t size)
{
	struct fz z = fz_init(data, size);
	size_t len;

	memset(m, 0, sizeof(*m));
	m->which = fz_u8(&z);
	m->f.type = fz_u8(&z);
	m->f.flags = fz_u16(&z);
	m->f.nfds = fz_u8(&z) % (WIRE_MAX_FDS + 1);
	for (size_t i = 0; i < m->f.nfds; i++)
		m->f.fds[i] = 100 + (int)i;
	m->buf = fz_rest_exact(&z, &len);
	m->f.payload = m->buf;
	m->f.len = (uint32_t)len;
}

static inline void fzp_free(struct fzp *m)
{
	free(m->buf);
}

/* An accepted frame had the type the decoder is for, flags among those
 * allowed, and as many descriptors as it says. */
static inline bool fzp_frame_is(const struct wire_frame *f, uint16_t type, uint16_t flags_allowed,
				size_t nfds)
{
	return f->type == type && !(f->flags & ~flags_allowed) && f->nfds == nfds;
}

/* What the encoder wrote is exactly the payload it was decoded from: the
 * encoding has one form, and the decoder neither skipped nor left anything. */
static inline void fzp_same(struct wbuf *b, const struct wire_frame *f)
{
	FZ_CHECK(!b->overflow && b->len == f->len);
	FZ_CHECK(b->len == 0 || memcmp(b->p, f->payload, b->len) == 0);
	wb_free(b);
}

/* One decoder's check: the frame, and which / the number of checks (the
 * target's own use: a count of pools or vdirs). */
typedef void (*fzp_check)(const struct wire_frame *f, unsigned more);

/* A target's LLVMFuzzerTestOneInput: which % n picks the check. */
static inline int fzp_run(const uint8_t *data, size_t size, const fzp_check *checks, size_t n)
{
	struct fzp m;

	fzp_read(&m, data, size);
	checks[m.which % n](&m.f, (unsigned)(m.which / n));
	fzp_free(&m);
	return 0;
}

/* A string the decoder returned lies in the payload, NUL and all. */
#define FZP_IN(f, s) FZ_CHECK(fz_str_inside((s), (f)->payload, (f)->len))
/* ... or is NULL. */
#define FZP_IN_OR_NULL(f, s) FZ_CHECK(!(s) || fz_str_inside((s), (f)->payload, (f)->len))

#endif
