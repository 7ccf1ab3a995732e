/* memscan.c -- for the tests of where secrets live (t-secrets): does a
 * process hold any of the given byte strings in its memory?
 *
 *   memscan [-v] PID HEX [HEX...]
 *
 * Reads /proc/PID/maps and every readable mapping through /proc/PID/mem
 * (root: the idgated processes are not dumpable), and prints "held" when
 * some HEX string occurs in it, else "clean".  -v adds, on standard error,
 * which string was found in which mapping.  Every readable mapping counts,
 * private or shared, anonymous or file-backed: a secret in a mapped file is
 * held as much as one on the heap.  The kernel's [vvar] and [vsyscall]
 * pages cannot be read this way and are skipped, and so is a mapping of
 * more than MAX_REGION: no idgated process has one, but a sanitizer's
 * shadow memory (terabytes, reserved, never application data) would take
 * hours to read; -v names each one skipped.
 *
 * A scan that cannot be trusted is an error (exit 2), never "clean": a
 * mapping that cannot be read while it still exists, or nothing read at
 * all.  Exit 0 otherwise. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#define CHUNK (1u << 20)
#define MAX_PATTERNS 64
#define MAX_REGION (64ull << 30)

struct pattern {
	unsigned char *bytes;
	size_t len;
};

static struct pattern pats[MAX_PATTERNS];
static size_t npats, longest;
static bool verbose;

/* At least 8 bytes: a shorter string would be found by chance. */
static int parse_pattern(const char *hex, struct pattern *p)
{
	size_t n = strlen(hex);

	if (n % 2 || n < 16)
		return -1;
	p->len = n / 2;
	p->bytes = malloc(p->len);
	if (!p->bytes)
		return -1;
	for (size_t i = 0; i < p->len; i++) {
		int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		p->bytes[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* The index of a pattern that occurs in buf, or -1. */
static int find_any(const unsigned char *buf, size_t len)
{
	for (size_t i = 0; i < npats; i++)
		if (memmem(buf, len, pats[i].bytes, pats[i].len))
			return (int)i;
	return -1;
}

/* Is the mapping that starts at `start` still in the process's maps? */
static bool still_mapped(const char *pid, unsigned long start)
{
	char path[64], line[4096];
	unsigned long s, e;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/maps", pid);
	f = fopen(path, "re");
	while (f && !found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%lx-%lx", &s, &e) == 2 && s == start;
	if (f)
		fclose(f);
	return found;
}

/* Scan [start, end) of mem in chunks; the last bytes of one chunk (the
 * longest pattern less one) begin the next, so that a string across the
 * boundary is found.  1 when found (*which: its index), 0 when not, -1
 * when it could not be read; the bytes read are added to *total. */
static int scan_range(int mem, unsigned long start, unsigned long end, unsigned char *buf,
		      uint64_t *total, int *which)
{
	size_t keep = 0;

	for (unsigned long at = start; at < end;) {
		size_t want = end - at < CHUNK ? end - at : CHUNK, len;
		ssize_t n = pread(mem, buf + keep, want, (off_t)at);

		if (n <= 0)
			return -1;
		*total += (uint64_t)n;
		len = keep + (size_t)n;
		if ((*which = find_any(buf, len)) >= 0)
			return 1;
		at += (unsigned long)n;
		keep = len < longest - 1 ? len : longest - 1;
		memmove(buf, buf + len - keep, keep);
	}
	return 0;
}

/* One line of /proc/PID/maps: 1 when a pattern is in the mapping, 0 when
 * not (or it is not readable, or is one of the kernel's pages that
 * /proc/PID/mem does not give), -1 when it cannot be read although it is
 * still mapped. */
static int scan_mapping(const char *pid, int mem, const char *line, unsigned char *buf,
			uint64_t *total)
{
	unsigned long start, end;
	char perms[8] = "", name[4096] = "";
	int which = -1, rc;

	if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %4095[^\n]", &start, &end, perms, name) < 3)
		return -1;
	if (perms[0] != 'r' || strcmp(name, "[vvar]") == 0 || strcmp(name, "[vsyscall]") == 0 ||
	    strcmp(name, "[vvar_vclock]") == 0)
		return 0;
	if (end - start > MAX_REGION) {
		if (verbose)
			fprintf(stderr, "memscan: skipped %lx-%lx %s of %s: %lu GiB\n", start, end,
				*name ? name : "(anonymous)", pid, (end - start) >> 30);
		return 0;
	}
	rc = scan_range(mem, start, end, buf, total, &which);
	if (rc < 0 && !still_mapped(pid, start))
		return 0; /* unmapped while we read it: nothing to hold */
	if (rc < 0)
		fprintf(stderr, "memscan: cannot read %lx-%lx %s of %s: %s\n", start, end, name,
			pid, strerror(errno));
	if (rc > 0 && verbose)
		fprintf(stderr, "memscan: string %d in %lx-%lx %s %s of %s\n", which, start, end,
			perms, *name ? name : "(anonymous)", pid);
	return rc;
}

static int scan(const char *pid)
{
	char path[64], line[4096 + 128];
	unsigned char *buf = malloc(CHUNK + longest);
	uint64_t total = 0;
	int mem, rc = 0;
	FILE *maps;

	snprintf(path, sizeof(path), "/proc/%s/maps", pid);
	maps = fopen(path, "re");
	snprintf(path, sizeof(path), "/proc/%s/mem", pid);
	mem = open(path, O_RDONLY | O_CLOEXEC);
	if (!buf || !maps || mem < 0) {
		fprintf(stderr, "memscan: %s: %s\n", path, strerror(errno));
		return 2;
	}
	while (rc == 0 && fgets(line, sizeof(line), maps))
		rc = scan_mapping(pid, mem, line, buf, &total);
	fclose(maps);
	close(mem);
	free(buf);
	if (rc < 0)
		return 2;
	if (rc == 0 && total == 0) {
		fprintf(stderr, "memscan: nothing of %s could be read\n", pid);
		return 2;
	}
	printf("%s\n", rc ? "held" : "clean");
	return 0;
}

int main(int argc, char **argv)
{
	int i = 1;

	if (i < argc && strcmp(argv[i], "-v") == 0) {
		verbose = true;
		i++;
	}
	if (argc - i < 2 || argc - i - 1 > MAX_PATTERNS) {
		fprintf(stderr, "usage: memscan [-v] PID HEX [HEX...] (at most %d strings)\n",
			MAX_PATTERNS);
		return 2;
	}
	for (int k = i + 1; k < argc; k++) {
		struct pattern *p = &pats[npats++];
		if (parse_pattern(argv[k], p) < 0) {
			fprintf(stderr, "memscan: '%s' is not an even number of hex digits, at "
				"least 16\n", argv[k]);
			return 2;
		}
		if (p->len > longest)
			longest = p->len;
	}
	return scan(argv[i]);
}
