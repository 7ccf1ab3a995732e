/* negotiate.c -- HTTP Negotiate with MIT GSSAPI.
 *
 * Keys: the keytab file is read once, while the front end may still read
 * it, into a MEMORY: keytab of this process; afterwards no file access is
 * needed, and the keytab can stay root-only.
 *
 * Credentials: each HTTP thread acquires its own acceptor credential from
 * that keytab on first use and keeps it.  Acquiring per request re-reads
 * the keytab every time (Apache + mod_auth_gssapi spends most of its
 * per-request CPU there), and one credential shared by threads serialises
 * them on its lock.
 *
 * Every failure keeps both the major and the minor status text, which is
 * what an administrator needs ("Request is a replay", "Wrong principal in
 * request", "Ticket expired"...).  Tokens are never logged. */
#include "negotiate.h"

#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5.h>
#include <profile.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base64.h"
#include "config.h"
#include "apreq.h"
#include "log.h"
#include "replay.h"
#include "sbuf.h"
#include "util.h"

static char mem_keytab[64];
static gss_name_t acceptor_name = GSS_C_NO_NAME;
static krb5_context kt_ctx;
static krb5_keytab kt_mem; /* held open: a MEMORY: keytab dies with its last handle */
static __thread gss_cred_id_t thread_cred = GSS_C_NO_CREDENTIAL;
/* For vdirs that use constrained delegation: accepting and initiating, so
 * that an accepted forwardable ticket yields a proxy credential (MIT: the
 * service's own TGT, fetched with the keytab, plus the evidence ticket). */
static __thread gss_cred_id_t thread_s4u_cred = GSS_C_NO_CREDENTIAL;
static gss_name_t s4u_name = GSS_C_NO_NAME; /* the acceptor, or the keytab's first */

/* ---------------------------------------------------------------- errors */

/* ---------------------------------------------------------------- keys */

/* The principal that initiates on behalf of callers: the configured
 * acceptor principal, else the keytab's first. */
static void note_s4u_name(const krb5_keytab_entry *entry)
{
	OM_uint32 minor;
	char *text = NULL;
	gss_buffer_desc buf;

	if (s4u_name != GSS_C_NO_NAME || krb5_unparse_name(kt_ctx, entry->principal, &text))
		return;
	buf.value = text;
	buf.length = strlen(text);
	gss_import_name(&minor, &buf, (gss_OID)GSS_KRB5_NT_PRINCIPAL_NAME, &s4u_name);
	krb5_free_unparsed_name(kt_ctx, text);
}

/* Which keys of the keytab the front end may hold: those of the acceptor
 * name, never the whole file -- the system keytab also has host/, nfs/,
 * cifs/ keys, which a compromised front end must not be able to use. */
struct key_filter {
	char service[64];        /* first component, e.g. "HTTP" */
	char host[256];          /* second component, "" for any */
	krb5_principal exact;    /* acceptor = "HTTP/h@R": that principal only */
};

static struct key_filter acceptor_filter; /* kept: keys added later pass it too */

static int make_filter(const char *acceptor, struct key_filter *f, char *err, size_t errlen)
{
	krb5_error_code kerr;
	const char *at = strchr(acceptor, '@');

	memset(f, 0, sizeof(*f));
	if (strchr(acceptor, '/')) {
		kerr = krb5_parse_name(kt_ctx, acceptor, &f->exact);
		if (kerr)
			snprintf(err, errlen, "acceptor %s: %s", acceptor,
				 krb5_get_error_message(kt_ctx, kerr));
		return kerr ? -1 : 0;
	}
	if (!*acceptor)
		acceptor = "HTTP";
	snprintf(f->service, sizeof(f->service), "%.*s",
		 (int)(at ? (size_t)(at - acceptor) : strlen(acceptor)), acceptor);
	if (at)
		snprintf(f->host, sizeof(f->host), "%s", at + 1);
	return 0;
}

static bool component_is(const krb5_principal p, int i, const char *want)
{
	return krb5_princ_size(kt_ctx, p) > i &&
	       strlen(want) == krb5_princ_component(kt_ctx, p, i)->length &&
	       strncasecmp(krb5_princ_component(kt_ctx, p, i)->data, want, strlen(want)) == 0;
}

static bool filter_keeps(const struct key_filter *f, const krb5_keytab_entry *e)
{
	if (f->exact)
		return krb5_principal_compare(kt_ctx, f->exact, e->principal);
	return krb5_princ_size(kt_ctx, e->principal) == 2 &&
	       component_is(e->principal, 0, f->service) &&
	       (!*f->host || component_is(e->principal, 1, f->host));
}

/* "name (kvno N)" of an entry appended to a list, for the log */
static void note_entry(struct sbuf *list, const krb5_keytab_entry *e)
{
	char *text = NULL;

	if (krb5_unparse_name(kt_ctx, e->principal, &text))
		return;
	if (!strstr(list->s ? list->s : "", text))
		sb_printf(list, "%s%s", list->len ? ", " : "", text);
	krb5_free_unparsed_name(kt_ctx, text);
}

/* What the keys held are, "HTTP/h@R kvno 2, ...", for the reasons of
 * refused tickets: a service or a key version we do not have. */
static char keys_held[1024];

