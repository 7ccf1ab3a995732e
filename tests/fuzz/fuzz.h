/* fuzz.h -- what the libFuzzer targets share (tests/fuzz, docs/FUZZING.md).
 *
 * A target is one LLVMFuzzerTestOneInput over one parser.  Where the
 * parser takes several inputs, the fuzzer's bytes are cut into them with
 * struct fz: numbers (big-endian, 0 past the end) and legs -- a 16-bit
 * big-endian length, then as many bytes (or what is left).  A leg holds any
 * byte, so no value is out of the fuzzer's reach; mkseeds.c writes the
 * seeds in the same format (struct fzw). */
#ifndef IDGATE_FUZZ_H
#define IDGATE_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

struct fz {
	const uint8_t *p;
	size_t left;
};

static inline struct fz fz_init(const uint8_t *p, size_t n)
{
	return (struct fz){ p, n };
}

uint8_t fz_u8(struct fz *z);
uint16_t fz_u16(struct fz *z);
uint32_t fz_u32(struct fz *z);
uint64_t fz_u64(struct fz *z);
/* The next leg in a buffer of exactly its size (of 1 when empty), so that
 * AddressSanitizer sees a read past its end.  Caller frees. */
uint8_t *fz_leg(struct fz *z, size_t *len);
/* The next leg as a NUL-terminated string (which may hold NULs before its
 * end: *len, if len is not NULL).  Caller frees. */
char *fz_leg_str(struct fz *z, size_t *len);
/* All that is left, exactly (as fz_leg), or as a string (as fz_leg_str). */
uint8_t *fz_rest_exact(struct fz *z, size_t *len);
char *fz_rest(struct fz *z, size_t *len);

/* Does s point into p[0..len)? */
static inline bool fz_inside(const void *s, const void *p, size_t len)
{
	const uint8_t *a = s, *b = p;

	return a >= b && a < b + len;
}

/* A NUL-terminated string that starts and ends (its NUL included) in p[0..len). */
bool fz_str_inside(const char *s, const void *p, size_t len);

/* The bytes as a new NUL-terminated string. */
char *fz_copy(const uint8_t *p, size_t n);

/* A directory of this process's own, made once and removed at exit;
 * the only place a target may write. */
const char *fz_tmpdir(void);
/* Write text to a file of that directory (or abort). */
void fz_write_file(const char *name, const char *text);

/* abort() with a message: a broken property is a finding like a crash. */
__attribute__((noreturn, format(printf, 1, 2))) void fz_fail(const char *fmt, ...);
#define FZ_CHECK(cond)                                                                   \
	do {                                                                             \
		if (!(cond))                                                             \
			fz_fail("%s:%d: property broken: %s", __FILE__, __LINE__, #cond); \
	} while (0)

/* What fuzz_session and mkseeds.c share: the key file (two keys) and the
 * scope the seed cookies are sealed for. */
#define FZ_SESSION_KEYS                                                                  \
	"# two keys: the first seals\n"                                                  \
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"             \
	"f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f\n"
#define FZ_SESSION_COOKIE "idg_session"
#define FZ_SESSION_VDIR "/app"
#define FZ_SESSION_NOW 1767225600 /* 2026-01-01: the seed cookies' issue time */

#endif
