/* confread.c -- a configuration file and what it includes, as one stream
 * of lines (see confread.h). */
#include "confread.h"

#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

static const char *keep_name(struct conf_sources *s, const char *file)
{
	s->files = xreallocarray(s->files, s->nfiles + 1, sizeof(*s->files));
	s->files[s->nfiles] = xstrdup(file);
	return s->files[s->nfiles++];
}

/* From the next global line on, lines come from `in` (at its next line). */
static void mark(struct confread *r, const struct conf_input *in)
{
	struct conf_sources *s = r->src;

	s->v = xreallocarray(s->v, s->n + 1, sizeof(*s->v));
	s->v[s->n++] = (struct conf_src){ r->gline + 1, in->local + 1, in->file };
}

int confread_open_file(struct confread *r, struct conf_sources *src, const char *file)
{
	memset(r, 0, sizeof(*r));
	r->src = src;
	r->stack[0].file = keep_name(src, file);
	r->stack[0].f = fopen(file, "re");
	if (!r->stack[0].f)
		return -1;
	r->stack[0].real = realpath(file, NULL);
	mark(r, &r->stack[0]);
	return 0;
}

void confread_open_text(struct confread *r, struct conf_sources *src, const char *name,
			const char *text)
{
	memset(r, 0, sizeof(*r));
	r->src = src;
	r->text = text;
	r->stack[0].file = keep_name(src, name);
	mark(r, &r->stack[0]);
}

static void drop_pending(struct conf_input *in)
{
	for (size_t i = 0; i < in->npending; i++)
		free(in->pending[i]);
	free(in->pending);
	in->pending = NULL;
	in->npending = in->next = 0;
}

static void close_input(struct conf_input *in)
{
	if (in->f)
		fclose(in->f);
	free(in->real);
	drop_pending(in);
	in->f = NULL;
	in->real = NULL;
}

void confread_close(struct confread *r)
{
	for (int i = 0; i <= r->depth; i++)
		close_input(&r->stack[i]);
	r->depth = 0;
}

const char *confread_file(const struct confread *r)
{
	return r->stack[r->depth].file;
}

static ssize_t text_line(struct confread *r, char **buf, size_t *cap)
{
	size_t n;

	if (!r->text[r->textpos])
		return -1;
	n = strcspn(r->text + r->textpos, "\n");
	if (r->text[r->textpos + n] == '\n')
		n++;
	if (n + 1 > *cap) {
		*cap = n + 1;
		*buf = xreallocarray(*buf, *cap, 1);
	}
	memcpy(*buf, r->text + r->textpos, n);
	(*buf)[n] = '\0';
	r->textpos += n;
	return (ssize_t)n;
}

static bool being_read(const struct confread *r, const char *real)
{
	for (int i = 0; i <= r->depth; i++)
		if (r->stack[i].real && strcmp(r->stack[i].real, real) == 0)
			return true;
	return false;
}

/* Push one file; it is read next. */
static int push(struct confread *r, const char *path, char *why, size_t len)
{
	struct conf_input *in;
	struct stat st;
	char *real = realpath(path, NULL);

	if (!real || stat(real, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, len, "include %s: %s", path, real ? "not a regular file" : strerror(errno));
		free(real);
		return -1;
	}
	if (being_read(r, real)) {
		snprintf(why, len, "include %s: it is being read already (an include loop)", path);
		free(real);
		return -1;
	}
	if (r->depth == CONFREAD_MAX_DEPTH) {
		snprintf(why, len, "include %s: includes nest deeper than %d", path,
			 CONFREAD_MAX_DEPTH);
		free(real);
		return -1;
	}
	in = &r->stack[++r->depth];
	memset(in, 0, sizeof(*in));
	in->real = real;
	in->file = keep_name(r->src, path);
	in->f = fopen(real, "re");
	if (!in->f) {
		snprintf(why, len, "include %s: %s", path, strerror(errno));
		free(in->real);
		r->depth--;
		return -1;
	}
	mark(r, in);
	return 0;
}

/* The next file the current frame's include matched, if any: pushed. */
static int push_pending(struct confread *r, char *why, size_t len)
{
	struct conf_input *in = &r->stack[r->depth];

	while (in->next < in->npending) {
		if (push(r, in->pending[in->next++], why, len) == 0)
			return 1;
		return -1;
	}
	drop_pending(in);
	return 0;
}

ssize_t confread_next(struct confread *r, char **buf, size_t *cap, char *why, size_t len)
{
	r->switched = false;
	for (;;) {
		struct conf_input *in = &r->stack[r->depth];
		ssize_t n = in->f ? getline(buf, cap, in->f) : text_line(r, buf, cap);
		if (n >= 0) {
			in->local++;
			r->gline++;
			return n;
		}
		if (r->depth == 0)
			return -1;
		close_input(in);
		r->depth--;
		r->switched = true;
		int rc = push_pending(r, why, len);
		if (rc < 0)
			return -2;
		if (rc == 0)
			mark(r, &r->stack[r->depth]); /* back after the include line */
	}
}

/* GLOB relative to the including file's directory */
static char *resolve_pattern(const struct confread *r, const char *pattern)
{
	const char *from = confread_file(r), *slash = strrchr(from, '/');

	if (pattern[0] == '/' || !slash)
		return xstrdup(pattern);
	return xasprintf("%.*s/%s", (int)(slash - from), from, pattern);
}

int confread_include(struct confread *r, const char *pattern, char *why, size_t len)
{
	struct conf_input *in = &r->stack[r->depth];
	char *full = resolve_pattern(r, pattern);
	glob_t g = { 0 };
	int rc = glob(full, GLOB_ERR, NULL, &g), ret = 0;

	if (rc == GLOB_NOMATCH && !strpbrk(full, "*?[")) {
		snprintf(why, len, "include %s: no such file", full);
		ret = -1;
	} else if (rc != 0 && rc != GLOB_NOMATCH) {
		snprintf(why, len, "include %s: cannot read the directory", full);
		ret = -1;
	}
	drop_pending(in);
	for (size_t i = 0; ret == 0 && rc == 0 && i < g.gl_pathc; i++) {
		in->pending = xreallocarray(in->pending, in->npending + 1, sizeof(char *));
		in->pending[in->npending++] = xstrdup(g.gl_pathv[i]); /* glob sorts them */
	}
	globfree(&g);
	free(full);
	if (ret == 0 && push_pending(r, why, len) < 0)
		ret = -1;
	return ret;
}

void conf_where(const struct conf_sources *s, int gline, const char **file, int *line)
{
	size_t k = 0;

	*file = s->n ? s->v[0].file : "?";
	*line = 0;
	if (gline <= 0 || !s->n)
		return;
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].gstart <= gline)
			k = i;
	*file = s->v[k].file;
	*line = s->v[k].lstart + (gline - s->v[k].gstart);
}

void conf_sources_free(struct conf_sources *s)
{
	for (size_t i = 0; i < s->nfiles; i++)
		free(s->files[i]);
	free(s->files);
	free(s->v);
	memset(s, 0, sizeof(*s));
}
