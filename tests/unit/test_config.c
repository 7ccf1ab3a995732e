/* test_config.c -- idgate.conf parsing and validation.  Every class of bad
 * input must give the exact "FILE:LINE: message", and all problems of a
 * file must be reported together. */
#include <grp.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "confkeys.h"
#include "diag.h"
#include "modinit.h"
#include "util.h"

#define BASE "[server]\nuser = daemon\npam_service =\n"
#define POOL "[pool default]\nuser = nobody\ngroup = nogroup\n"

static struct config *load(const char *text, struct diag *d, bool modules)
{
	return config_load_string("t.conf", text, d, modules);
}

static bool has_exact(const struct diag *d, const char *msg)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->msgs[i], msg) == 0)
			return true;
	return false;
}

static void expect_errors_in(const char *text, bool modules, const char *const *msgs, size_t n)
{
	struct diag d = { 0 };
	struct config *c = load(text, &d, modules);

	if (c && modules && config_check_modules(c, &d) < 0) {
		config_free(c);
		c = NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (!has_exact(&d, msgs[i])) {
			fprintf(stderr, "missing: %s\ngot:\n", msgs[i]);
			diag_print(&d, stderr);
			fail();
		}
	}
	assert_null(c);
	assert_int_equal(d.nerrors, n);
	diag_free(&d);
}

#define EXPECT(text, ...)                                                             \
	do {                                                                            \
		const char *const m_[] = { __VA_ARGS__ };                               \
		expect_errors_in(text, false, m_, sizeof(m_) / sizeof(m_[0]));          \
	} while (0)
#define EXPECT_MOD(text, ...)                                                         \
	do {                                                                            \
		const char *const m_[] = { __VA_ARGS__ };                               \
		expect_errors_in(text, true, m_, sizeof(m_) / sizeof(m_[0]));           \
	} while (0)

/* ---------------------------------------------------------------- valid */

static void test_full_valid(void **state)
{
	char certf[] = "/tmp/idgate-test-certXXXXXX";
	int fd = mkstemp(certf);
	char *text;
	struct diag d = { 0 };
	struct config *c;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_true(asprintf(&text,
		"# a comment\n"
		"; another\n"
		"[server]\n"
		"listen = 127.0.0.1:8080   # inline comment\n"
		"listen = [::1]:8443 tls\n"
		"listen = *:9090 ; semicolon comment\n"
		"listen = 127.0.0.1:8081 proxy\n"
		"listen = 127.0.0.1:8444 proxy\ttls\n"
		"proxy_protocol_from = 127.0.0.2 10.1.0.0/16\n"
		"tls_cert = %s\n"
		"tls_key = %s\n"
		"keytab = %s\n"
		"acceptor = HTTP@\n"
		"pam_service =\n"
		"min_uid = 2000\n"
		"user = daemon\n"
		"audit_log = -\n"
		"access_log = /var/log/idgate/access.log\n"
		"modules_dir = " MODULES_BUILDDIR "\n"
		"idle_timeout = 30s\n"
		"max_header_size = 32k\n"
		"request_timeout = 2m\n"
		"threads = 4\n"
		"\n"
		"[pool default]\n"
		"user = nobody\n"
		"group = nogroup\n"
		"threads = 3\n"
		"rapid_fail = 7/10m\n"
		"[pool other]\n"
		"user = nobody\n"
		"[vdir /]\n"
		"handler = static\n"
		"root = /\n"
		"auth = anonymous\n"
		"[vdir /who/]\n"
		"pool = other\n"
		"handler = whoami\n"
		"auth = negotiate basic\n"
		"require = group nogroup\n"
		"impersonate = allowed\n"
		"delegation = store\n"
		"[vdir /who/deeper]\n"
		"handler = whoami\n"
		"require = user alice bob\n",
		certf, certf, getenv("KRB5_KTNAME")) > 0);
	c = load(text, &d, true);
	diag_print(&d, stderr);
	assert_non_null(c);
	assert_int_equal(d.nerrors, 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(config_check_modules(c, &d), 0);

	const struct server_conf *s = &c->server;
	assert_int_equal(s->nlisten, 5);
	assert_false(s->listen[0].proxy);
	assert_false(s->listen[1].proxy);
	assert_true(s->listen[3].proxy);
	assert_false(s->listen[3].tls);
	assert_true(s->listen[4].proxy);
	assert_true(s->listen[4].tls);
	assert_int_equal(s->proxy_protocol_from.n, 2);
	assert_string_equal(s->listen[0].text, "127.0.0.1:8080");
	assert_int_equal(s->listen[0].addr.ss_family, AF_INET);
	assert_false(s->listen[0].tls);
	assert_int_equal(s->listen[1].addr.ss_family, AF_INET6);
	assert_true(s->listen[1].tls);
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&s->listen[1].addr)->sin6_port), 8443);
	assert_string_equal(s->listen[2].text, "*:9090");
	assert_string_equal(s->acceptor, "HTTP@");
	assert_string_equal(s->pam_service, "");
	assert_int_equal(s->ids.min_uid, 2000);
	assert_int_equal(s->ids.min_gid, 2000); /* min_gid follows min_uid */
	assert_int_equal(s->ids.max_uid, 60000);
	assert_int_equal(s->ids.max_gid, 60000);
	assert_string_equal(s->audit_log, "-");
	assert_string_equal(s->access_log, "/var/log/idgate/access.log");
	assert_int_equal(s->idle_timeout_ms, 30000);
	assert_int_equal(s->max_header_size, 32768);
	assert_int_equal(s->request_timeout_ms, 120000);
	assert_int_equal(s->threads, 4);
	assert_int_equal(s->uid, 1); /* daemon */

	assert_int_equal(c->npools, 2);
	assert_int_equal(c->pools[0].threads, 3);
	assert_int_equal(c->pools[0].rapid_fail_count, 7);
	assert_int_equal(c->pools[0].rapid_fail_window_ms, 600000);
	assert_false(c->pools[0].impersonates);
	assert_true(c->pools[1].impersonates);
	assert_int_equal(c->pools[1].threads, 8); /* default */

	/* longest path first, trailing '/' dropped */
	assert_int_equal(c->nvdirs, 3);
	assert_string_equal(c->vdirs[0].path, "/who/deeper");
	assert_string_equal(c->vdirs[1].path, "/who");
	assert_string_equal(c->vdirs[2].path, "/");
	assert_int_equal(c->vdirs[1].auth, AUTH_NEGOTIATE | AUTH_BASIC);
	assert_int_equal(c->vdirs[1].require, REQUIRE_GROUP);
	assert_string_equal(c->vdirs[1].require_names[0], "nogroup");
	assert_int_equal(c->vdirs[1].impersonate, IMPERSONATE_ALLOWED);
	assert_int_equal(c->vdirs[1].delegation, DELEGATION_STORE);
	assert_ptr_equal(c->vdirs[1].pool, &c->pools[1]);
	assert_int_equal(c->vdirs[0].auth, AUTH_NEGOTIATE); /* default */
	assert_int_equal(c->vdirs[0].require, REQUIRE_USER);
	assert_string_equal(c->vdirs[0].require_names[1], "bob");
	assert_null(c->vdirs[0].require_names[2]);
	assert_int_equal(c->vdirs[2].auth, 0);
	assert_string_equal(vdir_key(&c->vdirs[2], "root"), "/");
	assert_string_equal(vdir_key(&c->vdirs[2], "index"), "index.html"); /* default */
	assert_int_equal(c->nmodules, 2);
	config_free(c);
	diag_free(&d);
	free(text);
	unlink(certf);
}

