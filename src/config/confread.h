/* confread.h -- the lines of a configuration: its file and the files it
 * includes (`include = GLOB`), read as one stream.
 *
 * Lines are numbered across the whole stream ("global" numbers); every
 * message maps its number back to the file and the line in it, so that a
 * problem in an included file reads /etc/idgate/conf.d/app.conf:3: ... */
#ifndef IDGATE_CONFREAD_H
#define IDGATE_CONFREAD_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#define CONFREAD_MAX_DEPTH 8

/* Where global line numbers come from: from `gstart` on, file `file` at
 * its line `lstart`, until the next entry. */
struct conf_src {
	int gstart;
	int lstart;
	const char *file; /* owned by conf_sources.files */
};

struct conf_sources {
	struct conf_src *v;
	size_t n;
	char **files;
	size_t nfiles;
};

struct conf_input {
	FILE *f;            /* NULL: the top frame reads `text` */
	const char *file;   /* owned by the sources */
	char *real;         /* realpath, to refuse include loops */
	int local;          /* lines read from it so far */
	char **pending;     /* what its include line matched, still to read */
	size_t npending, next;
};

struct confread {
	struct conf_input stack[CONFREAD_MAX_DEPTH + 1];
	int depth;          /* index of the frame being read */
	const char *text;   /* config_load_string() */
	size_t textpos;
	int gline;          /* global lines read so far */
	bool switched;      /* the last line came from another file than the one before */
	struct conf_sources *src;
};

/* Start with a file (0, or -1 with errno) or a string. */
int confread_open_file(struct confread *r, struct conf_sources *src, const char *file);
void confread_open_text(struct confread *r, struct conf_sources *src, const char *name,
			const char *text);
void confread_close(struct confread *r);

/* The next line into *buf (getline-style), counting it; at the end of an
 * included file, reading goes on with the next file the same include
 * matched, then after the `include` line.  The length, -1 at the end of
 * the stream, or -2 when an included file cannot be opened (why). */
ssize_t confread_next(struct confread *r, char **buf, size_t *cap, char *why, size_t len);

/* Read the files GLOB matches (sorted) next, each from its first line, as
 * if they stood where the `include` line is.  A relative GLOB is taken
 * from the including file's directory.  A pattern without wildcards must
 * match a file; one with wildcards may match none (an empty conf.d).
 * 0, or -1 with why. */
int confread_include(struct confread *r, const char *glob, char *why, size_t len);

/* The file being read now. */
const char *confread_file(const struct confread *r);

/* A global line number as a file and its line (line 0: the main file). */
void conf_where(const struct conf_sources *s, int gline, const char **file, int *line);
void conf_sources_free(struct conf_sources *s);

#endif
