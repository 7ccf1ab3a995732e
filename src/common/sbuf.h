/* sbuf.h -- a growable string, and JSON string escaping. */
#ifndef IDGATE_SBUF_H
#define IDGATE_SBUF_H

#include <stddef.h>

struct sbuf {
	char *s;
	size_t len, cap;
};

void sb_init(struct sbuf *b);
void sb_free(struct sbuf *b);
void sb_putc(struct sbuf *b, char c);
void sb_put(struct sbuf *b, const char *s, size_t n);
void sb_puts(struct sbuf *b, const char *s);
void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A JSON string literal with quotes; NULL becomes null.  Bytes that are
 * not valid UTF-8 are replaced by U+FFFD, so the output is always JSON. */
void sb_json_str(struct sbuf *b, const char *s);
/* Text safe inside HTML. */
void sb_html(struct sbuf *b, const char *s);

#endif
