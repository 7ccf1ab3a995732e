/* diag.c -- configuration problems, collected so that all are reported. */
#include "diag.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static void diag_add(struct diag *d, const char *file, int line, const char *kind,
		     const char *fmt, va_list ap)
{
	char body[1024];
	char *msg;

	vsnprintf(body, sizeof(body), fmt, ap);
	if (line > 0)
		msg = xasprintf("%s:%d: %s%s", file, line, kind, body);
	else
		msg = xasprintf("%s: %s%s", file, kind, body);
	d->msgs = xreallocarray(d->msgs, d->n + 1, sizeof(*d->msgs));
	d->msgs[d->n++] = msg;
	if (d->echo)
		fprintf(d->echo, "%s\n", msg);
}

void diag_verror(struct diag *d, const char *file, int line, const char *fmt, va_list ap)
{
	diag_add(d, file, line, "", fmt, ap);
	d->nerrors++;
}

void diag_error(struct diag *d, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_verror(d, file, line, fmt, ap);
	va_end(ap);
}

void diag_vwarning(struct diag *d, const char *file, int line, const char *fmt, va_list ap)
{
	diag_add(d, file, line, "warning: ", fmt, ap);
}

void diag_warning(struct diag *d, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vwarning(d, file, line, fmt, ap);
	va_end(ap);
}

int diag_has(const struct diag *d, const char *needle)
{
	for (size_t i = 0; i < d->n; i++)
		if (strstr(d->msgs[i], needle))
			return 1;
	return 0;
}

void diag_print(const struct diag *d, FILE *f)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(f, "%s\n", d->msgs[i]);
}

void diag_free(struct diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->msgs[i]);
	free(d->msgs);
	d->msgs = NULL;
	d->n = d->nerrors = 0;
}