static void test_defaults_and_implicit_pool(void **state)
{
	struct diag d = { 0 };
	struct config *c = load(BASE "[vdir /x]\nauth = anonymous\n", &d, false);

	(void)state;
	/* the implicit pool's user is idgate-pool (scripts/deps and the
	 * package create it); a machine without it gets exactly this */
	if (!getpwnam(IDGATE_POOL_USER)) {
		assert_null(c);
		assert_true(has_exact(&d, "t.conf: [pool default] user: no such user 'idgate-pool'"));
		diag_free(&d);
		return;
	}
	assert_non_null(c);
	assert_int_equal(c->server.nlisten, 1);
	assert_string_equal(c->server.listen[0].text, "127.0.0.1:8080");
	assert_int_equal(c->server.ids.min_uid, 1000);
	assert_int_equal(c->server.ids.max_uid, 60000);
	assert_int_equal(c->server.ids.min_gid, 1000);
	assert_int_equal(c->server.ids.max_gid, 60000);
	/* "users", where the machine has it */
	struct group *users = getgrnam("users");
	assert_int_equal(c->server.ids.nextra, users ? 1 : 0);
	if (users)
		assert_int_equal(c->server.ids.extra_gids[0], users->gr_gid);
	assert_int_equal(c->server.max_connections, 1024);
	assert_string_equal(c->server.tls_priorities, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2");
	assert_int_equal(c->server.idle_timeout_ms, 60000);
	assert_string_equal(c->server.access_log, ""); /* none unless asked for */
	assert_int_equal(c->npools, 1);
	assert_string_equal(c->pools[0].name, "default");
	assert_string_equal(c->pools[0].user, "idgate-pool");
	assert_int_equal(c->pools[0].threads, 8);
	assert_int_equal(c->pools[0].rapid_fail_count, 5);
	assert_int_equal(c->pools[0].rapid_fail_window_ms, 300000);
	assert_string_equal(c->vdirs[0].handler, "static");
	assert_int_equal(c->vdirs[0].impersonate, IMPERSONATE_FALSE);
	assert_int_equal(c->vdirs[0].delegation, DELEGATION_NONE);
	config_free(c);
	diag_free(&d);
}

/* ---------------------------------------------------------------- syntax */

static void test_syntax_errors(void **state)
{
	(void)state;
	EXPECT(BASE "lisen = 1.2.3.4:80\n", "t.conf:4: [server] unknown key 'lisen'");
	EXPECT("x = 1\n" BASE, "t.conf:1: key 'x' outside of any section");
	EXPECT(BASE "just words\n", "t.conf:4: expected 'key = value' or '[section]'");
	EXPECT(BASE "[pool a\n", "t.conf:4: section header without ']'");
	EXPECT(BASE "[pool a] trailing\n", "t.conf:4: text after section header: 'trailing'");
	EXPECT(BASE "[frontend]\nx = 1\n",
	       "t.conf:4: unknown section [frontend] (expected [server], [pool NAME] or [vdir PATH])");
	EXPECT(BASE "[server]\n", "t.conf:4: [server] repeated (first at line 1)");
	EXPECT(BASE "user = nobody\n",
	       "t.conf:4: [server] key 'user' repeated (first at line 2)");
	EXPECT(BASE "[pool p]\nuser = daemon\n[vdir /]\npool = p\nauth = anonymous\n",
	       "t.conf:5: [pool p] user: 'daemon' is also the front end's ([server] user): its "
	       "handlers could signal the front end; give the pool a user of its own");
}

static void test_line_limits(void **state)
{
	char *text = malloc(8000);
	struct diag d = { 0 };

	(void)state;
	strcpy(text, BASE "acceptor = ");
	memset(text + strlen(text), 'a', 5000);
	strcpy(text + strlen(BASE "acceptor = ") + 5000, "\n");
	assert_null(load(text, &d, false));
	assert_true(has_exact(&d, "t.conf:4: line longer than 4096 bytes"));
	diag_free(&d);
	free(text);
}

static void test_every_problem_reported(void **state)
{
	(void)state;
	EXPECT(BASE "min_uid = zero\nbogus = 1\n[pool p]\nthreads = 0\n[vdir /a]\nimpersonate = yes\n",
	       "t.conf:4: [server] min_uid: 'zero': expected a number",
	       "t.conf:5: [server] unknown key 'bogus'",
	       "t.conf:7: [pool p] threads: '0': must be between 1 and 1024",
	       "t.conf:9: [vdir /a] impersonate: 'yes': expected false, true or allowed");
}

static void test_id_policy_keys(void **state)
{
	struct diag d = { 0 };
	struct config *c;

	(void)state;
	c = load(BASE "min_uid = 500\nmax_uid = 70000\nmin_gid = 600\nmax_gid = 65000\n"
		      "impersonate_groups = nogroup, daemon\n", &d, false);
	diag_print(&d, stderr);
	assert_non_null(c);
	assert_int_equal(c->server.ids.min_uid, 500);
	assert_int_equal(c->server.ids.max_uid, 70000);
	assert_int_equal(c->server.ids.min_gid, 600);
	assert_int_equal(c->server.ids.max_gid, 65000);
	assert_int_equal(c->server.ids.nextra, 2);
	assert_int_equal(c->server.ids.extra_gids[0], getgrnam("nogroup")->gr_gid);
	assert_int_equal(c->server.ids.extra_gids[1], getgrnam("daemon")->gr_gid);
	config_free(c);
	diag_free(&d);
	/* empty: no group below the floor at all */
	c = load(BASE "impersonate_groups =\n", &d, false);
	assert_non_null(c);
	assert_int_equal(c->server.ids.nextra, 0);
	config_free(c);
	diag_free(&d);
	EXPECT(BASE "max_uid = 999\n",
	       "t.conf:4: [server] min_uid 1000 is above max_uid 999: nobody could be impersonated",
	       "t.conf:4: [server] min_gid 1000 is above max_gid 999: no group could be used");
	EXPECT(BASE "max_uid = 999\nmax_gid = 2000\n",
	       "t.conf:4: [server] min_uid 1000 is above max_uid 999: nobody could be impersonated");
	EXPECT(BASE "min_gid = 5000\nmax_gid = 4000\n",
	       "t.conf:5: [server] min_gid 5000 is above max_gid 4000: no group could be used");
	EXPECT(BASE "max_uid = 4294967295\n",
	       "t.conf:4: [server] max_uid: '4294967295': must be between 1 and 4294967294");
	EXPECT(BASE "impersonate_groups = users no-such-group-xyz\n",
	       "t.conf:4: [server] impersonate_groups: no group 'no-such-group-xyz'");
	EXPECT(BASE "impersonate_groups = root\n",
	       "t.conf:4: [server] impersonate_groups: 'root' is gid 0: never impersonated");
}

/* ---------------------------------------------------------------- include */

static char incdir[64];

static void put_file(const char *rel, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", incdir, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static struct config *load_main(struct diag *d, bool modules)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/main.conf", incdir);
	return config_load(path, d, modules);
}

