/* test_keytabcheck.c -- idgated -t's keytab check (keytabcheck.h) on
 * FILE: keytabs written here with krb5_kt_add_entry: the listing (order,
 * kvnos, enctypes, an unknown enctype, never a key's bytes), weak keys,
 * every acceptor form, the names looked for when acceptor is empty
 * (canonical host name, localhost on loopback listeners), keytabs that
 * are empty, emptied or not keytabs, and vdirs that do not use Negotiate.
 * krb5.conf is this test's own: realm UNIT.TEST, no DNS canonicalisation,
 * so this host's canonical name is gethostname()'s in lower case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <krb5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "diag.h"
#include "keytabcheck.h"
#include "util.h"

static char dir[] = "/tmp/idgate-test-ktcheckXXXXXX";
static char host[256]; /* this host's canonical name, as MIT makes it here */
static krb5_context ctx;

/* The key bytes every entry gets: never to be seen in the output. */
static const unsigned char KEY[32] = "\x8e\x11\xa5\x3c\x07\xd2\x99\x41KEYBYTES-never-printed!";

static char *path_of(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

/* Add PRINCIPAL kvno KVNO enctype ENC to the FILE: keytab NAME. */
static void add_key(const char *name, const char *principal, unsigned kvno, krb5_enctype enc)
{
	char *path = path_of(name), *ktname = xasprintf("FILE:%s", path);
	krb5_keytab kt;
	krb5_keytab_entry e;

	memset(&e, 0, sizeof(e));
	assert_int_equal(krb5_kt_resolve(ctx, ktname, &kt), 0);
	assert_int_equal(krb5_parse_name(ctx, principal, &e.principal), 0);
	e.vno = kvno;
	e.key.enctype = enc;
	e.key.length = sizeof(KEY);
	e.key.contents = (krb5_octet *)KEY;
	assert_int_equal(krb5_kt_add_entry(ctx, kt, &e), 0);
	krb5_free_principal(ctx, e.principal);
	krb5_kt_close(ctx, kt);
	free(ktname);
	free(path);
}

static void write_file(const char *name, const void *bytes, size_t n)
{
	char *path = path_of(name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(bytes, 1, n, f), n);
	fclose(f);
	free(path);
}

struct run {
	char *out;    /* what was listed */
	size_t outlen;
	struct diag d;
	int errors;
};

/* keytab_check on a configuration: line 1 [server], 2 listen, 3 keytab,
 * 4 acceptor (when not NULL); the vdir's auth (NULL: the default,
 * Negotiate). */
static void run(struct run *r, const char *keytab, const char *listen, const char *acceptor,
		const char *auth)
{
	char *kt = path_of(keytab);
	char *text = xasprintf("[server]\nlisten = %s\nkeytab = %s\n%s%s%suser = daemon\n"
			       "pam_service =\n[pool default]\nuser = nobody\ngroup = nogroup\n"
			       "[vdir /]\nhandler = whoami\n%s%s%s",
			       listen, kt, acceptor ? "acceptor = " : "", acceptor ? acceptor : "",
			       acceptor ? "\n" : "", auth ? "auth = " : "", auth ? auth : "",
			       auth ? "\n" : "");
	struct config *c;
	FILE *out;

	memset(r, 0, sizeof(*r));
	c = config_load_string("t.conf", text, &r->d, false);
	if (!c) {
		diag_print(&r->d, stderr);
		fail_msg("the configuration does not load");
	}
	out = open_memstream(&r->out, &r->outlen);
	r->errors = keytab_check(c, &r->d, out);
	fclose(out);
	config_free(c);
	free(text);
	free(kt);
}

static void run_free(struct run *r)
{
	free(r->out);
	diag_free(&r->d);
}

/* Exactly one message, and it is `want` with the keytab's path put for
 * every %s. */
static void expect_one(const struct run *r, const char *fmt, const char *keytab)
{
	char *path = path_of(keytab);
	char *want = xasprintf(fmt, path, path, path);

	if (r->d.n != 1 || strcmp(r->d.msgs[0], want) != 0) {
		fprintf(stderr, "want: %s\ngot %zu messages:\n", want, r->d.n);
		diag_print(&r->d, stderr);
		fail();
	}
	free(want);
	free(path);
}

static void expect_clean(const struct run *r)
{
	if (r->d.n != 0) {
		diag_print(&r->d, stderr);
		fail_msg("messages where none was expected");
	}
	assert_int_equal(r->errors, 0);
}

/* -t on that keytab, listener and acceptor finds nothing to say */
static void expect_ok(const char *keytab, const char *listen, const char *acceptor)
{
	struct run r;

	run(&r, keytab, listen, acceptor, NULL);
	expect_clean(&r);
	run_free(&r);
}

/* ---------------------------------------------------------------- listing */

static void test_listing(void **state)
{
	struct run r;
	char *path = path_of("list.kt"), *want;

	(void)state;
	add_key("list.kt", "HTTP/localhost@UNIT.TEST", 3, ENCTYPE_AES256_CTS_HMAC_SHA1_96);
	add_key("list.kt", "HTTP/localhost@UNIT.TEST", 3, ENCTYPE_AES128_CTS_HMAC_SHA1_96);
	add_key("list.kt", "HTTP/localhost@UNIT.TEST", 2, ENCTYPE_AES256_CTS_HMAC_SHA384_192);
	add_key("list.kt", "host/localhost@UNIT.TEST", 7, ENCTYPE_CAMELLIA256_CTS_CMAC);
	add_key("list.kt", "HTTP/localhost@UNIT.TEST", 4, 99);
	run(&r, "list.kt", "127.0.0.1:80", NULL, NULL);
	expect_clean(&r);
	want = xasprintf("keytab FILE:%s: HTTP/localhost@UNIT.TEST kvno 3 aes256-cts-hmac-sha1-96\n"
			 "keytab FILE:%s: HTTP/localhost@UNIT.TEST kvno 3 aes128-cts-hmac-sha1-96\n"
			 "keytab FILE:%s: HTTP/localhost@UNIT.TEST kvno 2 aes256-cts-hmac-sha384-192\n"
			 "keytab FILE:%s: host/localhost@UNIT.TEST kvno 7 camellia256-cts-cmac\n"
			 "keytab FILE:%s: HTTP/localhost@UNIT.TEST kvno 4 enctype 99\n",
			 path, path, path, path, path);
	assert_string_equal(r.out, want);
	/* not a run of the key's bytes, raw or in hex */
	assert_null(memmem(r.out, r.outlen, KEY, 8));
	assert_null(strstr(r.out, "8e11a5"));
	assert_null(strstr(r.out, "KEYBYTES"));
	free(want);
	free(path);
	run_free(&r);
}

static void test_weak_keys(void **state)
{
	struct run r;

	(void)state;
	add_key("weak.kt", "HTTP/localhost@UNIT.TEST", 2, ENCTYPE_AES256_CTS_HMAC_SHA1_96);
	add_key("weak.kt", "HTTP/localhost@UNIT.TEST", 1, ENCTYPE_ARCFOUR_HMAC);
	add_key("weak.kt", "HTTP/localhost@UNIT.TEST", 1, ENCTYPE_DES3_CBC_SHA1);
	add_key("weak.kt", "HTTP/mixed@UNIT.TEST", 5, ENCTYPE_ARCFOUR_HMAC);
	add_key("weak.kt", "HTTP/mixed@UNIT.TEST", 5, ENCTYPE_AES128_CTS_HMAC_SHA1_96);
	add_key("weak.kt", "HTTP/old@UNIT.TEST", 1, ENCTYPE_DES_CBC_CRC);
	run(&r, "weak.kt", "127.0.0.1:80", NULL, NULL);
	assert_int_equal(r.errors, 0);
	assert_int_equal(r.d.nerrors, 0);
	assert_int_equal(r.d.n, 2);
	char *path = path_of("weak.kt");
	char *w1 = xasprintf("t.conf:3: warning: [server] keytab FILE:%s: HTTP/localhost@UNIT.TEST "
			     "kvno 1 has only weak keys (arcfour-hmac, des3-cbc-sha1): DES, 3DES "
			     "and RC4 are deprecated; add AES keys", path);
	char *w2 = xasprintf("t.conf:3: warning: [server] keytab FILE:%s: HTTP/old@UNIT.TEST "
			     "kvno 1 has only weak keys (des-cbc-crc): DES, 3DES and RC4 are "
			     "deprecated; add AES keys", path);
	assert_string_equal(r.d.msgs[0], w1);
	assert_string_equal(r.d.msgs[1], w2);
	free(w1);
	free(w2);
	free(path);
	run_free(&r);
}

/* ---------------------------------------------------------------- acceptor */

static void test_acceptor_forms(void **state)
{
	static const char *const found[] = {
		"HTTP/www.example.org@UNIT.TEST", "HTTP/www.example.org", "HTTP@www.example.org",
		"HTTP@WWW.Example.ORG", "http@www.example.org", "HTTP@", "HTTP",
	};
	struct run r;

	(void)state;
	add_key("acc.kt", "HTTP/www.example.org@UNIT.TEST", 2, ENCTYPE_AES256_CTS_HMAC_SHA1_96);
	add_key("acc.kt", "HTTP/a/b@UNIT.TEST", 2, ENCTYPE_AES256_CTS_HMAC_SHA1_96);
	add_key("acc.kt", "nfs/www.example.org@UNIT.TEST", 2, ENCTYPE_AES256_CTS_HMAC_SHA1_96);
	/* a wildcard listener: no listener check when acceptor is set */
	for (size_t i = 0; i < sizeof(found) / sizeof(found[0]); i++)
		expect_ok("acc.kt", "0.0.0.0:80", found[i]);
	run(&r, "acc.kt", "0.0.0.0:80", "HTTP/www.example.org@OTHER.TEST", NULL);
	expect_one(&r, "t.conf:4: [server] acceptor HTTP/www.example.org@OTHER.TEST: no key for "
		   "HTTP/www.example.org@OTHER.TEST in keytab FILE:%s; it has "
		   "HTTP/www.example.org@UNIT.TEST, HTTP/a/b@UNIT.TEST, "
		   "nfs/www.example.org@UNIT.TEST", "acc.kt");
	assert_int_equal(r.errors, 1);
	run_free(&r);
	/* a principal of three components is not HTTP/<host> */
	run(&r, "acc.kt", "0.0.0.0:80", "HTTP@a", NULL);
	expect_one(&r, "t.conf:4: [server] acceptor HTTP@a: no key for HTTP/a (any realm) in "
		   "keytab FILE:%s; it has HTTP/www.example.org@UNIT.TEST, HTTP/a/b@UNIT.TEST, "
		   "nfs/www.example.org@UNIT.TEST", "acc.kt");
	run_free(&r);
	run(&r, "acc.kt", "0.0.0.0:80", "cifs@", NULL);
	expect_one(&r, "t.conf:4: [server] acceptor cifs@: no key for cifs/<any host> (any "
		   "realm) in keytab FILE:%s; it has HTTP/www.example.org@UNIT.TEST, "
		   "HTTP/a/b@UNIT.TEST, nfs/www.example.org@UNIT.TEST", "acc.kt");
	run_free(&r);
}

/* ---------------------------------------------------------------- listeners */

static void test_listener_names(void **state)
{
	char *canon = xasprintf("HTTP/%s@ELSEWHERE.TEST", host);
	struct run r;

	(void)state;
	add_key("lo.kt", "HTTP/localhost@UNIT.TEST", 2, ENCTYPE_AES256_CTS_HMAC_SHA1_96);
	add_key("canon.kt", canon, 2, ENCTYPE_AES256_CTS_HMAC_SHA1_96);
	expect_ok("lo.kt", "127.0.0.2:80", NULL);
	expect_ok("lo.kt", "[::1]:80", NULL);
	expect_ok("canon.kt", "127.0.0.1:80", NULL);
	expect_ok("canon.kt", "*:80", NULL);
	run(&r, "lo.kt", "192.0.2.7:443", NULL, NULL);
	char *fmt = xasprintf("t.conf:3: [server] keytab FILE:%%s: no key for HTTP/%s (any "
			      "realm), the name clients use for listen 192.0.2.7:443 (this host's "
			      "canonical name); it has HTTP/localhost@UNIT.TEST (set acceptor if "
			      "clients use another name)", host);
	expect_one(&r, fmt, "lo.kt");
	run_free(&r);
	free(fmt);
	add_key("other.kt", "HTTP/www.example.org@UNIT.TEST", 2, ENCTYPE_AES256_CTS_HMAC_SHA1_96);
	run(&r, "other.kt", "127.0.0.1:80", NULL, NULL);
	fmt = xasprintf("t.conf:3: [server] keytab FILE:%%s: no key for HTTP/%s or "
			"HTTP/localhost (any realm), the names clients use for listen "
			"127.0.0.1:80 (this host's canonical name, and localhost for a loopback "
			"address); it has HTTP/www.example.org@UNIT.TEST (set acceptor if clients "
			"use another name)", host);
	expect_one(&r, fmt, "other.kt");
	run_free(&r);
	free(fmt);
	free(canon);
}

/* ---------------------------------------------------------------- unreadable */

static void test_empty_and_not_keytabs(void **state)
{
	struct run r;

	(void)state;
	write_file("zero.kt", "", 0);
	run(&r, "zero.kt", "127.0.0.1:80", NULL, NULL);
	expect_one(&r, "t.conf:3: [server] keytab FILE:%s: it holds no key (an empty file)",
		   "zero.kt");
	assert_int_equal(r.errors, 1);
	assert_int_equal(r.outlen, 0);
	run_free(&r);
	write_file("header.kt", "\x05\x02", 2);
	run(&r, "header.kt", "127.0.0.1:80", NULL, NULL);
	expect_one(&r, "t.conf:3: [server] keytab FILE:%s: it holds no key", "header.kt");
	run_free(&r);
	write_file("text.kt", "not a keytab\n", 13);
	run(&r, "text.kt", "127.0.0.1:80", NULL, NULL);
	expect_one(&r, "t.conf:3: [server] keytab FILE:%s: not a keytab (Unsupported key table "
		   "format version number)", "text.kt");
	assert_int_equal(r.outlen, 0);
	run_free(&r);
}

static void test_only_with_negotiate(void **state)
{
	struct run r;

	(void)state;
	write_file("unused.kt", "not a keytab\n", 13);
	run(&r, "unused.kt", "127.0.0.1:80", NULL, "anonymous");
	expect_clean(&r);
	assert_int_equal(r.outlen, 0);
	run_free(&r);
}

/* ---------------------------------------------------------------- main */

static int setup(void **state)
{
	char *conf;
	FILE *f;

	(void)state;
	if (!mkdtemp(dir))
		return -1;
	conf = path_of("krb5.conf");
	f = fopen(conf, "w");
	if (!f)
		return -1;
	fprintf(f, "[libdefaults]\n\tdefault_realm = UNIT.TEST\n\tdns_canonicalize_hostname = "
		   "false\n\trdns = false\n");
	fclose(f);
	setenv("KRB5_CONFIG", conf, 1);
	free(conf);
	gethostname(host, sizeof(host) - 1);
	for (char *p = host; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return krb5_init_context(&ctx) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	(void)state;
	krb5_free_context(ctx);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(cmd);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listing),
		cmocka_unit_test(test_weak_keys),
		cmocka_unit_test(test_acceptor_forms),
		cmocka_unit_test(test_listener_names),
		cmocka_unit_test(test_empty_and_not_keytabs),
		cmocka_unit_test(test_only_with_negotiate),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
