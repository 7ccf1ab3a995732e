/* test_modinit.c -- the module checks run init() in a child per pool and
 * take back only what it reports, checked: the errors (with the key's
 * line, in the order of the vdirs whatever the pool) and what init()
 * asked for (delegated or proxy credentials), which the front end needs.
 * The module tinitid records who ran its init(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "diag.h"
#include "modinit.h"

#define HEAD "[server]\nuser = daemon\npam_service =\nmodules_dir = " TESTMODS_BUILDDIR "\n" \
	"[pool a]\nuser = nobody\n[pool b]\nuser = nobody\n"

static struct config *load(const char *text, struct diag *d)
{
	struct config *c = config_load_string("t.conf", text, d, true);

	if (!c)
		diag_print(d, stderr);
	assert_non_null(c);
	return c;
}

static const struct vdir_conf *vdir(const struct config *c, const char *path)
{
	for (size_t i = 0; i < c->nvdirs; i++)
		if (strcmp(c->vdirs[i].path, path) == 0)
			return &c->vdirs[i];
	fail_msg("no vdir %s", path);
	return NULL;
}

/* What init() asked for comes back from the child, vdir by vdir. */
static void test_wishes_come_back(void **state)
{
	struct diag d = { 0 };
	struct config *c = load(HEAD "[vdir /c]\npool = a\nhandler = tinitid\ncreds = true\n"
				"[vdir /s]\npool = b\nhandler = tinitid\ns4u = true\n"
				"[vdir /n]\npool = a\nhandler = tinitid\n", &d);

	(void)state;
	assert_int_equal(config_check_modules(c, &d), 0);
	assert_int_equal(d.n, 0);
	assert_true(vdir(c, "/c")->module_creds);
	assert_false(vdir(c, "/c")->module_s4u);
	assert_false(vdir(c, "/s")->module_creds);
	assert_true(vdir(c, "/s")->module_s4u);
	assert_string_equal(vdir(c, "/s")->s4u_target, "HTTP@localhost"); /* its target too */
	assert_false(vdir(c, "/n")->module_creds);
	assert_false(vdir(c, "/n")->module_s4u);
	config_free(c);
	diag_free(&d);
}

/* Errors of two pools' children, in the order of the vdirs, at the
 * lines of their keys; a failed init() asks for nothing. */
static void test_errors_in_vdir_order(void **state)
{
	struct diag d = { 0 };
	struct config *c = load(HEAD "[vdir /1]\npool = b\nhandler = tinitid\nrefuse = one\n"
				"[vdir /2]\npool = a\nhandler = tinitid\ncreds = true\nrefuse = two\n"
				"[vdir /3]\npool = b\nhandler = tinitid\n"
				"[vdir /4]\npool = a\nhandler = tinitid\nrefuse = four\n", &d);
	char want[3][128];
	unsigned uid = (unsigned)(geteuid() == 0 ? getpwnam("nobody")->pw_uid : geteuid());

	(void)state;
	assert_int_equal(config_check_modules(c, &d), -1);
	assert_int_equal(d.nerrors, 3);
	snprintf(want[0], sizeof(want[0]), "t.conf:12: [vdir /1] handler 'tinitid': refuse: one "
		 "(uid %u)", uid);
	snprintf(want[1], sizeof(want[1]), "t.conf:17: [vdir /2] handler 'tinitid': refuse: two "
		 "(uid %u)", uid);
	snprintf(want[2], sizeof(want[2]), "t.conf:24: [vdir /4] handler 'tinitid': refuse: four "
		 "(uid %u)", uid);
	for (int i = 0; i < 3; i++)
		assert_string_equal(d.msgs[i], want[i]);
	assert_false(vdir(c, "/2")->module_creds);
	config_free(c);
	diag_free(&d);
}

/* A module that forges a verdict on the socket it inherits (another
 * pool's vdir passed and wants credentials) breaks the check: the forged
 * verdict is not believed, and the forger's vdir fails with the reason.
 * (About its own vdir a module can claim only what init() may ask.) */