/* the message at a file of incdir, e.g. in("conf.d/b.conf:3: ...") */
static bool has_in(const struct diag *d, const char *rel_msg)
{
	char want[512];

	snprintf(want, sizeof(want), "%s/%s", incdir, rel_msg);
	return has_exact(d, want);
}

static int include_setup(void **state)
{
	(void)state;
	snprintf(incdir, sizeof(incdir), "/tmp/idgate-inc-XXXXXX");
	assert_non_null(mkdtemp(incdir));
	char path[256];
	snprintf(path, sizeof(path), "%s/conf.d", incdir);
	return mkdir(path, 0755);
}

static int include_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", incdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_include(void **state)
{
	struct diag d = { 0 };
	struct config *c;

	(void)state;
	/* an empty conf.d: fine */
	put_file("main.conf", BASE "[vdir /]\nauth = anonymous\nhandler = whoami\n"
			      "include = conf.d/*.conf   # the package's and the tools' vdirs\n");
	c = load_main(&d, false);
	diag_print(&d, stderr);
	assert_non_null(c);
	assert_int_equal(c->nvdirs, 1);
	config_free(c);
	diag_free(&d);
	/* two files, read in name order, as if they stood at the include line */
	put_file("conf.d/20-b.conf", "[vdir /b]\nauth = anonymous\nhandler = whoami\n");
	put_file("conf.d/10-a.conf", "# a\n[vdir /a]\nauth = anonymous\nhandler = whoami\n");
	c = load_main(&d, false);
	assert_non_null(c);
	assert_int_equal(c->nvdirs, 3);
	config_free(c);
	diag_free(&d);
	/* a problem in an included file: that file and its line */
	put_file("conf.d/20-b.conf", "[vdir /b]\nauth = anonymous\nimpersonate = yes\n");
	assert_null(load_main(&d, false));
	assert_true(has_in(&d, "conf.d/20-b.conf:3: [vdir /b] impersonate: 'yes': expected false, "
			       "true or allowed"));
	assert_int_equal(d.nerrors, 1);
	diag_free(&d);
	/* a repeated section names where the first one is */
	put_file("conf.d/20-b.conf", "[vdir /a]\nauth = anonymous\n");
	assert_null(load_main(&d, false));
	char first[512];
	snprintf(first, sizeof(first), "conf.d/20-b.conf:1: [vdir /a] repeated (first at "
		 "%s/conf.d/10-a.conf:2)", incdir);
	diag_print(&d, stderr);
	assert_true(has_in(&d, first));
	diag_free(&d);
	/* a key after the include line belongs to no section */
	put_file("conf.d/20-b.conf", "[vdir /b]\nauth = anonymous\n");
	put_file("main.conf", BASE "include = conf.d/*.conf\nthreads = 2\n");
	assert_null(load_main(&d, false));
	assert_true(has_in(&d, "main.conf:5: key 'threads' outside of any section"));
	diag_free(&d);
	/* a file that does not exist, an include loop, nothing to include */
	put_file("main.conf", BASE "include = conf.d/none.conf\n");
	assert_null(load_main(&d, false));
	char none[512];
	snprintf(none, sizeof(none), "main.conf:4: include %s/conf.d/none.conf: no such file",
		 incdir);
	assert_int_equal(d.nerrors, 1);
	assert_true(has_in(&d, none));
	diag_free(&d);
	put_file("main.conf", BASE "include = main.conf\n");
	assert_null(load_main(&d, false));
	char loop[512];
	snprintf(loop, sizeof(loop), "main.conf:4: include %s/main.conf: it is being read "
		 "already (an include loop)", incdir);
	assert_int_equal(d.nerrors, 1);
	assert_true(has_in(&d, loop));
	diag_free(&d);
	put_file("main.conf", BASE "include =\n");
	assert_null(load_main(&d, false));
	assert_true(has_in(&d, "main.conf:4: include: expected a file or a pattern (e.g. "
			       "conf.d/*.conf)"));
	diag_free(&d);
}

