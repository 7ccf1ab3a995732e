/* confkeys.h -- the keys of [server], [pool] and [vdir], declared as data:
 * for each its name, type, default (as it would be written in the file),
 * where its value goes and a line of help.  config.c reads the file and
 * hands each key line to conf_key_set(); the same code parses the
 * defaults, and `idgated -k` prints the tables (conf_keys_print()). */
#ifndef IDGATE_CONFKEYS_H
#define IDGATE_CONFKEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct conf_parser; /* config.c's, opaque here */

/* How a value is parsed; each kind has a setter in confkeys.c. */
enum conf_kind {
	CONF_STRING,   /* text (char *) */
	CONF_PATH,     /* an absolute path (char *); max: its longest length */
	CONF_LOG,      /* an absolute path, '-' (standard error) or empty (char *) */
	CONF_NAME,     /* letters, digits, '.', '_', '-' (char *); bad: what a wrong one is */
	CONF_LIST,     /* names, blank- or comma-separated, resolved later (char *) */
	CONF_BOOL,     /* true|false|yes|no|on|off|1|0 (bool) */
	CONF_UINT,     /* min..max (unsigned) */
	CONF_SIZE,     /* bytes, k/m/g, min..max (uint64_t) */
	CONF_DURATION, /* milliseconds, written 250ms, 30s, 5m (uint64_t) */
	CONF_ENUM,     /* one of words (a bool or an enum) */
	CONF_CUSTOM,   /* set(): a value of its own kind (listen, auth, require...) */
	CONF_NKINDS
};

#define CONF_EMPTY     0x1u /* may be empty */
#define CONF_REPEAT    0x2u /* may be given more than once (listen) */
#define CONF_ANYCASE   0x4u /* enum words match in any case */

struct conf_word {
	const char *word;
	int value;
};

struct conf_key;

/* One key = value being set: from the file at `line`, or the key's default
 * (line 0). `base` is the section's struct server_conf, pool_conf or
 * vdir_conf; `sect` names the section in messages ("server", "pool NAME",
 * "vdir PATH"). */
struct conf_set {
	struct conf_parser *p;
	const struct conf_key *k;
	const char *value;
	void *base;
	const char *sect;
	int line;
};

typedef int (*conf_setter)(const struct conf_set *s);

struct conf_key {
	const char *name;
	enum conf_kind kind;
	unsigned flags;               /* CONF_EMPTY, CONF_REPEAT, CONF_ANYCASE */
	size_t off, size;             /* the field (every kind but CONF_CUSTOM) */
	size_t line_at;               /* offset + 1 of an int that keeps the line; 0: none */
	uint64_t min, max;            /* CONF_UINT, CONF_SIZE; CONF_PATH: max length */
	const struct conf_word *words; /* CONF_ENUM, NULL-terminated */
	const char *bad;              /* CONF_NAME: why a wrong value is wrong */
	conf_setter set;              /* CONF_CUSTOM */
	const char *type;             /* CONF_CUSTOM: its type, for idgated -k */
	const char *dflt;             /* as written in the file; NULL: none (see help) */
	const char *help;             /* one line */
};

struct conf_section {
	const char *name;             /* "server", "pool", "vdir" */
	const struct conf_key *keys;  /* ends with a NULL name */
};

/* [server], [pool] and [vdir], in that order; ends with a NULL name. */
extern const struct conf_section conf_sections[];

const struct conf_key *conf_key_find(const struct conf_key *keys, const char *name);

/* Record the line (s->line > 0) and parse s->value into s->base.  Returns
 * 0, or -1 after reporting "FILE:LINE: message". */
int conf_key_set(const struct conf_set *s);

/* Set every key of the table that has a default, as line 0. */
int conf_defaults(struct conf_parser *p, const struct conf_key *keys, void *base, const char *sect);

/* "SECTION\tNAME\tTYPE\tDEFAULT\tHELP" per key; DEFAULT is quoted, "-":
 * none. */
void conf_keys_print(FILE *f);
/* TYPE of that line, e.g. "uint 1..1024", "enum none|store" */
void conf_key_type(const struct conf_key *k, char *buf, size_t len);

/* From config.c: a problem at `line` of the file (FILE:LINE: ...), and
 * "line N" or "FILE:N" for a "(first at ...)" */
void conf_error(struct conf_parser *p, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *conf_at(struct conf_parser *p, int line, char *buf, size_t len);

#endif