static void summarise_keys(void)
{
	krb5_kt_cursor cur;
	krb5_keytab_entry e;
	size_t off = 0;

	keys_held[0] = '\0';
	if (krb5_kt_start_seq_get(kt_ctx, kt_mem, &cur))
		return;
	while (krb5_kt_next_entry(kt_ctx, kt_mem, &e, &cur) == 0) {
		char *name = NULL, one[300];
		if (!krb5_unparse_name(kt_ctx, e.principal, &name)) {
			snprintf(one, sizeof(one), "%s kvno %u", name, (unsigned)e.vno);
			if (!strstr(keys_held, one) && off + strlen(one) + 3 < sizeof(keys_held))
				off += (size_t)snprintf(keys_held + off, sizeof(keys_held) - off,
							"%s%s", off ? ", " : "", one);
		}
		krb5_free_unparsed_name(kt_ctx, name);
		krb5_free_keytab_entry_contents(kt_ctx, &e);
	}
	krb5_kt_end_seq_get(kt_ctx, kt_mem, &cur);
}

/* Copy the kept keys into kt_mem; `kept` and `skipped` name the
 * principals of each side.  The count kept, or -1 with err. */
static int copy_keytab(krb5_keytab from, const struct key_filter *f, struct sbuf *kept,
		       struct sbuf *skipped, char *err, size_t errlen)
{
	krb5_kt_cursor cur;
	krb5_keytab_entry entry;
	krb5_error_code kerr;
	int n = 0;

	kerr = krb5_kt_start_seq_get(kt_ctx, from, &cur);
	if (kerr) {
		snprintf(err, errlen, "%s", krb5_get_error_message(kt_ctx, kerr));
		return -1;
	}
	while ((kerr = krb5_kt_next_entry(kt_ctx, from, &entry, &cur)) == 0) {
		bool keep = filter_keeps(f, &entry);
		note_entry(keep ? kept : skipped, &entry);
		if (keep) {
			note_s4u_name(&entry);
			kerr = krb5_kt_add_entry(kt_ctx, kt_mem, &entry);
			n++;
		}
		krb5_free_keytab_entry_contents(kt_ctx, &entry);
		if (kerr) {
			krb5_kt_end_seq_get(kt_ctx, from, &cur);
			snprintf(err, errlen, "%s", krb5_get_error_message(kt_ctx, kerr));
			return -1;
		}
	}
	krb5_kt_end_seq_get(kt_ctx, from, &cur);
	if (n == 0) {
		snprintf(err, errlen, "no key for %s%s%s (it has: %s)",
			 f->exact ? "the acceptor" : f->service, f->exact ? "" : "/",
			 f->exact ? "" : (*f->host ? f->host : "*"),
			 skipped->len ? skipped->s : "nothing");
		return -1;
	}
	return n;
}

/* "HTTP@" or "HTTP" (any host), "HTTP@host", or a principal "HTTP/h@R". */
static int import_acceptor(const char *acceptor, char *err, size_t errlen)
{
	OM_uint32 major, minor;
	gss_buffer_desc buf;
	char *copy;
	gss_OID type = GSS_C_NT_HOSTBASED_SERVICE;

	if (!*acceptor)
		return 0;
	copy = xstrdup(acceptor);
	if (strchr(copy, '/')) {
		type = (gss_OID)GSS_KRB5_NT_PRINCIPAL_NAME;
	} else {
		size_t l = strlen(copy);
		if (l && copy[l - 1] == '@')
			copy[l - 1] = '\0'; /* a service without a host: any host */
	}
	buf.value = copy;
	buf.length = strlen(copy);
	major = gss_import_name(&minor, &buf, type, &acceptor_name);
	free(copy);
	if (GSS_ERROR(major)) {
		gss_error_text("acceptor name", major, minor, GSS_C_NO_OID, err, errlen);
		return -1;
	}
	return 0;
}

/* MIT's replay cache is replaced by ours (replay.c, checked in
 * negotiate_accept): it cost 25 system calls an accept. */
#define NO_RCACHE "none:"

/* An acceptor credential from the in-memory keytab.  0 or -1 with err. */
static int acquire(gss_cred_id_t *cred, char *err, size_t errlen)
{
	OM_uint32 major, minor;
	gss_key_value_element_desc el[2] = { { "keytab", mem_keytab }, { "rcache", NO_RCACHE } };
	gss_key_value_set_desc store = { 2, el };

	major = gss_acquire_cred_from(&minor, acceptor_name, GSS_C_INDEFINITE, GSS_C_NO_OID_SET,
				      GSS_C_ACCEPT, &store, cred, NULL, NULL);
	if (GSS_ERROR(major)) {
		gss_error_text("acquiring acceptor credentials", major, minor, GSS_C_NO_OID, err,
			       errlen);
		*cred = GSS_C_NO_CREDENTIAL;
		return -1;
	}
	return 0;
}

/* Accepting and initiating: the TGT lands in a memory cache of this
 * thread, fetched with the keytab when first needed and when it expires. */