/* what a module says of a key in an included file: that file's line */
static void test_include_module_errors(void **state)
{
	struct diag d = { 0 };
	struct config *c;

	(void)state;
	put_file("main.conf", "[server]\nuser = daemon\npam_service =\nmodules_dir = "
			      MODULES_BUILDDIR "\n[pool default]\nuser = nobody\n"
			      "include = conf.d/s.conf\n");
	put_file("conf.d/s.conf", "\n[vdir /s]\nauth = anonymous\nhandler = static\n"
				  "root = /nonexistent-idgate\n");
	c = load_main(&d, true);
	assert_non_null(c);
	assert_int_equal(config_check_modules(c, &d), -1);
	assert_true(has_in(&d, "conf.d/s.conf:5: [vdir /s] handler 'static': root: "
			       "/nonexistent-idgate: No such file or directory"));
	config_free(c);
	diag_free(&d);
}

static void test_missing_file(void **state)
{
	struct diag d = { 0 };

	(void)state;
	assert_null(config_load("/nonexistent/idgate.conf", &d, false));
	assert_true(has_exact(&d, "/nonexistent/idgate.conf: cannot open: No such file or directory"));
	diag_free(&d);
}

/* ---------------------------------------------------------------- [server] */

static void test_server_values(void **state)
{
	(void)state;
	EXPECT(BASE "listen = 127.0.0.1\n",
	       "t.conf:4: [server] listen: '127.0.0.1': expected ADDRESS:PORT");
	EXPECT(BASE "listen = 127.0.0.1:0\n",
	       "t.conf:4: [server] listen: '127.0.0.1:0': port must be a number from 1 to 65535");
	EXPECT(BASE "listen = 127.0.0.1:70000\n",
	       "t.conf:4: [server] listen: '127.0.0.1:70000': port must be a number from 1 to 65535");
	EXPECT(BASE "listen = host.example:80\n",
	       "t.conf:4: [server] listen: 'host.example:80': not an IP address (use an IPv4 address, [IPv6] or *)");
	EXPECT(BASE "listen = ::1:80\n",
	       "t.conf:4: [server] listen: '::1:80': IPv6 address must be written [ADDRESS]:PORT");
	EXPECT(BASE "listen = [::1:80\n",
	       "t.conf:4: [server] listen: '[::1:80': IPv6 address must be written [ADDRESS]:PORT");
	EXPECT(BASE "listen = [::1]:80 ssl\n",
	       "t.conf:4: [server] listen: '[::1]:80 ssl': expected ADDRESS:PORT optionally followed by 'tls' and 'proxy'");
	EXPECT(BASE "listen = 127.0.0.1:80 proxy proxy\nproxy_protocol_from = 127.0.0.1\n",
	       "t.conf:4: [server] listen: '127.0.0.1:80 proxy proxy': 'tls' or 'proxy' given twice");
	EXPECT(BASE "listen = 127.0.0.1:80 proxyv2\n",
	       "t.conf:4: [server] listen: '127.0.0.1:80 proxyv2': expected ADDRESS:PORT optionally followed by 'tls' and 'proxy'");
	EXPECT(BASE "listen = 127.0.0.1:80 proxy\n",
	       "t.conf:4: [server] listen: '127.0.0.1:80 proxy' reads a PROXY header: set "
	       "proxy_protocol_from (who may send one), or every connection is refused");
	EXPECT(BASE "listen = 127.0.0.1:80\nlisten = 127.0.0.1:80\n",
	       "t.conf:5: [server] listen: '127.0.0.1:80' repeated (first at line 4)");
	EXPECT(BASE "listen = 127.0.0.1:443 tls\n",
	       "t.conf:4: [server] listen: '127.0.0.1:443 tls' is a tls listener: set tls_cert and tls_key");
	EXPECT(BASE "listen = 127.0.0.1:443 tls\ntls_cert = /nonexistent/c\ntls_key = /nonexistent/k\n",
	       "t.conf:4: [server] tls_cert /nonexistent/c: No such file or directory",
	       "t.conf:4: [server] tls_key /nonexistent/k: No such file or directory");
	EXPECT(BASE "min_uid = 0\n", "t.conf:4: [server] min_uid: '0': must be between 1 and 4294967294");
	EXPECT(BASE "keytab = FILE:/nonexistent/http.keytab\n[vdir /]\nhandler = whoami\n",
	       "t.conf:4: [server] keytab /nonexistent/http.keytab: No such file or directory");
	EXPECT(BASE "tls_priorities = NORMAL:+VERS-TLS9.9\n",
	       "t.conf:4: [server] tls_priorities: 'NORMAL:+VERS-TLS9.9': GnuTLS refuses it at "
	       "'+VERS-TLS9.9'");
	EXPECT(BASE "idle_timeout = 5x\n",
	       "t.conf:4: [server] idle_timeout: '5x': unknown duration unit (use ms, s, m, h or d)");
	EXPECT(BASE "max_header_size = 10\n", "t.conf:4: [server] max_header_size: '10': size out of range");
	EXPECT(BASE "modules_dir = relative/dir\n",
	       "t.conf:4: [server] modules_dir: 'relative/dir': must be an absolute path");
	EXPECT(BASE "audit_log = audit.log\n",
	       "t.conf:4: [server] audit_log: 'audit.log': must be an absolute path, '-' or empty");
	EXPECT(BASE "access_log = logs/access.log\n",
	       "t.conf:4: [server] access_log: 'logs/access.log': must be an absolute path, '-' or "
	       "empty");
	EXPECT("[server]\nuser = daemon\npam_service = ../etc/shadow\n",
	       "t.conf:3: [server] pam_service: '../etc/shadow': not a PAM service name");
	EXPECT("[server]\nuser = no-such-user-xyz\npam_service =\n",
	       "t.conf:2: [server] user: no such user 'no-such-user-xyz'");
	EXPECT("[server]\nuser = root\npam_service =\n",
	       "t.conf:2: [server] user: 'root' is root: only the supervisor may hold root");
}

/* ---------------------------------------------------------------- [pool] */