static void test_forged_verdict(void **state)
{
	static const char conf[] = HEAD "[vdir /victim]\npool = b\nhandler = tinitid\n"
				   "[vdir /forger]\npool = a\nhandler = tinitid\nforge = %u\n";
	struct diag d = { 0 };
	struct config *c = load(HEAD "[vdir /victim]\npool = b\nhandler = tinitid\n"
				"[vdir /forger]\npool = a\nhandler = tinitid\n", &d);
	char text[sizeof(conf) + 16];
	unsigned victim = vdir(c, "/victim")->index;

	(void)state;
	config_free(c);
	snprintf(text, sizeof(text), conf, victim);
	c = load(text, &d);
	assert_int_equal(vdir(c, "/victim")->index, victim);
	assert_int_equal(config_check_modules(c, &d), -1);
	assert_int_equal(d.nerrors, 1);
	assert_string_equal(d.msgs[0], "t.conf:12: [vdir /forger] handler 'tinitid': the module "
			    "check broke its protocol (a malformed verdict)");
	assert_false(vdir(c, "/victim")->module_creds);
	assert_false(vdir(c, "/forger")->module_creds);
	config_free(c);
	diag_free(&d);
}

/* A check child that sends a message type it never sends (here the
 * supervisor's CTL_READY, 32) is dropped: its parent names the type and
 * the vdir fails. */
static void test_unexpected_message(void **state)
{
	struct diag d = { 0 };
	struct config *c = load(HEAD "[vdir /odd]\npool = a\nhandler = tinitid\nsend = 32\n", &d);

	(void)state;
	assert_int_equal(config_check_modules(c, &d), -1);
	assert_int_equal(d.nerrors, 1);
	assert_string_equal(d.msgs[0], "t.conf:9: [vdir /odd] handler 'tinitid': the module "
			    "check broke its protocol (an unexpected message CTL_READY (32))");
	config_free(c);
	diag_free(&d);
}

/* init() runs in another process: what it does to its own stays there. */
static void test_runs_elsewhere(void **state)
{
	char rec[] = "/tmp/idg-modinit.XXXXXX", *text, line[256] = "", want[128];
	int fd = mkstemp(rec);
	struct diag d = { 0 };
	struct config *c;
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chmod(rec, 0666), 0);
	assert_true(asprintf(&text, HEAD "[vdir /r]\npool = b\nhandler = tinitid\nrecord = %s\n",
			     rec) > 0);
	c = load(text, &d);
	assert_int_equal(config_check_modules(c, &d), 0);
	f = fopen(rec, "re");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	unlink(rec);
	if (geteuid() == 0) /* as root: the pool's user, without capabilities */
		snprintf(want, sizeof(want), "uid=%u euid=%u capeff=0000000000000000 checking=1\n",
			 (unsigned)getpwnam("nobody")->pw_uid, (unsigned)getpwnam("nobody")->pw_uid);
	else /* as anybody else: that user, without capabilities either */
		snprintf(want, sizeof(want), "uid=%u euid=%u capeff=0000000000000000 checking=1\n",
			 (unsigned)getuid(), (unsigned)geteuid());
	assert_string_equal(line, want);
	free(text);
	config_free(c);
	diag_free(&d);
}

int main(void)
{
	/* vdirs use Negotiate by default, which needs a keytab that can be
	 * opened: krb5's default one is this empty file */
	char kt[] = "/tmp/idgate-test-ktXXXXXX", env[64];
	int fd = mkstemp(kt);

	snprintf(env, sizeof(env), "FILE:%s", kt);
	setenv("KRB5_KTNAME", env, 1);
	if (fd >= 0)
		close(fd);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wishes_come_back),
		cmocka_unit_test(test_errors_in_vdir_order),
		cmocka_unit_test(test_forged_verdict),
		cmocka_unit_test(test_unexpected_message),
		cmocka_unit_test(test_runs_elsewhere),
	};
	int rc = cmocka_run_group_tests_name("modinit", tests, NULL, NULL);
	unlink(kt);
	return rc;
}