static int acquire_s4u(gss_cred_id_t *cred, char *err, size_t errlen)
{
	OM_uint32 major, minor;
	char ccname[96];
	gss_key_value_element_desc el[4] = { { "keytab", mem_keytab },
					      { "client_keytab", mem_keytab },
					      { "ccache", ccname }, { "rcache", NO_RCACHE } };
	gss_key_value_set_desc store = { 4, el };

	snprintf(ccname, sizeof(ccname), "MEMORY:idgate-s4u-%d-%lx", (int)getpid(),
		 (unsigned long)pthread_self());
	major = gss_acquire_cred_from(&minor, acceptor_name != GSS_C_NO_NAME ? acceptor_name
									  : s4u_name,
				      GSS_C_INDEFINITE, GSS_C_NO_OID_SET, GSS_C_BOTH, &store, cred,
				      NULL, NULL);
	if (GSS_ERROR(major)) {
		gss_error_text("acquiring credentials for constrained delegation", major, minor,
			       GSS_C_NO_OID, err, errlen);
		*cred = GSS_C_NO_CREDENTIAL;
		return -1;
	}
	return 0;
}

/* Acquire once at start-up, so a key/acceptor mismatch stops the start. */
static int try_acquire(char *err, size_t errlen)
{
	OM_uint32 minor;
	gss_cred_id_t cred;

	if (acquire(&cred, err, errlen) < 0)
		return -1;
	gss_release_cred(&minor, &cred);
	return 0;
}

int negotiate_load_keys(const struct config *c, char *err, size_t errlen)
{
	const char *name = c->server.keytab;
	krb5_keytab file = NULL;
	krb5_error_code kerr;
	char what[300];
	struct key_filter *filter = &acceptor_filter;
	struct sbuf kept, skipped;
	int n, rc = -1;

	sb_init(&kept);
	sb_init(&skipped);
	if ((kerr = krb5_init_context(&kt_ctx)) != 0) {
		snprintf(err, errlen, "krb5_init_context: error %d", kerr);
		return -1;
	}
	snprintf(mem_keytab, sizeof(mem_keytab), "MEMORY:idgate-acceptor-%d", (int)getpid());
	if ((kerr = krb5_kt_resolve(kt_ctx, mem_keytab, &kt_mem)) != 0)
		goto kerror;
	kerr = *name ? krb5_kt_resolve(kt_ctx, name, &file) : krb5_kt_default(kt_ctx, &file);
	if (kerr)
		goto kerror;
	krb5_kt_get_name(kt_ctx, file, what, sizeof(what));
	if (make_filter(c->server.acceptor, filter, err, errlen) < 0)
		goto done;
	n = copy_keytab(file, filter, &kept, &skipped, err, errlen);
	if (n < 0) {
		char inner[1024];
		snprintf(inner, sizeof(inner), "%s", err);
		snprintf(err, errlen, "keytab %s: %s", what, inner);
		goto done;
	}
	if (import_acceptor(c->server.acceptor, err, errlen) < 0 || try_acquire(err, errlen) < 0)
		goto done;
	log_msg(LOG_INFO, "loaded %d acceptor keys of %s from %s%s%s", n, kept.s, what,
		skipped.len ? "; left out the keys of " : "", skipped.len ? skipped.s : "");
	summarise_keys();
	rc = 0;
	goto done;
kerror:
	snprintf(err, errlen, "keytab %s: %s", *name ? name : "(default)",
		 krb5_get_error_message(kt_ctx, kerr));
done:
	if (file)
		krb5_kt_close(kt_ctx, file);
	sb_free(&kept);
	sb_free(&skipped);
	return rc;
}

/* ---------------------------------------------------------------- rotation */

#define KEYTAB_MAX (1u << 20)

/* The bytes of an open keytab in a memfd of ours: MIT opens keytabs by
 * name, and the file is root's.  The memfd, or -1 with err. */
static int copy_to_memfd(int fd, char *err, size_t errlen)
{
	uint8_t *buf = xmalloc(KEYTAB_MAX);
	size_t n = 0;
	ssize_t r = 0;
	int m = -1;

	while (n < KEYTAB_MAX && (r = pread(fd, buf + n, KEYTAB_MAX - n, (off_t)n)) > 0)
		n += (size_t)r;
	if (r < 0 || n == KEYTAB_MAX) {
		snprintf(err, errlen, "%s", r < 0 ? strerror(errno) : "larger than 1 MiB");
		goto done;
	}
	m = memfd_create("idgate-keytab", MFD_CLOEXEC);
	if (m < 0 || write(m, buf, n) != (ssize_t)n) {
		snprintf(err, errlen, "memfd: %s", strerror(errno));
		if (m >= 0)
			close(m);
		m = -1;
	}
done:
	explicit_bzero(buf, n);
	free(buf);
	return m;
}

static bool have_key(const krb5_keytab_entry *e)
{
	krb5_keytab_entry found;

	if (krb5_kt_get_entry(kt_ctx, kt_mem, e->principal, e->vno, e->key.enctype, &found))
		return false;
	krb5_free_keytab_entry_contents(kt_ctx, &found);
	return true;
}

static void note_kvno(struct sbuf *list, const krb5_keytab_entry *e)
{
	char *text = NULL, one[300];

	if (krb5_unparse_name(kt_ctx, e->principal, &text))
		return;
	snprintf(one, sizeof(one), "%s kvno %u", text, (unsigned)e->vno);
	if (!strstr(list->s ? list->s : "", one))
		sb_printf(list, "%s%s", list->len ? ", " : "", one);
	krb5_free_unparsed_name(kt_ctx, text);
}

