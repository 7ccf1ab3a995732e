/* fuzz_proxy_chunked.c -- the proxy module's decoder of a backend's
 * chunked body (proxy_chunks_decode, proxy_msg.c).
 *
 * Input: a byte that sets how the body arrives (the size of the pieces and
 * of the output buffer), then the body.  Properties: the decoder's answer
 * does not depend on how the bytes arrive or how much room the output
 * has (the same data, the same end, the same error); it always makes
 * progress while it has input and room (proxy.c loops on it); it never
 * writes more than it read, nor past the room it was given. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "proxy_msg.h"

struct outcome {
	int result;      /* -1 malformed, 1 done, 0 wants more */
	size_t used;     /* input bytes consumed */
	char *data;
	size_t len;
};

/* Feed `in` in pieces of `step` bytes through an output of `room` bytes. */
static void decode(const char *in, size_t n, size_t step, size_t room, struct outcome *o)
{
	struct proxy_chunks ch = { 0 };
	char *out = malloc(room);

	o->data = malloc(n + 1);
	o->len = o->used = 0;
	o->result = 0;
	while (o->used < n && !ch.done) {
		size_t take = n - o->used < step ? n - o->used : step;
		size_t got = room;
		/* exactly `take` bytes: ASan sees a read past them */
		char *piece = malloc(take);
		memcpy(piece, in + o->used, take);
		ssize_t used = proxy_chunks_decode(&ch, piece, take, out, &got);
		free(piece);
		if (used < 0) {
			o->result = -1;
			break;
		}
		FZ_CHECK((size_t)used <= take && got <= room && got <= (size_t)used);
		FZ_CHECK(used > 0 || ch.done); /* progress, or proxy.c would spin */
		memcpy(o->data + o->len, out, got);
		o->len += got;
		o->used += (size_t)used;
	}
	if (o->result == 0 && ch.done)
		o->result = 1;
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz z = fz_init(data, size);
	uint8_t how = fz_u8(&z);
	size_t n;
	char *in = fz_rest(&z, &n);
	struct outcome whole, pieces;

	decode(in, n, n ? n : 1, n + 1, &whole);
	decode(in, n, 1 + how % 7, 1 + (how >> 3) % 17, &pieces);
	FZ_CHECK(whole.result == pieces.result);
	if (whole.result >= 0) {
		FZ_CHECK(whole.len == pieces.len);
		FZ_CHECK(memcmp(whole.data, pieces.data, whole.len) == 0);
		FZ_CHECK(whole.used == pieces.used);
	}
	free(whole.data);
	free(pieces.data);
	free(in);
	return 0;
}
