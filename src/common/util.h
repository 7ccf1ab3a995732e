/* util.h -- allocation that cannot fail quietly, small string and fd helpers. */
#ifndef IDGATE_UTIL_H
#define IDGATE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* These abort the process on allocation failure: a daemon that cannot
 * allocate a few bytes is better restarted than left half-working. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
/* A copy of n bytes (n may be 0: never NULL). */
void *xmemdup(const void *p, size_t n);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* 0..15 for a hexadecimal digit (either case), -1 for anything else. */
int hex_value(char c);
bool str_is_token(const char *s);  /* letters, digits, . _ - ; non-empty */
bool str_has_prefix(const char *s, const char *prefix);
void str_free_list(char **list);   /* NULL-terminated */
size_t str_list_len(char *const *list);

/* Write all of buf, retrying on EINTR and short writes. */
int write_all(int fd, const void *buf, size_t len);
/* Read len bytes from offset off (pread), retrying on EINTR and short
 * reads: how many came (fewer at the end of the file), or -1. */
ssize_t pread_full(int fd, void *buf, size_t len, off_t off);
/* Make descriptor `target` refer to the file `fd` refers to, at once for
 * every thread (dup3): a write already under way ends in the old file,
 * the next one goes to the new.  `fd` stays open.  0 or -1. */
int fd_replace(int target, int fd);
int set_cloexec(int fd);
int set_nonblock(int fd, bool on);

/* The name of an impersonation level (enum idg_level: 0 anonymous,
 * 1 identification, 2 impersonation, 3 delegation), or NULL for any other
 * number. */
const char *idg_level_name(int level);

/* Monotonic clock in milliseconds / microseconds. */
uint64_t now_ms(void);
uint64_t now_us(void);

#endif