/* The acceptor's keys of `from` that kt_mem lacks, added.  How many. */
static int add_new_keys(krb5_keytab from, struct sbuf *added)
{
	krb5_kt_cursor cur;
	krb5_keytab_entry e;
	int n = 0;

	if (krb5_kt_start_seq_get(kt_ctx, from, &cur))
		return 0;
	while (krb5_kt_next_entry(kt_ctx, from, &e, &cur) == 0) {
		if (filter_keeps(&acceptor_filter, &e) && !have_key(&e) &&
		    krb5_kt_add_entry(kt_ctx, kt_mem, &e) == 0) {
			note_kvno(added, &e);
			n++;
		}
		krb5_free_keytab_entry_contents(kt_ctx, &e);
	}
	krb5_kt_end_seq_get(kt_ctx, from, &cur);
	return n;
}

/* The credentials of this thread were acquired from the keys then held:
 * acquired again, from all of them, when next needed. */
static void forget_thread_creds(void)
{
	OM_uint32 minor;

	if (thread_cred != GSS_C_NO_CREDENTIAL)
		gss_release_cred(&minor, &thread_cred);
	if (thread_s4u_cred != GSS_C_NO_CREDENTIAL)
		gss_release_cred(&minor, &thread_s4u_cred);
}

int negotiate_add_keys(int fd, char *err, size_t errlen)
{
	char name[64];
	krb5_keytab from = NULL;
	struct sbuf added;
	int m, n = 0;

	if (!kt_mem)
		return 0; /* Negotiate is not used */
	m = copy_to_memfd(fd, err, errlen);
	if (m < 0)
		return -1;
	snprintf(name, sizeof(name), "FILE:/proc/self/fd/%d", m);
	sb_init(&added);
	if (krb5_kt_resolve(kt_ctx, name, &from) == 0) {
		n = add_new_keys(from, &added);
		krb5_kt_close(kt_ctx, from);
	}
	close(m);
	if (n > 0) {
		forget_thread_creds();
		summarise_keys();
		log_msg(LOG_INFO, "keytab: %d new acceptor key%s of %s; every older key is kept", n,
			n == 1 ? "" : "s", added.s);
	}
	sb_free(&added);
	return n;
}

static gss_cred_id_t my_cred(bool s4u, char *err, size_t errlen)
{
	if (s4u) {
		if (thread_s4u_cred == GSS_C_NO_CREDENTIAL)
			acquire_s4u(&thread_s4u_cred, err, errlen);
		return thread_s4u_cred;
	}
	if (thread_cred == GSS_C_NO_CREDENTIAL)
		acquire(&thread_cred, err, errlen);
	return thread_cred;
}

/* ---------------------------------------------------------------- accepting */

/* The principal as text, and whether its name type is the anonymous one. */
static char *name_text(gss_name_t name, bool *anonymous_type)
{
	OM_uint32 minor;
	gss_buffer_desc buf;
	gss_OID type = GSS_C_NO_OID;
	char *s;

	*anonymous_type = false;
	if (gss_display_name(&minor, name, &buf, &type) != GSS_S_COMPLETE)
		return NULL;
	s = xstrndup(buf.value, buf.length);
	gss_release_buffer(&minor, &buf);
	*anonymous_type = type != GSS_C_NO_OID && gss_oid_equal(type, GSS_C_NT_ANONYMOUS);
	return s;
}

/* auth_to_local costs a krb5 context per call: remember the last answers
 * of this thread (the rules only change with krb5.conf). */
#define NAME_CACHE 64
static __thread struct {
	char *principal;
	char *local; /* NULL: no local name */
} name_cache[NAME_CACHE];
static __thread unsigned name_cache_next;

static char *local_name_uncached(gss_name_t name);

static char *local_name(gss_name_t name, const char *principal)
{
	for (unsigned i = 0; principal && i < NAME_CACHE; i++) {
		if (name_cache[i].principal && strcmp(name_cache[i].principal, principal) == 0)
			return name_cache[i].local ? xstrdup(name_cache[i].local) : NULL;
	}
	char *local = local_name_uncached(name);
	if (principal) {
		unsigned k = name_cache_next++ % NAME_CACHE;
		free(name_cache[k].principal);
		free(name_cache[k].local);
		name_cache[k].principal = xstrdup(principal);
		name_cache[k].local = local ? xstrdup(local) : NULL;
	}
	return local;
}

static char *local_name_uncached(gss_name_t name)
{
	OM_uint32 major, minor;
	gss_buffer_desc buf;
	char *s;

	major = gss_localname(&minor, name, GSS_C_NO_OID, &buf);
	if (GSS_ERROR(major))
		return NULL;
	s = xstrndup(buf.value, buf.length);
	gss_release_buffer(&minor, &buf);
	/* a local name must be an account name, not a principal; '@' stays:
	 * SSSD's fully qualified names are user@domain (auth.c checks the
	 * name of an account that exists: auth_user_name_ok) */
	if (!*s || strchr(s, '/') || strchr(s, ':') || strlen(s) > 64) {
		free(s);
		return NULL;
	}
	return s;
}

static void fill_success(struct neg_result *res, gss_name_t src, OM_uint32 flags,
			 OM_uint32 lifetime)
{
	bool anonymous_type;

	res->status = NEG_OK;
	res->flags = flags;
	res->lifetime = lifetime;
	res->principal = name_text(src, &anonymous_type);
	res->anonymous = anonymous_type || (flags & GSS_C_ANON_FLAG) ||
			 (res->principal && str_has_prefix(res->principal, "WELLKNOWN/ANONYMOUS@"));
	if (!res->anonymous)
		res->localname = local_name(src, res->principal);
	if (!res->principal) {
		res->status = NEG_FAILED;
		snprintf(res->reason, sizeof(res->reason), "negotiate: no displayable principal");
	}
}