static void test_pool_values(void **state)
{
	(void)state;
	EXPECT(BASE "[pool a]\nusr = nobody\n", "t.conf:5: [pool a] unknown key 'usr'");
	EXPECT(BASE "[pool a]\n[pool a]\n", "t.conf:5: [pool a] repeated (first at line 4)");
	EXPECT(BASE "[pool]\n",
	       "t.conf:4: [pool ]: a pool name is 1-64 letters, digits, '.', '_' or '-'");
	EXPECT(BASE "[pool a/b]\n",
	       "t.conf:4: [pool a/b]: a pool name is 1-64 letters, digits, '.', '_' or '-'");
	EXPECT(BASE "[pool a]\nuser = no-such-user-xyz\n",
	       "t.conf:5: [pool a] user: no such user 'no-such-user-xyz'");
	EXPECT(BASE "[pool a]\nuser = nobody\ngroup = no-such-group-xyz\n",
	       "t.conf:6: [pool a] group: no such group 'no-such-group-xyz'");
	EXPECT(BASE "[pool a]\nuser = root\n",
	       "t.conf:5: [pool a] user: 'root' is root: only the supervisor may hold root");
	EXPECT(BASE "[pool a]\nuser = nobody\ngroup = root\n",
	       "t.conf:6: [pool a] group: 'root' is gid 0: only the supervisor may hold root");
	EXPECT(BASE "[pool a]\nrapid_fail = 5\n",
	       "t.conf:5: [pool a] rapid_fail: '5': expected FAILURES/DURATION, e.g. 5/5m");
	EXPECT(BASE "[pool a]\nthreads = 2000\n",
	       "t.conf:5: [pool a] threads: '2000': must be between 1 and 1024");
}

/* ---------------------------------------------------------------- [vdir] */

static void test_vdir_paths(void **state)
{
	(void)state;
	EXPECT(BASE POOL "[vdir app]\n",
	       "t.conf:7: [vdir app]: a vdir is an absolute path without '.', '..', '%', '?', '#' or spaces");
	EXPECT(BASE POOL "[vdir /a/../b]\n",
	       "t.conf:7: [vdir /a/../b]: a vdir is an absolute path without '.', '..', '%', '?', '#' or spaces");
	EXPECT(BASE POOL "[vdir /a%20b]\n",
	       "t.conf:7: [vdir /a%20b]: a vdir is an absolute path without '.', '..', '%', '?', '#' or spaces");
	EXPECT(BASE POOL "[vdir /a]\nauth = anonymous\n[vdir //a/]\nauth = anonymous\n",
	       "t.conf:9: [vdir /a] repeated (first at line 7)");
}

static void test_vdir_values(void **state)
{
	(void)state;
	EXPECT(BASE POOL "[vdir /a]\npool = nope\n",
	       "t.conf:8: [vdir /a] pool: no [pool nope] section");
	EXPECT(BASE POOL "[vdir /a]\nauth = kerberos\n",
	       "t.conf:8: [vdir /a] auth: 'kerberos': expected negotiate, anonymous or 'negotiate basic'");
	EXPECT(BASE POOL "[vdir /a]\nauth = anonymous negotiate\n",
	       "t.conf:8: [vdir /a] auth: 'anonymous negotiate': expected negotiate, anonymous or 'negotiate basic'");
	EXPECT(BASE POOL "[vdir /a]\nrequire = everyone\n",
	       "t.conf:8: [vdir /a] require: 'everyone': expected valid-user, anonymous-ok, 'user NAME...' or 'group NAME...'");
	EXPECT(BASE POOL "[vdir /a]\nrequire = user\n",
	       "t.conf:8: [vdir /a] require: 'user': name at least one user or group");
	EXPECT(BASE POOL "[vdir /a]\nrequire = valid-user alice\n",
	       "t.conf:8: [vdir /a] require: 'valid-user alice': valid-user takes no names");
	EXPECT(BASE POOL "[vdir /a]\nrequire = anonymous-ok alice\n",
	       "t.conf:8: [vdir /a] require: 'anonymous-ok alice': anonymous-ok takes no names");
	EXPECT(BASE POOL "[vdir /a]\nrequire = group no-such-group-xyz\n",
	       "t.conf:8: [vdir /a] require: no such group 'no-such-group-xyz'");
	EXPECT(BASE POOL "[vdir /a]\ndelegation = always\n",
	       "t.conf:8: [vdir /a] delegation: 'always': expected none or store");
	EXPECT(BASE POOL "[vdir /a]\ndelegation = store\n",
	       "t.conf:8: [vdir /a] delegation = store needs impersonate = true or allowed: "
	       "delegated credentials are stored in a cache owned by the caller, for a handler "
	       "that runs as the caller");
	EXPECT(BASE POOL "[vdir /a]\nauth = anonymous\ndelegation = store\n",
	       "t.conf:9: [vdir /a] delegation = store: credentials are delegated only by "
	       "Negotiate, but auth does not offer it");
	EXPECT(BASE POOL "[vdir /a]\nhandler = ../x\n",
	       "t.conf:8: [vdir /a] handler: '../x': not a module name");
	EXPECT(BASE POOL "[vdir /a]\nauth = anonymous\nrequire = user alice\n",
	       "t.conf:9: [vdir /a] require: needs authentication, but auth = anonymous");
	EXPECT(BASE POOL "[vdir /a]\nauth = anonymous\nimpersonate = true\n",
	       "t.conf:9: [vdir /a] impersonate = true: an anonymous caller cannot be impersonated (auth = anonymous)");
	EXPECT(BASE POOL "[vdir /a]\nauth = negotiate basic\n",
	       "t.conf:8: [vdir /a] auth: basic sends passwords, so it needs a tls listener (or a "
	       "proxy listener behind a proxy that terminates TLS)");
	{
		/* a proxy listener is enough: TLS a trusted proxy terminated counts */
		struct diag d = { 0 };
		struct config *c = load(BASE "listen = 127.0.0.1:8080 proxy\n"
					"proxy_protocol_from = 127.0.0.1\n" POOL
					"[vdir /a]\nauth = negotiate basic\n", &d, false);
		assert_non_null(c);
		assert_int_equal(d.nerrors, 0);
		config_free(c);
		diag_free(&d);
	}
	EXPECT(BASE POOL "[vdir /a]\nauth = anonymous\nauth = negotiate\n",
	       "t.conf:9: [vdir /a] key 'auth' repeated (first at line 8)");
}

/* session = cookie and its keys; the key file itself: test_session.c and
 * t-session. */
