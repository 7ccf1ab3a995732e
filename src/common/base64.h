/* base64.h -- RFC 4648 base64, strict on input. */
#ifndef IDGATE_BASE64_H
#define IDGATE_BASE64_H

#include <stddef.h>

/* Encode n bytes; returns a NUL-terminated string the caller frees. */
char *base64_encode(const void *p, size_t n);
/* Decode; refuses characters outside the alphabet, misplaced or missing
 * padding and non-zero pad bits.  Returns the buffer (caller frees, NUL-
 * terminated for convenience) with *n bytes, or NULL. */
unsigned char *base64_decode(const char *s, size_t *n);

/* RFC 4648 section 5, without padding (cookie values): '-' and '_' for '+'
 * and '/'.  Decoding takes the `len` characters at s, refuses '=', the
 * other alphabet, a length that no byte string has and non-zero pad bits:
 * one value, one encoding. */
char *base64url_encode(const void *p, size_t n);
unsigned char *base64url_decode(const char *s, size_t len, size_t *n);

#endif