/* krb5's message for a code: MIT's mechglue renumbers minor codes (its
 * own map across mechanisms), so a minor status cannot be compared with
 * krb5 error codes; the texts it displays are krb5's own, and stable (the
 * daemon never calls setlocale: they are not translated). */
static bool reason_has_code(const char *reason, krb5_error_code code)
{
	const char *text = error_message(code);

	return text && *text && strstr(reason, text);
}

/* ---------------------------------------------------------------- why */

static bool has_bytes(const unsigned char *hay, size_t n, const void *needle, size_t k)
{
	for (size_t i = 0; k && i + k <= n; i++)
		if (memcmp(hay + i, needle, k) == 0)
			return true;
	return false;
}

/* DER of the mechanism OIDs, as they appear in a SPNEGO NegTokenInit */
static const unsigned char OID_NTLM[] = { 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01,
					  0x82, 0x37, 0x02, 0x02, 0x0a };
static const unsigned char OID_KRB5[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
					  0x12, 0x01, 0x02, 0x02 };
static const unsigned char OID_KRB5_MS[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x82, 0xf7,
					     0x12, 0x01, 0x02, 0x02 };
static const char NTLMSSP[] = "NTLMSSP"; /* with its NUL: 8 bytes */

static const char *token_kind(const unsigned char *t, size_t n)
{
	if (n >= sizeof(NTLMSSP) && memcmp(t, NTLMSSP, sizeof(NTLMSSP)) == 0)
		return "NTLM";
	if (n > 2 && t[0] == 0x60)
		return has_bytes(t, n, OID_KRB5, sizeof(OID_KRB5)) ||
			       has_bytes(t, n, OID_KRB5_MS, sizeof(OID_KRB5_MS))
			       ? "Kerberos, alone or in SPNEGO"
			       : "SPNEGO without Kerberos";
	return n && t[0] == 0xa1 ? "a SPNEGO continuation" : "not SPNEGO nor Kerberos";
}

/* NTLM inside Negotiate: what a browser sends when it has no Kerberos
 * ticket for the name it uses (the most common "curl/Chrome gets 401"),
 * either bare NTLMSSP or SPNEGO offering NTLM and no Kerberos mechanism. */
static bool offers_ntlm_only(const unsigned char *t, size_t n)
{
	if (n >= sizeof(NTLMSSP) && memcmp(t, NTLMSSP, sizeof(NTLMSSP)) == 0)
		return true;
	return n > 2 && t[0] == 0x60 && has_bytes(t, n, OID_NTLM, sizeof(OID_NTLM)) &&
	       !has_bytes(t, n, OID_KRB5, sizeof(OID_KRB5)) &&
	       !has_bytes(t, n, OID_KRB5_MS, sizeof(OID_KRB5_MS));
}

/* Say what a refusal means before krb5's own words, for the cases that
 * bring administrators to the trackers: clocks, the wrong service, a key
 * version the keytab does not have (a rotated key). */
static void explain_failure(char *reason, size_t len)
{
	char krb[1024], *what = NULL;

	snprintf(krb, sizeof(krb), "%s", reason);
	if (reason_has_code(krb, KRB5KRB_AP_ERR_SKEW))
		what = xasprintf("clock skew: the client's clock and this server's differ by more "
				 "than krb5 allows (clockskew, 300 s by default): check NTP on both");
	else if (reason_has_code(krb, KRB5_KT_KVNONOTFOUND) || strstr(krb, "keytab is likely out "
								       "of date"))
		what = xasprintf("kvno mismatch: the ticket is for a key version the keytab does "
				 "not have -- the service's key changed; export the new one (the "
				 "keytab has: %s)", keys_held);
	else if (strstr(krb, "not found in keytab"))
		what = xasprintf("wrong service: the client asked for a service whose key this "
				 "server does not hold (the keytab has: %s)", keys_held);
	if (what) {
		char *both = xasprintf("%s; %s", what, krb);
		snprintf(reason, len, "%.*s", (int)(len - 1), both);
		free(both);
	}
	free(what);
}

/* The class of a refused token, from the routine error or the krb5
 * mechanism's message (also inside SPNEGO) in `reason`. */
static enum neg_failure classify_failure(OM_uint32 major, const char *reason)
{
	static const krb5_error_code expired[] = { KRB5KRB_AP_ERR_TKT_EXPIRED,
						   KRB5KRB_AP_ERR_TKT_NYV, KRB5KRB_AP_ERR_SKEW };
	static const krb5_error_code wrong[] = { KRB5_KT_NOTFOUND, KRB5_KT_KVNONOTFOUND,
						 KRB5KRB_AP_WRONG_PRINC, KRB5KRB_AP_ERR_NOKEY,
						 KRB5KRB_AP_ERR_BADKEYVER, KRB5KRB_AP_ERR_NOT_US };
	OM_uint32 routine = GSS_ROUTINE_ERROR(major);