static void test_vdir_sessions(void **state)
{
	char keyf[] = "/tmp/idgate-test-keyXXXXXX", *text;
	int fd = mkstemp(keyf);
	struct diag d = { 0 };
	struct config *c;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n",
			       65), 65);
	close(fd);
	text = xasprintf(BASE "session_key_file = %s\n" POOL "[vdir /a]\nsession = cookie\n"
			 "session_lifetime = 90m\nsession_samesite = strict\nsession_cookie = s1\n"
			 "[vdir /b]\nsession = cookie\n[vdir /c]\n", keyf);
	c = load(text, &d, false);
	assert_non_null(c);
	assert_int_equal(d.n, 0);
	for (size_t i = 0; i < c->nvdirs; i++) {
		const struct vdir_conf *v = &c->vdirs[i];
		if (strcmp(v->path, "/a") == 0)
			assert_true(v->session && v->session_lifetime_s == 5400 &&
				    v->samesite == SAMESITE_STRICT && !strcmp(v->session_cookie, "s1"));
		else if (strcmp(v->path, "/b") == 0)
			assert_true(v->session && v->session_lifetime_s == 3600 &&
				    v->samesite == SAMESITE_LAX &&
				    !strcmp(v->session_cookie, "idgate_session"));
		else
			assert_false(v->session);
	}
	config_free(c);
	free(text);
	unlink(keyf);
	EXPECT(BASE POOL "[vdir /a]\nsession = yes\n",
	       "t.conf:8: [vdir /a] session: 'yes': expected off or cookie");
	EXPECT(BASE POOL "[vdir /a]\nsession = cookie\n",
	       "t.conf:8: [vdir /a] session = cookie needs [server] session_key_file, the keys that "
	       "seal cookies");
	EXPECT(BASE POOL "[vdir /a]\nsession_lifetime = 31d\n",
	       "t.conf:8: [vdir /a] session_lifetime: '31d': must be between 1s and 30 days");
	EXPECT(BASE POOL "[vdir /a]\nsession_cookie = a b\n",
	       "t.conf:8: [vdir /a] session_cookie: 'a b': a cookie name is 1-64 letters, digits "
	       "or !#$%&'*+-.^_`|~");
	EXPECT(BASE "session_key_file = " "/nonexistent/key\n" POOL "[vdir /a;b]\nsession = cookie\n",
	       "t.conf:4: [server] session_key_file /nonexistent/key: No such file or directory",
	       "t.conf:9: [vdir /a;b] session = cookie: the path cannot be a cookie's Path (a ';' "
	       "or a byte that is not visible ASCII)");
	EXPECT(BASE "session_key_file = key\n", "t.conf:4: [server] session_key_file: 'key': must "
	       "be an absolute path");
	/* keys without session = cookie: a warning, no error */
	c = load(BASE POOL "[vdir /a]\nsession_samesite = None\n", &d, false);
	assert_non_null(c);
	assert_int_equal(d.nerrors, 0);
	assert_true(diag_has(&d, "t.conf:8: warning: [vdir /a] session_*: no effect without session = cookie"));
	config_free(c);
	diag_free(&d);
}

/* ---------------------------------------------------------------- kinds of values */

/* One wrong value per kind of value of the key tables (confkeys.c), with the
 * message each gave before the tables: those not tested above. */
static void test_value_kinds(void **state)
{
	char *text;

	(void)state;
	/* string: empty where a value is required */
	EXPECT(BASE "[pool a]\nuser = nobody\ngroup =\n",
	       "t.conf:6: [pool a] group: '': a value is required");
	/* path: too long for the sockets beneath it */
	text = xasprintf(BASE "runtime_dir = /%090d\n", 0);
	EXPECT(text, "t.conf:4: [server] runtime_dir: '/000000000000000000000000000000000000000"
	       "000000000000000000000000000000000000000000000000000': longer than 89 bytes");
	free(text);
	text = xasprintf(BASE "control_socket = /%0100d\n", 0);
	EXPECT(text, "t.conf:4: [server] control_socket: '/0000000000000000000000000000000000000"
	       "000000000000000000000000000000000000000000000000000000000000000': longer than 99 "
	       "bytes");
	free(text);
	/* bool, size (its unit), enum (its words, in the order written) */
	EXPECT(BASE "cpu_affinity = maybe\n",
	       "t.conf:4: [server] cpu_affinity: 'maybe': expected true or false");
	EXPECT(BASE "max_header_size = 5q\n",
	       "t.conf:4: [server] max_header_size: '5q': unknown size unit (use k, m or g)");
	EXPECT(BASE "audit_failure = maybe\n",
	       "t.conf:4: [server] audit_failure: 'maybe': expected refuse or continue");
	EXPECT(BASE POOL "[vdir /a]\nsession_samesite = Laxx\n",
	       "t.conf:8: [vdir /a] session_samesite: 'Laxx': expected Lax, Strict or None");
	/* custom: the admin listener, trusted proxies */
	EXPECT(BASE "admin_listen = 127.0.0.1:9100 tls\n",
	       "t.conf:4: [server] admin_listen: '127.0.0.1:9100 tls': the admin listener has no "
	       "tls: keep it on loopback");
	EXPECT(BASE "admin_listen = 127.0.0.1:9100 proxy\n",
	       "t.conf:4: [server] admin_listen: '127.0.0.1:9100 proxy': the admin listener reads no "
	       "PROXY header: keep it on loopback");
	EXPECT(BASE "proxy_protocol_from = 10.0.0.0/8 haproxy.example\n",
	       "t.conf:4: [server] proxy_protocol_from: 'haproxy.example': not an IPv4 or IPv6 address");
	EXPECT(BASE "admin_listen = 9100\n",
	       "t.conf:4: [server] admin_listen: '9100': expected ADDRESS:PORT");
	EXPECT(BASE "trusted_proxies = 10.0.0.0/8, proxy.example\n",
	       "t.conf:4: [server] trusted_proxies: 'proxy.example': not an IPv4 or IPv6 address");
	EXPECT(BASE "trusted_proxies = 10.0.0.0/33\n",
	       "t.conf:4: [server] trusted_proxies: '10.0.0.0/33': the prefix length is not a "
	       "number up to 32 (IPv4) or 128 (IPv6)");
}

