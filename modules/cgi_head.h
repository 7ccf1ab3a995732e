/* cgi_head.h -- the response head of a CGI program (RFC 3875 section 6),
 * parsed strictly.  Pure functions: no I/O, no allocation. */
#ifndef IDGATE_CGI_HEAD_H
#define IDGATE_CGI_HEAD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CGI_HEAD_MAX 16384      /* bytes of head, the empty line included */
#define CGI_HEAD_MAX_FIELDS 64  /* header fields passed on to the client */

struct cgi_field {
	const char *name, *value;
};

struct cgi_head {
	int status;               /* Status; else 302 with a Location; else 200 */
	const char *location;     /* NULL if none */
	const char *content_type; /* NULL if none */
	int64_t content_length;   /* -1 if none */
	struct cgi_field fields[CGI_HEAD_MAX_FIELDS]; /* the others, to pass on */
	size_t nfields;
	size_t ndropped;          /* hop-by-hop fields, Date and Server: dropped */
	char error[96];           /* why the head was refused */
};

/* The length of the head at the start of buf: the bytes up to and
 * including the empty line that ends it.  0 when more bytes are needed;
 * -1 when no head ends within CGI_HEAD_MAX bytes. */
ssize_t cgi_head_length(const char *buf, size_t len);

/* Parse a whole head (the cgi_head_length() bytes at the start of buf) in
 * place: line ends become NULs and the fields of h point into buf.
 * Returns 0, or -1 with h->error set. */
int cgi_head_parse(char *buf, size_t len, struct cgi_head *h);

/* Is s an HTTP token (RFC 9110 tchar+)? */
int cgi_is_token(const char *s, size_t len);

#endif