	if ((major & GSS_S_DUPLICATE_TOKEN) || reason_has_code(reason, KRB5KRB_AP_ERR_REPEAT))
		return NEG_FAIL_REPLAY;
	if (routine == GSS_S_CREDENTIALS_EXPIRED || routine == GSS_S_CONTEXT_EXPIRED)
		return NEG_FAIL_EXPIRED;
	for (size_t i = 0; i < ARRAY_SIZE(expired); i++)
		if (reason_has_code(reason, expired[i]))
			return NEG_FAIL_EXPIRED;
	/* "... not found in keytab" names the principal: the text is a format */
	if (strstr(reason, "not found in keytab"))
		return NEG_FAIL_WRONG_SERVICE;
	for (size_t i = 0; i < ARRAY_SIZE(wrong); i++)
		if (reason_has_code(reason, wrong[i]))
			return NEG_FAIL_WRONG_SERVICE;
	return NEG_FAIL_TOKEN;
}

/* MIT marks a proxy credential with GSS_C_DELEG_FLAG too; what tells it
 * from credentials the client delegated is its impersonator (us). */
static bool is_proxy_cred(gss_cred_id_t cred)
{
	OM_uint32 major, minor;
	gss_buffer_set_t set = GSS_C_NO_BUFFER_SET;
	bool proxy;

	if (cred == GSS_C_NO_CREDENTIAL)
		return false;
	major = gss_inquire_cred_by_oid(&minor, cred, GSS_KRB5_GET_CRED_IMPERSONATOR, &set);
	proxy = !GSS_ERROR(major) && set != GSS_C_NO_BUFFER_SET && set->count > 0 &&
		set->elements[0].length > 0;
	gss_release_buffer_set(&minor, &set);
	return proxy;
}

/* ---------------------------------------------------------------- replays */

int negotiate_open_replay_cache(const char *dir, char *err, size_t errlen)
{
	profile_t prof = NULL;
	int skew = 300; /* MIT's default */

	if (kt_ctx && krb5_get_profile(kt_ctx, &prof) == 0) {
		if (profile_get_integer(prof, "libdefaults", "clockskew", NULL, 300, &skew) != 0 ||
		    skew < 1)
			skew = 300;
		profile_release(prof);
	}
	return replay_open(dir, (unsigned)skew, err, errlen);
}

/* Every Kerberos authenticator in the token is reserved in the replay
 * cache before MIT decrypts any (apreq.c finds each one MIT could
 * decode); *n tags, to be confirmed or released after.  -1: refused,
 * res says why. */
static int reserve_authenticators(const unsigned char *tok, size_t len, struct replay_tag *tags,
				  size_t *n, struct neg_result *res)
{
	struct apreq_cipher c[NEG_MAX_APREQ];
	size_t found = apreq_find(tok, len, c, NEG_MAX_APREQ);
	char err[300];

	*n = 0;
	if (found == APREQ_TOO_COSTLY) {
		snprintf(res->reason, sizeof(res->reason),
			 "negotiate: the token is built to be costly to read (nested high tag numbers)");
		return -1;
	}
	if (found > NEG_MAX_APREQ) {
		snprintf(res->reason, sizeof(res->reason),
			 "negotiate: the token holds more than %d Kerberos AP-REQs", NEG_MAX_APREQ);
		return -1;
	}
	for (*n = 0; *n < found; (*n)++)
		replay_tag_of(c[*n].p, c[*n].len, &tags[*n]);
	switch (replay_reserve(tags, *n, err, sizeof(err))) {
	case REPLAY_FRESH:
		return 0;
	case REPLAY_SEEN:
		res->failure = NEG_FAIL_REPLAY;
		snprintf(res->reason, sizeof(res->reason), "negotiate: Request is a replay (its "
			 "Kerberos authenticator was accepted before)");
		break;
	case REPLAY_FULL:
		res->failure = NEG_FAIL_INTERNAL;
		snprintf(res->reason, sizeof(res->reason), "negotiate: %s", err);
		log_msg(LOG_ERR, "%s", err);
		break;
	}
	*n = 0;
	return -1;
}

/* ---------------------------------------------------------------- accepting */

