/* prototest.h -- the checks every codec of src/proto passes: a frame made
 * from a good encoding decodes, and every truncation, a trailing byte,
 * other flags, another type, and one descriptor more or fewer are refused.
 * The descriptors are numbers only: decoders count them, never use them. */
#ifndef IDGATE_PROTOTEST_H
#define IDGATE_PROTOTEST_H

#include <stdlib.h>
#include <string.h>

#include "wire.h"

typedef int (*proto_decoder)(const struct wire_frame *f, void *out);

static inline struct wire_frame proto_frame(uint16_t type, uint16_t flags, const void *p,
					    size_t len, size_t nfds)
{
	struct wire_frame f = { .type = type, .flags = flags, .len = (uint32_t)len,
				.payload = p, .nfds = nfds };

	for (size_t i = 0; i < nfds && i < WIRE_MAX_FDS; i++)
		f.fds[i] = 100 + (int)i;
	return f;
}

/* The frame decodes as it is, and every lie about its framing is refused
 * (for a message whose descriptor count varies, the caller checks it). */
static inline void proto_check_framing_fds(proto_decoder dec, void *out, uint16_t type,
					   uint16_t flags, const struct wbuf *b, size_t nfds,
					   bool fixed_fds)
{
	struct wire_frame f = proto_frame(type, flags, b->p, b->len, nfds);
	uint8_t *longer = calloc(1, b->len + 1);

	assert_false(b->overflow);
	assert_int_equal(dec(&f, out), 0);
	for (size_t n = 0; n < b->len; n++) {
		f = proto_frame(type, flags, b->p, n, nfds);
		assert_int_equal(dec(&f, out), -1);
	}
	memcpy(longer, b->p, b->len);
	f = proto_frame(type, flags, longer, b->len + 1, nfds);
	assert_int_equal(dec(&f, out), -1);
	free(longer);
	f = proto_frame(type, (uint16_t)(flags | 0x8000u), b->p, b->len, nfds);
	assert_int_equal(dec(&f, out), -1);
	f = proto_frame((uint16_t)(type | 0x4000u), flags, b->p, b->len, nfds);
	assert_int_equal(dec(&f, out), -1);
	if (fixed_fds && nfds < WIRE_MAX_FDS) {
		f = proto_frame(type, flags, b->p, b->len, nfds + 1);
		assert_int_equal(dec(&f, out), -1);
	}
	if (fixed_fds && nfds > 0) {
		f = proto_frame(type, flags, b->p, b->len, nfds - 1);
		assert_int_equal(dec(&f, out), -1);
	}
	/* and out holds the good decoding again, for the caller to look at */
	f = proto_frame(type, flags, b->p, b->len, nfds);
	assert_int_equal(dec(&f, out), 0);
}

static inline void proto_check_framing(proto_decoder dec, void *out, uint16_t type,
				       uint16_t flags, const struct wbuf *b, size_t nfds)
{
	proto_check_framing_fds(dec, out, type, flags, b, nfds, true);
}

/* Overwrite the u32 at byte `off` of a copy of b and decode that. */
static inline int proto_decode_with_u32(proto_decoder dec, void *out, uint16_t type,
					uint16_t flags, const struct wbuf *b, size_t nfds,
					size_t off, uint32_t v)
{
	uint8_t *copy = malloc(b->len);
	struct wire_frame f;
	int rc;

	memcpy(copy, b->p, b->len);
	memcpy(copy + off, &v, 4);
	f = proto_frame(type, flags, copy, b->len, nfds);
	rc = dec(&f, out);
	free(copy);
	return rc;
}

#endif