/* What a value sets, and that the default listener gives way to the file's */
static void test_value_kinds_set(void **state)
{
	struct diag d = { 0 };
	struct config *c;

	(void)state;
	c = load(BASE "listen = 127.0.0.1:8080\naudit_failure = continue\ncpu_affinity = no\n"
		 "trusted_proxies = 10.0.0.0/8 ::1\nadmin_listen = [::1]:9100\n" POOL
		 "[vdir /a]\nauth = anonymous\nsession_samesite = STRICT\n", &d, false);
	diag_print(&d, stderr);
	assert_non_null(c);
	assert_int_equal(d.nerrors, 0);
	assert_int_equal(c->server.nlisten, 1);
	assert_int_equal(c->server.listen[0].line, 4);
	assert_false(c->server.audit_failure_refuse);
	assert_false(c->server.cpu_affinity);
	assert_int_equal(c->server.trusted_proxies.n, 2);
	assert_int_equal(c->server.admin_listen.addr.ss_family, AF_INET6);
	assert_int_equal(c->server.admin_listen.line, 8);
	assert_int_equal(c->vdirs[0].samesite, SAMESITE_STRICT); /* any case */
	assert_string_equal(c->vdirs[0].session_cookie, "idgate_session");
	assert_string_equal(c->vdirs[0].pool_name, "default");
	assert_int_equal(c->vdirs[0].pool_line, 0); /* a default records no line */
	config_free(c);
	diag_free(&d);
}

/* ---------------------------------------------------------------- key tables */

/* "t.conf:LINE: [SECT] KEY: '" -- how every refused value is told */
static bool value_refused(const struct diag *d, int line, const char *sect, const char *key)
{
	char prefix[200];

	if (line)
		snprintf(prefix, sizeof(prefix), "t.conf:%d: [%s] %s: '", line, sect, key);
	else
		snprintf(prefix, sizeof(prefix), "t.conf: [%s] %s: '", sect, key);
	for (size_t i = 0; i < d->n; i++)
		if (strncmp(d->msgs[i], prefix, strlen(prefix)) == 0) {
			fprintf(stderr, "%s\n", d->msgs[i]);
			return true;
		}
	return false;
}

/* Each default, written in the file, is a value its key takes; and the
 * defaults set when the file is read give no message at all (line 0). */
static void test_table_defaults_parse(void **state)
{
	static const char *const name[] = { "server", "pool", "vdir", NULL };
	static const char *const header[] = { "[server]", "[pool p]", "[vdir /a]" };
	static const char *const sect[] = { "server", "pool p", "vdir /a" };
	struct diag d = { 0 };
	size_t n = 0;

	(void)state;
	for (size_t i = 0; name[i] || conf_sections[i].name; i++) {
		assert_non_null(name[i]);
		assert_string_equal(conf_sections[i].name, name[i]);
		for (const struct conf_key *k = conf_sections[i].keys; k->name; k++) {
			if (!k->dflt)
				continue;
			char *text = xasprintf("%s\n%s = %s\n", header[i], k->name, k->dflt);
			config_free(load(text, &d, false));
			assert_false(value_refused(&d, 2, sect[i], k->name));
			diag_free(&d);
			free(text);
			n++;
		}
	}
	assert_true(n >= 40);
	/* the defaults of a file without keys; the implicit [pool default] too */
	config_free(load("[server]\n[pool p]\n[vdir /a]\n", &d, false));
	for (size_t i = 0; conf_sections[i].name; i++)
		for (const struct conf_key *k = conf_sections[i].keys; k->name; k++)
			assert_false(value_refused(&d, 0, sect[i], k->name) ||
				     value_refused(&d, 0, "pool default", k->name));
	diag_free(&d);
}

/* The field of each key is of its kind's C type (the setters store by size) */
static void test_table_fields(void **state)
{
	(void)state;
	for (size_t i = 0; conf_sections[i].name; i++) {
		for (const struct conf_key *k = conf_sections[i].keys; k->name; k++) {
			size_t want = 0;
			if (k->kind <= CONF_LIST)
				want = sizeof(char *);
			else if (k->kind == CONF_BOOL)
				want = sizeof(bool);
			else if (k->kind == CONF_UINT)
				want = sizeof(unsigned);
			else if (k->kind == CONF_SIZE || k->kind == CONF_DURATION)
				want = sizeof(uint64_t);
			else if (k->kind == CONF_ENUM)
				want = k->size == sizeof(bool) ? sizeof(bool) : sizeof(int);
			if (k->kind == CONF_CUSTOM)
				assert_non_null(k->set);
			else if (k->size != want)
				fail_msg("[%s] %s: a field of %zu bytes", conf_sections[i].name,
					 k->name, k->size);
			assert_true(k->kind != CONF_ENUM || k->words);
			assert_true(k->kind != CONF_NAME || k->bad);
			assert_non_null(k->help);
		}
	}
}

/* idgated -k: one line a key, of the tables, in their order */
static void test_keys_printed(void **state)
{
	char *out = NULL, *line, *save = NULL, type[160], want[600];
	size_t len = 0, n = 0;
	FILE *f = open_memstream(&out, &len);

	(void)state;
	assert_non_null(f);
	conf_keys_print(f);
	fclose(f);
	line = strtok_r(out, "\n", &save);
	for (size_t i = 0; conf_sections[i].name; i++) {
		for (const struct conf_key *k = conf_sections[i].keys; k->name; k++, n++) {
			conf_key_type(k, type, sizeof(type));
			snprintf(want, sizeof(want), "%s\t%s\t%s\t%s%s%s\t%s", conf_sections[i].name,
				 k->name, type, k->dflt ? "\"" : "", k->dflt ? k->dflt : "-",
				 k->dflt ? "\"" : "", k->help);
			assert_non_null(line);
			assert_string_equal(line, want);
			line = strtok_r(NULL, "\n", &save);
		}
	}
	assert_null(line);
	assert_int_equal(n, 52);
	free(out);
	/* the format, as t-man-keys and people read it */
	f = open_memstream(&out, &len);
	conf_keys_print(f);
	fclose(f);
	assert_non_null(strstr(out, "server\tmin_uid\tuint 1..4294967294\t\"1000\"\t"
				    "accounts below it are never impersonated\n"));
	assert_non_null(strstr(out, "\nserver\tmin_gid\tuint 1..4294967294\t-\t"));
	assert_non_null(strstr(out, "\nserver\taudit_failure\tenum refuse|continue\t\"refuse\"\t"));
	assert_non_null(strstr(out, "\nserver\tcontrol_socket\tpath (at most 99 bytes)|empty\t-\t"));
	assert_non_null(strstr(out, "\npool\tthreads\tuint 1..1024\t\"8\"\t"));
	assert_non_null(strstr(out, "\nvdir\tsession_samesite\tenum Lax|Strict|None (any case)\t"
				    "\"Lax\"\t"));
	const char first[] = "server\tlisten\taddress [tls] [proxy], repeatable\t\"127.0.0.1:8080\"\t";
	assert_true(strncmp(out, first, strlen(first)) == 0);
	free(out);
}