void negotiate_accept(gss_ctx_id_t *ctx, bool *saw_apreq, const char *b64, size_t max_b64,
		      bool s4u, struct neg_result *res)
{
	OM_uint32 major, minor, flags = 0, lifetime = 0;
	gss_buffer_desc in = GSS_C_EMPTY_BUFFER, out = GSS_C_EMPTY_BUFFER;
	gss_name_t src = GSS_C_NO_NAME;
	gss_OID mech = GSS_C_NO_OID;
	gss_cred_id_t cred;
	struct replay_tag tags[NEG_MAX_APREQ];
	size_t n, ntags = 0;
	unsigned char *tok;

	if (*ctx == GSS_C_NO_CONTEXT)
		*saw_apreq = false;
	memset(res, 0, sizeof(*res));
	res->status = NEG_FAILED;
	res->deleg = GSS_C_NO_CREDENTIAL;
	if (strlen(b64) > max_b64) {
		snprintf(res->reason, sizeof(res->reason),
			 "negotiate: token larger than max_header_size (%zu bytes)", max_b64);
		goto fail;
	}
	tok = base64_decode(b64, &n);
	if (!tok) {
		snprintf(res->reason, sizeof(res->reason), "negotiate: token is not valid base64");
		goto fail;
	}
	log_msg(LOG_DEBUG, "negotiate: a token of %zu bytes (%s)%s", n, token_kind(tok, n),
		*ctx != GSS_C_NO_CONTEXT ? ", the next leg of an exchange" : "");
	if (offers_ntlm_only(tok, n)) {
		free(tok);
		snprintf(res->reason, sizeof(res->reason),
			 "negotiate: the client has no Kerberos ticket for this service and offered "
			 "NTLM (idgate accepts Kerberos only: the client needs a ticket for "
			 "HTTP/<the name it uses for this host>)");
		goto fail;
	}
	cred = my_cred(s4u, res->reason, sizeof(res->reason));
	if (cred == GSS_C_NO_CREDENTIAL) {
		free(tok);
		res->failure = NEG_FAIL_INTERNAL;
		goto fail;
	}
	if (reserve_authenticators(tok, n, tags, &ntags, res) < 0) {
		free(tok);
		goto fail;
	}
	in.value = tok;
	in.length = n;
	major = gss_accept_sec_context(&minor, ctx, cred, &in, GSS_C_NO_CHANNEL_BINDINGS, &src,
				       &mech, &out, &flags, &lifetime, &res->deleg);
	free(tok);
	if (GSS_ERROR(major)) {
		replay_release(tags, ntags);
	} else if (ntags) {
		replay_confirm(tags, ntags);
		*saw_apreq = true;
	}
	if (out.length) {
		OM_uint32 ignored; /* `minor` still holds the accept's status */
		res->out_token = base64_encode(out.value, out.length);
		gss_release_buffer(&ignored, &out);
	}
	if (major == GSS_S_CONTINUE_NEEDED) {
		res->status = NEG_CONTINUE;
		return;
	}
	if (!GSS_ERROR(major) && !*saw_apreq) {
		/* apreq.c should find whatever MIT decodes; if it ever does not,
		 * nothing is accepted unchecked */
		snprintf(res->reason, sizeof(res->reason), "negotiate: the exchange completed "
			 "without a Kerberos authenticator the replay cache could see");
		log_msg(LOG_ERR, "%s", res->reason);
		if (res->deleg != GSS_C_NO_CREDENTIAL)
			gss_release_cred(&minor, &res->deleg);
		goto fail;
	}
	if (GSS_ERROR(major)) {
		gss_error_text("gss_accept_sec_context", major, minor, mech, res->reason,
			       sizeof(res->reason));
		res->failure = classify_failure(major, res->reason);
		explain_failure(res->reason, sizeof(res->reason));
		log_msg(LOG_DEBUG, "negotiate: refused: %s", res->reason);
		if (res->deleg != GSS_C_NO_CREDENTIAL)
			gss_release_cred(&minor, &res->deleg);
		goto fail;
	}
	fill_success(res, src, flags, lifetime);
	log_msg(LOG_DEBUG, "negotiate: accepted %s (flags 0x%x%s, context valid %u s)",
		res->principal ? res->principal : "(anonymous)", (unsigned)flags,
		res->deleg != GSS_C_NO_CREDENTIAL ? ", credentials delegated" : "",
		(unsigned)lifetime);
	res->proxy_cred = s4u && is_proxy_cred(res->deleg);
	gss_release_name(&minor, &src);
	negotiate_delete_context(ctx);
	return;
fail:
	gss_release_name(&minor, &src);
	negotiate_delete_context(ctx);
	res->status = NEG_FAILED;
}

void negotiate_delete_context(gss_ctx_id_t *ctx)
{
	OM_uint32 minor;

	if (*ctx != GSS_C_NO_CONTEXT)
		gss_delete_sec_context(&minor, ctx, GSS_C_NO_BUFFER);
	*ctx = GSS_C_NO_CONTEXT;
}

void neg_result_free(struct neg_result *res)
{
	OM_uint32 minor;

	free(res->principal);
	free(res->localname);
	free(res->out_token);
	if (res->deleg != GSS_C_NO_CREDENTIAL)
		gss_release_cred(&minor, &res->deleg);
	memset(res, 0, sizeof(*res));
	res->deleg = GSS_C_NO_CREDENTIAL;
}

/* ---------------------------------------------------------------- s4u2proxy */

/* "HTTP@host" (host-based) or a principal "HTTP/host@REALM". */
static int import_service(const char *target, gss_name_t *name, char *why, size_t len)
{
	OM_uint32 major, minor;
	gss_buffer_desc buf = { strlen(target), (void *)target };

	major = gss_import_name(&minor, &buf,
				strchr(target, '/') ? (gss_OID)GSS_KRB5_NT_PRINCIPAL_NAME
						    : GSS_C_NT_HOSTBASED_SERVICE, name);
	if (GSS_ERROR(major)) {
		gss_error_text("s4u2proxy: the target name", major, minor, GSS_C_NO_OID, why, len);
		return -1;
	}
	return 0;
}

/* Ask the KDC, with the proxy credential (the gateway's TGT and the
 * caller's ticket as evidence), for the caller's ticket to `target`: the
 * S4U2Proxy exchange, done by initiating a context that is thrown away. */
static int s4u_fetch(gss_cred_id_t proxy, gss_name_t target, char *why, size_t len)
{
	OM_uint32 major, minor, ignored;
	gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
	gss_buffer_desc out = GSS_C_EMPTY_BUFFER;

	major = gss_init_sec_context(&minor, proxy, &ctx, target, (gss_OID)gss_mech_krb5, 0, 0,
				     GSS_C_NO_CHANNEL_BINDINGS, GSS_C_NO_BUFFER, NULL, &out, NULL,
				     NULL);
	gss_release_buffer(&ignored, &out);
	gss_delete_sec_context(&ignored, &ctx, GSS_C_NO_BUFFER);
	if (GSS_ERROR(major)) {
		gss_error_text("s4u2proxy", major, minor, (gss_OID)gss_mech_krb5, why, len);
		return -1;
	}
	return 0;
}

