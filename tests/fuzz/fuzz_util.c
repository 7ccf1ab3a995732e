/* fuzz_util.c -- see fuzz.h. */
#include "fuzz.h"

#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

uint8_t fz_u8(struct fz *z)
{
	if (!z->left)
		return 0;
	z->left--;
	return *z->p++;
}

uint16_t fz_u16(struct fz *z)
{
	uint16_t v = fz_u8(z);

	return (uint16_t)(v << 8 | fz_u8(z));
}

uint32_t fz_u32(struct fz *z)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v = v << 8 | fz_u8(z);
	return v;
}

uint64_t fz_u64(struct fz *z)
{
	uint64_t v = fz_u32(z);

	return v << 32 | fz_u32(z);
}

static void *xmalloc_or_abort(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		abort();
	return p;
}

char *fz_copy(const uint8_t *p, size_t n)
{
	char *s = xmalloc_or_abort(n + 1);

	if (n)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

/* How long the next leg is; the bytes stay where they are. */
static size_t leg_len(struct fz *z)
{
	size_t n = fz_u16(z);

	return n > z->left ? z->left : n;
}

static void skip(struct fz *z, size_t n)
{
	z->p += n;
	z->left -= n;
}

uint8_t *fz_leg(struct fz *z, size_t *len)
{
	size_t n = leg_len(z);
	uint8_t *p = xmalloc_or_abort(n);

	if (n)
		memcpy(p, z->p, n);
	skip(z, n);
	*len = n;
	return p;
}

char *fz_leg_str(struct fz *z, size_t *len)
{
	size_t n = leg_len(z);
	char *s = fz_copy(z->p, n);

	skip(z, n);
	if (len)
		*len = n;
	return s;
}

uint8_t *fz_rest_exact(struct fz *z, size_t *len)
{
	uint8_t *p = xmalloc_or_abort(z->left);

	if (z->left)
		memcpy(p, z->p, z->left);
	*len = z->left;
	skip(z, z->left);
	return p;
}

char *fz_rest(struct fz *z, size_t *len)
{
	char *s = fz_copy(z->p, z->left);

	if (len)
		*len = z->left;
	skip(z, z->left);
	return s;
}

bool fz_str_inside(const char *s, const void *p, size_t len)
{
	const char *end = (const char *)p + len;

	return fz_inside(s, p, len) && memchr(s, '\0', (size_t)(end - s)) != NULL;
}

static char tmpdir[4096];

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void remove_tmpdir(void)
{
	if (tmpdir[0])
		nftw(tmpdir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fz_tmpdir(void)
{
	const char *base = getenv("TMPDIR");

	if (tmpdir[0])
		return tmpdir;
	snprintf(tmpdir, sizeof(tmpdir), "%s/idgate-fuzz-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror(tmpdir);
		abort();
	}
	atexit(remove_tmpdir);
	return tmpdir;
}

void fz_write_file(const char *name, const char *text)
{
	char path[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", fz_tmpdir(), name);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		fz_fail("cannot write %s", path);
}

void fz_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}
