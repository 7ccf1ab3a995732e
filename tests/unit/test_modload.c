/* test_modload.c -- loading a module: modules_dir and every directory
 * above it must be root's (or ours) and writable by nobody else, and the
 * file that is loaded is the file that was checked, even if its path is
 * swapped in between (the loader is handed the checked descriptor).
 *
 * dlopen() is interposed here: it records the name it was given and can
 * swap the module's path for another module just before loading. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "modload.h"

static char tmp[PATH_MAX];
static char last_dlopen[PATH_MAX];
static const char *swap_from, *swap_to; /* rename(swap_from, swap_to) in dlopen */

void *dlopen(const char *name, int flags)
{
	static void *(*real)(const char *, int);

	if (!real)
		real = (void *(*)(const char *, int))dlsym(RTLD_NEXT, "dlopen");
	snprintf(last_dlopen, sizeof(last_dlopen), "%s", name ? name : "");
	if (swap_from) {
		assert_int_equal(rename(swap_from, swap_to), 0);
		swap_from = NULL;
	}
	return real(name, flags);
}

static void copy_file(const char *from, const char *to)
{
	char cmd[3 * PATH_MAX];

	snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && chmod 0644 '%s'", from, to, to);
	assert_int_equal(system(cmd), 0);
}

/* TMP/NAME as a directory with this mode (set after mkdir: no umask). */
static const char *make_dir(const char *name, mode_t mode, char *buf, size_t len)
{
	assert_true((size_t)snprintf(buf, len, "%s/%s", tmp, name) < len);
	assert_int_equal(mkdir(buf, 0700), 0);
	assert_int_equal(chmod(buf, mode), 0);
	return buf;
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/idg-modload.XXXXXX");
	assert_non_null(mkdtemp(tmp));
	assert_int_equal(chmod(tmp, 0755), 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

/* A directory above modules_dir that others may write: refused, naming it. */
static void test_ancestor_writable(void **state)
{
	char open_dir[PATH_MAX], mods[PATH_MAX], so[PATH_MAX + 32], err[PATH_MAX * 2], want[PATH_MAX * 3];
	struct module *m;

	(void)state;
	make_dir("open", 0777, open_dir, sizeof(open_dir));
	make_dir("open/mods", 0755, mods, sizeof(mods));
	snprintf(so, sizeof(so), "%s/tallowed.so", mods);
	copy_file(TESTMODS_BUILDDIR "/tallowed.so", so);
	m = module_load(mods, "tallowed", err, sizeof(err));
	assert_null(m);
	snprintf(want, sizeof(want), "modules_dir %s: directory %s is writable by group or others",
		 mods, open_dir);
	assert_string_equal(err, want);
	/* group-writable counts the same */
	assert_int_equal(chmod(open_dir, 0775), 0);
	assert_null(module_load(mods, "tallowed", err, sizeof(err)));
	assert_string_equal(err, want);
	/* sticky does not excuse modules_dir itself */
	assert_int_equal(chmod(open_dir, 0755), 0);
	assert_int_equal(chmod(mods, 01777), 0);
	assert_null(module_load(mods, "tallowed", err, sizeof(err)));
	snprintf(want, sizeof(want), "modules_dir %s is writable by group or others", mods);
	assert_string_equal(err, want);
	/* fixed: it loads (below /tmp, which is root's and sticky) */
	assert_int_equal(chmod(mods, 0755), 0);
	m = module_load(mods, "tallowed", err, sizeof(err));
	assert_non_null(m);
	assert_string_equal(m->desc->name, "tallowed");
	module_unload(m);
}

/* The loader gets the checked descriptor, not the path: a module swapped
 * in after the checks is not the one loaded. */
static void test_loads_checked_file(void **state)
{
	char mods[PATH_MAX], so[PATH_MAX + 32], other[PATH_MAX + 32], err[PATH_MAX * 2];
	struct module *m;

	(void)state;
	make_dir("swap", 0755, mods, sizeof(mods));
	snprintf(so, sizeof(so), "%s/tallowed.so", mods);
	snprintf(other, sizeof(other), "%s/other.tmp", mods);
	copy_file(TESTMODS_BUILDDIR "/tallowed.so", so);
	copy_file(TESTMODS_BUILDDIR "/tnotallowed.so", other);
	swap_from = other;
	swap_to = so;
	m = module_load(mods, "tallowed", err, sizeof(err));
	if (!m)
		fail_msg("%s", err);
	assert_null(swap_from); /* the swap happened */
	assert_string_equal(m->desc->name, "tallowed");
	assert_int_equal(m->desc->impersonation, IDG_IMPERSONATION_ALLOWED);
	assert_memory_equal(last_dlopen, "/proc/self/fd/", 14);
	/* messages still name the module's path */
	assert_string_equal(m->path, so);
	module_unload(m);
}

/* A symbolic link on the way is followed; what is checked and named is
 * where it leads. */
static void test_symlink_resolved(void **state)
{
	char open_dir[PATH_MAX], mods[PATH_MAX], so[PATH_MAX + 32], link[PATH_MAX + 32];
	char err[PATH_MAX * 2], want[PATH_MAX * 3];
	struct module *m;

	(void)state;
	make_dir("lnk", 0755, mods, sizeof(mods));
	snprintf(so, sizeof(so), "%s/tallowed.so", mods);
	copy_file(TESTMODS_BUILDDIR "/tallowed.so", so);
	snprintf(link, sizeof(link), "%s/via", tmp);
	assert_int_equal(symlink(mods, link), 0);
	m = module_load(link, "tallowed", err, sizeof(err));
	if (!m)
		fail_msg("%s", err);
	module_unload(m);
	make_dir("open2", 0777, open_dir, sizeof(open_dir));
	assert_int_equal(rename(mods, strcat(open_dir, "/lnk")) , 0);
	assert_int_equal(unlink(link), 0);
	assert_int_equal(symlink(open_dir, link), 0);
	assert_null(module_load(link, "tallowed", err, sizeof(err)));
	*strrchr(open_dir, '/') = '\0';
	snprintf(want, sizeof(want), "modules_dir %s: directory %s is writable by group or others",
		 link, open_dir);
	assert_string_equal(err, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ancestor_writable),
		cmocka_unit_test(test_loads_checked_file),
		cmocka_unit_test(test_symlink_resolved),
	};
	return cmocka_run_group_tests_name("modload", tests, setup, teardown);
}
