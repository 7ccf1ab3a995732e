/* base64.c -- tokens and Basic credentials arrive base64-encoded from the
 * network: decode strictly, so one value has exactly one encoding. */
#include "base64.h"

#include <stdbool.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *base64_encode(const void *p, size_t n)
{
	const unsigned char *s = p;
	char *out = xmalloc((n + 2) / 3 * 4 + 1), *o = out;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		*o++ = alphabet[(v >> 18) & 63];
		*o++ = alphabet[(v >> 12) & 63];
		*o++ = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
		*o++ = i + 2 < n ? alphabet[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

/* 0..63 for alphabet characters, -1 for everything else. */
static signed char values[256];
static pthread_once_t values_once = PTHREAD_ONCE_INIT;

static void fill_values(void)
{
	memset(values, -1, sizeof(values));
	for (int i = 0; i < 64; i++)
		values[(unsigned char)alphabet[i]] = (signed char)i;
}

static int value_of(char c)
{
	return values[(unsigned char)c];
}

unsigned char *base64_decode(const char *s, size_t *n)
{
	size_t len = strlen(s), pad = 0, o = 0;
	unsigned char *out;

	pthread_once(&values_once, fill_values);
	if (len == 0 || len % 4 != 0)
		return NULL;
	if (s[len - 1] == '=')
		pad++;
	if (s[len - 2] == '=')
		pad++;
	out = xmalloc(len / 4 * 3 + 1);
	for (size_t i = 0; i < len; i += 4) {
		int v[4];
		bool last = i + 4 == len;
		for (int k = 0; k < 4; k++) {
			v[k] = value_of(s[i + k]);
			if (v[k] < 0 && !(last && s[i + k] == '=' && k >= 4 - (int)pad))
				goto bad;
		}
		uint32_t x = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12;
		out[o++] = (unsigned char)(x >> 16);
		if (last && pad == 2) {
			if (v[1] & 15)
				goto bad; /* non-zero pad bits */
			break;
		}
		x |= (uint32_t)v[2] << 6;
		out[o++] = (unsigned char)(x >> 8);
		if (last && pad == 1) {
			if (v[2] & 3)
				goto bad;
			break;
		}
		x |= (uint32_t)v[3];
		out[o++] = (unsigned char)x;
	}
	out[o] = '\0';
	*n = o;
	return out;
bad:
	free(out);
	return NULL;
}

char *base64url_encode(const void *p, size_t n)
{
	char *out = base64_encode(p, n);

	for (char *c = out; *c; c++) {
		if (*c == '+')
			*c = '-';
		else if (*c == '/')
			*c = '_';
		else if (*c == '=')
			*c = '\0';
	}
	return out;
}

unsigned char *base64url_decode(const char *s, size_t len, size_t *n)
{
	char *std;
	unsigned char *out;

	if (len == 0 || len % 4 == 1)
		return NULL;
	std = xmalloc(len + 3);
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!ok && c != '-' && c != '_') {
			free(std);
			return NULL;
		}
		std[i] = c == '-' ? '+' : c == '_' ? '/' : c;
	}
	memset(std + len, '=', (4 - len % 4) % 4);
	std[len + (4 - len % 4) % 4] = '\0';
	out = base64_decode(std, n);
	free(std);
	return out;
}