/* A service whose keys we hold: the evidence ticket's server */
static bool ours(krb5_context k, krb5_const_principal server)
{
	krb5_keytab_entry e;

	if (krb5_kt_get_entry(k, kt_mem, server, 0, 0, &e) != 0)
		return false;
	krb5_free_keytab_entry_contents(k, &e);
	return true;
}

/* From `full` (everything the proxy credential holds), only the tickets
 * whose client is the caller and whose server is neither a TGS nor one of
 * ours: those S4U2Proxy obtained.  The count copied, or -1. */
static int copy_service_tickets(krb5_context k, krb5_ccache full, krb5_ccache clean,
				krb5_const_principal caller)
{
	krb5_cc_cursor cur;
	krb5_creds c;
	int n = 0;

	if (krb5_cc_start_seq_get(k, full, &cur))
		return -1;
	while (krb5_cc_next_cred(k, full, &cur, &c) == 0) {
		bool tgs = krb5_princ_size(k, c.server) == 2 &&
			   component_is(c.server, 0, KRB5_TGS_NAME);
		if (!krb5_is_config_principal(k, c.server) && !tgs && !ours(k, c.server) &&
		    krb5_principal_compare(k, c.client, caller) &&
		    krb5_cc_store_cred(k, clean, &c) == 0)
			n++;
		krb5_free_cred_contents(k, &c);
	}
	krb5_cc_end_seq_get(k, full, &cur);
	return n;
}

/* The caller's ticket to `target` alone, as a credential exported into
 * *blob (gss_export_cred: a MEMORY cache travels with its contents). */
static int export_clean(krb5_context k, krb5_ccache clean, gss_name_t caller, gss_buffer_t blob,
			char *why, size_t len)
{
	OM_uint32 major, minor;
	gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
	char ccname[128];
	gss_key_value_element_desc el = { "ccache", ccname };
	gss_key_value_set_desc store = { 1, &el };

	snprintf(ccname, sizeof(ccname), "MEMORY:%s", krb5_cc_get_name(k, clean));
	major = gss_acquire_cred_from(&minor, caller, GSS_C_INDEFINITE, GSS_C_NO_OID_SET,
				      GSS_C_INITIATE, &store, &cred, NULL, NULL);
	if (!GSS_ERROR(major))
		major = gss_export_cred(&minor, cred, blob);
	gss_release_cred(&minor, &cred);
	if (GSS_ERROR(major)) {
		gss_error_text("s4u2proxy: exporting the ticket", major, minor, GSS_C_NO_OID, why,
			       len);
		return -1;
	}
	return 0;
}

/* The caller the proxy credential speaks for, as a krb5 principal. */
static int caller_principal(krb5_context k, gss_cred_id_t proxy, gss_name_t *name,
			    krb5_principal *princ)
{
	OM_uint32 minor;
	gss_buffer_desc text = GSS_C_EMPTY_BUFFER;
	char *copy;
	int rc = -1;

	if (GSS_ERROR(gss_inquire_cred(&minor, proxy, name, NULL, NULL, NULL)) ||
	    GSS_ERROR(gss_display_name(&minor, *name, &text, NULL)))
		return -1;
	copy = strndup(text.value, text.length);
	if (copy && krb5_parse_name(k, copy, princ) == 0)
		rc = 0;
	free(copy);
	gss_release_buffer(&minor, &text);
	return rc;
}

int negotiate_s4u_ticket(krb5_context k, gss_cred_id_t proxy, const char *target,
			 gss_buffer_t blob, char *why, size_t len)
{
	OM_uint32 minor;
	gss_name_t tname = GSS_C_NO_NAME, caller = GSS_C_NO_NAME;
	krb5_ccache full = NULL, clean = NULL;
	krb5_principal cprinc = NULL;
	int rc = -1;

	if (import_service(target, &tname, why, len) < 0 || s4u_fetch(proxy, tname, why, len) < 0)
		goto done;
	if (caller_principal(k, proxy, &caller, &cprinc) < 0 ||
	    krb5_cc_new_unique(k, "MEMORY", NULL, &full) ||
	    krb5_cc_new_unique(k, "MEMORY", NULL, &clean) ||
	    krb5_cc_initialize(k, full, cprinc) || krb5_cc_initialize(k, clean, cprinc) ||
	    gss_krb5_copy_ccache(&minor, proxy, full) != GSS_S_COMPLETE) {
		snprintf(why, len, "s4u2proxy: cannot read the proxy credential");
		goto done;
	}
	if (copy_service_tickets(k, full, clean, cprinc) < 1) {
		snprintf(why, len, "s4u2proxy: the KDC gave no ticket for %s", target);
		goto done;
	}
	rc = export_clean(k, clean, caller, blob, why, len);
done:
	if (cprinc)
		krb5_free_principal(k, cprinc);
	/* memory caches live until destroyed, not closed */
	if (full)
		krb5_cc_destroy(k, full);
	if (clean)
		krb5_cc_destroy(k, clean);
	gss_release_name(&minor, &tname);
	gss_release_name(&minor, &caller);
	return rc;
}
