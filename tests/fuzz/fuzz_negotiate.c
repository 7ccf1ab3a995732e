/* fuzz_negotiate.c -- what idgate does with a Negotiate token before and
 * around GSSAPI (negotiate_accept, negotiate.c): the size limit
 * (max_header_size), strict base64, then the token goes to MIT's
 * gss_accept_sec_context (SPNEGO and Kerberos framing are MIT's: idgate
 * inspects none of it), and idgate reads what comes back -- status,
 * principal, local name, flags, delegated credentials, the reason and its
 * class -- and keeps or clears a multi-leg context.
 *
 * The acceptor is real: a keytab with the key of HTTP/fuzz.test@FUZZ.TEST
 * (from a fixed password, the same the seed tokens' KDC used:
 * negotiate-seeds.sh), a krb5.conf of this target's own with a clock skew
 * of 10 years (the seeds stay valid), no KDC (accepting needs none), all
 * in this target's own directory; idgate's replay cache (replay.c, with
 * apreq.c finding the authenticators) starts empty for every input, so a
 * seed is accepted each time it comes.
 *
 * Input: a byte (bit 0: the tokens are raw bytes, which this target
 * encodes, rather than text as sent; bits 1-2: max_header_size), then up
 * to three legs, one token each, for the legs of one exchange.
 * Properties: every leg ends in one of three statuses; a refused one says
 * why, a class among the five, and clears the context and the delegated
 * credentials; an accepted one names a principal, a local name that is a
 * plain account name, and clears the context; an oversized token or one
 * that is not strict base64 is refused before GSSAPI sees it. */
#include <krb5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base64.h"
#include "config.h"
#include "fuzz.h"
#include "log.h"
#include "negotiate.h"
#include "replay.h"

#define SERVICE "HTTP/fuzz.test@FUZZ.TEST"
#define PASSWORD "idgate-fuzz-only"

/* The service's keys as the KDC derives them from PASSWORD. */
static void make_keytab(const char *name)
{
	static const krb5_enctype types[] = { ENCTYPE_AES256_CTS_HMAC_SHA1_96,
					      ENCTYPE_AES128_CTS_HMAC_SHA1_96 };
	krb5_context k;
	krb5_keytab kt;
	krb5_principal p;
	krb5_data salt, pw = { .data = PASSWORD, .length = sizeof(PASSWORD) - 1 };

	if (krb5_init_context(&k) || krb5_kt_resolve(k, name, &kt) ||
	    krb5_parse_name(k, SERVICE, &p) || krb5_principal2salt(k, p, &salt))
		fz_fail("krb5: cannot start the keytab");
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		krb5_keytab_entry e = { .principal = p, .vno = 1 };
		if (krb5_c_string_to_key(k, types[i], &pw, &salt, &e.key) ||
		    krb5_kt_add_entry(k, kt, &e))
			fz_fail("krb5: cannot add a key");
		krb5_free_keyblock_contents(k, &e.key);
	}
	krb5_free_data_contents(k, &salt);
	krb5_free_principal(k, p);
	krb5_kt_close(k, kt);
	krb5_free_context(k);
}

/* A new, empty replay cache in the target's directory. */
static void forget_replays(void)
{
	char err[300];

	replay_close();
	unlink(REPLAY_FILE);
	if (negotiate_open_replay_cache(".", err, sizeof(err)) < 0)
		fz_fail("%s", err);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = fz_tmpdir();
	static char keytab[4200];
	struct config c = { .file = NULL };
	char err[1024];

	(void)argc;
	(void)argv;
	if (chdir(dir) < 0)
		fz_fail("cannot enter %s", dir);
	log_set_level(-1);
	fz_write_file("krb5.conf", "[libdefaults]\n\tdefault_realm = FUZZ.TEST\n"
				"\tdns_lookup_kdc = false\n\tdns_lookup_realm = false\n"
				"\trdns = false\n\tdns_canonicalize_hostname = false\n"
				"\tclockskew = 315360000\n"
				"[realms]\n\tFUZZ.TEST = {\n\t\tkdc = 127.0.0.1:9\n\t}\n");
	setenv("KRB5_CONFIG", "krb5.conf", 1);
	setenv("KRB5RCACHETYPE", "none", 1);
	setenv("KRB5RCACHENAME", "none:", 1);
	setenv("KRB5CCNAME", "MEMORY:fuzz", 1);
	setenv("KRB5_CLIENT_KTNAME", "MEMORY:none", 1);
	snprintf(keytab, sizeof(keytab), "FILE:%s/fuzz.keytab", dir);
	setenv("KRB5_KTNAME", keytab, 1);
	make_keytab(keytab);
	c.server.keytab = keytab;
	c.server.acceptor = "";
	if (negotiate_load_keys(&c, err, sizeof(err)) < 0)
		fz_fail("negotiate_load_keys: %s", err);
	forget_replays();
	return 0;
}

static void check_result(const struct neg_result *r, gss_ctx_id_t ctx, const char *b64,
			 size_t max)
{
	size_t n;
	unsigned char *tok;

	if (r->status == NEG_CONTINUE) {
		FZ_CHECK(ctx != GSS_C_NO_CONTEXT);
		return;
	}
	FZ_CHECK(ctx == GSS_C_NO_CONTEXT);
	if (r->status == NEG_FAILED) {
		FZ_CHECK(r->reason[0] && r->failure <= NEG_FAIL_INTERNAL);
		FZ_CHECK(r->deleg == GSS_C_NO_CREDENTIAL && !r->principal && !r->localname);
		return;
	}
	FZ_CHECK(r->status == NEG_OK && r->principal);
	FZ_CHECK(strlen(b64) <= max && (tok = base64_decode(b64, &n)) != NULL);
	free(tok);
	if (r->localname) {
		FZ_CHECK(*r->localname && strlen(r->localname) <= 64);
		FZ_CHECK(!strpbrk(r->localname, "/@:"));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t limits[] = { 16384, 64, 1024, 65536 };
	struct fz z = fz_init(data, size);
	uint8_t how = fz_u8(&z);
	size_t max = limits[(how >> 1) & 3];
	gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
	bool saw_apreq = false;

	forget_replays();
	for (int leg = 0; leg < 3 && z.left; leg++) {
		struct neg_result r;
		size_t n;
		char *tok = fz_leg_str(&z, &n);
		char *b64 = how & 1 ? base64_encode(tok, n) : strdup(tok);
		negotiate_accept(&ctx, &saw_apreq, b64, max, false, &r);
		check_result(&r, ctx, b64, max);
		neg_result_free(&r);
		free(b64);
		free(tok);
		if (r.status != NEG_CONTINUE)
			break;
	}
	negotiate_delete_context(&ctx);
	return 0;
}
