/* diag.h -- collects configuration problems as "FILE:LINE: message". */
#ifndef IDGATE_DIAG_H
#define IDGATE_DIAG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

struct diag {
	char **msgs;
	size_t n;
	size_t nerrors;
	FILE *echo; /* if set, each message is also printed here at once */
};

/* line 0: no line known; the message is then "FILE: message". */
void diag_error(struct diag *d, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void diag_verror(struct diag *d, const char *file, int line, const char *fmt, va_list ap);
void diag_warning(struct diag *d, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void diag_vwarning(struct diag *d, const char *file, int line, const char *fmt, va_list ap);
/* Has any message (of either kind) containing `needle`: for tests. */
int diag_has(const struct diag *d, const char *needle);
void diag_print(const struct diag *d, FILE *f);
void diag_free(struct diag *d);

#endif