/* ---------------------------------------------------------------- modules */

/* the daemon's module ABI version, as text */
#define IDG_ABI_STR(x) #x
#define IDG_ABI_XSTR(x) IDG_ABI_STR(x)
#define IDG_ABI_TEXT IDG_ABI_XSTR(IDG_MODULE_ABI_VERSION)

#define TM "[server]\nuser = daemon\npam_service =\nmodules_dir = " TESTMODS_BUILDDIR "\n" POOL

static void test_module_loading(void **state)
{
	(void)state;
	EXPECT_MOD(TM "[vdir /a]\nhandler = nosuch\n",
		   "t.conf:9: [vdir /a] handler 'nosuch': cannot load " TESTMODS_BUILDDIR
		   "/nosuch.so: No such file or directory");
	EXPECT_MOD(TM "[vdir /a]\nhandler = tbadabi\n",
		   "t.conf:9: [vdir /a] handler 'tbadabi': module ABI version 99, idgated needs " IDG_ABI_TEXT);
	EXPECT_MOD("[server]\nuser = daemon\npam_service =\nmodules_dir = /nonexistent\n" POOL
		   "[vdir /a]\nhandler = whoami\n",
		   "t.conf:9: [vdir /a] handler 'whoami': modules_dir /nonexistent: No such file or directory");
}

static void test_module_keys(void **state)
{
	(void)state;
	EXPECT_MOD(TM "[vdir /a]\nhandler = tallowed\nmust = x\nroot = /\n",
		   "t.conf:11: [vdir /a] unknown key 'root' (not a vdir key, nor one of handler 'tallowed')");
	EXPECT_MOD(TM "[vdir /a]\nhandler = tallowed\n",
		   "t.conf:8: [vdir /a] handler 'tallowed' needs key 'must' (a required key)");
	EXPECT_MOD(TM "[vdir /a]\nhandler = tallowed\nmust = x\ndir = rel\nflag = maybe\n"
		   "count = -1\nlimit = 1q\nwait = 1y\nlabel = a b\n",
		   "t.conf:11: [vdir /a] handler 'tallowed': dir: 'rel': must be an absolute path",
		   "t.conf:12: [vdir /a] handler 'tallowed': flag: 'maybe': expected true or false",
		   "t.conf:13: [vdir /a] handler 'tallowed': count: '-1': expected a number",
		   "t.conf:14: [vdir /a] handler 'tallowed': limit: '1q': unknown size unit (use k, m or g)",
		   "t.conf:15: [vdir /a] handler 'tallowed': wait: '1y': unknown duration unit (use ms, s, m, h or d)",
		   "t.conf:16: [vdir /a] handler 'tallowed': label: 'a b': expected letters, digits, '.', '_' or '-'");
	EXPECT_MOD(TM "[vdir /a]\nhandler = tallowed\nmust = x\ntext = fail-init\n",
		   "t.conf:11: [vdir /a] handler 'tallowed': text: init refused 'fail-init'");
}

static void test_impersonation_option(void **state)
{
	(void)state;
	EXPECT_MOD(TM "[vdir /queue]\nhandler = tnotallowed\nimpersonate = true\n",
		   "t.conf:10: [vdir /queue] impersonate = true, but handler 'tnotallowed' is "
		   "not_allowed to impersonate: set impersonate = false");
	EXPECT_MOD(TM "[vdir /queue]\nhandler = tnotallowed\nimpersonate = allowed\n",
		   "t.conf:10: [vdir /queue] impersonate = allowed, but handler 'tnotallowed' is "
		   "not_allowed to impersonate: set impersonate = false");
	EXPECT_MOD(TM "[vdir /files]\nhandler = trequired\n",
		   "t.conf:8: [vdir /files] impersonate = false, but handler 'trequired' requires "
		   "impersonation: set impersonate = true");

	struct diag d = { 0 };
	struct config *c = load(TM "[vdir /files]\nhandler = trequired\nimpersonate = true\n"
				   "[vdir /q]\nhandler = tnotallowed\n", &d, true);
	diag_print(&d, stderr);
	assert_non_null(c);
	assert_int_equal(config_check_modules(c, &d), 0);
	config_free(c);
	diag_free(&d);
}

int main(void)
{
	/* vdirs use Negotiate by default, which needs a keytab that can be
	 * opened: krb5's default one is this empty file */
	char kt[] = "/tmp/idgate-test-ktXXXXXX";
	int fd = mkstemp(kt);
	char env[64];
	snprintf(env, sizeof(env), "FILE:%s", kt);
	setenv("KRB5_KTNAME", env, 1);
	if (fd >= 0)
		close(fd);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_valid),
		cmocka_unit_test(test_defaults_and_implicit_pool),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_line_limits),
		cmocka_unit_test(test_every_problem_reported),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_id_policy_keys),
		cmocka_unit_test_setup_teardown(test_include, include_setup, include_teardown),
		cmocka_unit_test_setup_teardown(test_include_module_errors, include_setup,
						include_teardown),
		cmocka_unit_test(test_server_values),
		cmocka_unit_test(test_pool_values),
		cmocka_unit_test(test_vdir_paths),
		cmocka_unit_test(test_vdir_values),
		cmocka_unit_test(test_vdir_sessions),
		cmocka_unit_test(test_value_kinds),
		cmocka_unit_test(test_value_kinds_set),
		cmocka_unit_test(test_table_defaults_parse),
		cmocka_unit_test(test_table_fields),
		cmocka_unit_test(test_keys_printed),
		cmocka_unit_test(test_module_loading),
		cmocka_unit_test(test_module_keys),
		cmocka_unit_test(test_impersonation_option),
	};
	int rc = cmocka_run_group_tests_name("config", tests, NULL, NULL);
	unlink(kt);
	return rc;
}
