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
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base64.h"
#include "config.h"
#include "log.h"
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

static void append_status(char *buf, size_t len, OM_uint32 code, int type, const gss_OID mech)
{
	OM_uint32 minor, more = 0;
	gss_buffer_desc msg;
	size_t used = strlen(buf);

	do {
		if (gss_display_status(&minor, code, type, mech, &more, &msg) != GSS_S_COMPLETE)
			break;
		snprintf(buf + used, len - used, "%s%.*s", used ? "; " : "", (int)msg.length,
			 (const char *)msg.value);
		used = strlen(buf);
		gss_release_buffer(&minor, &msg);
	} while (more != 0);
}

void gss_error_text(const char *what, OM_uint32 major, OM_uint32 minor, const gss_OID mech,
		    char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s: ", what);
	char *tail = buf + n;

	if (n < 0 || (size_t)n >= len)
		return;
	tail[0] = '\0'; /* append_status separates messages from the second on */
	append_status(tail, len - (size_t)n, major, GSS_C_GSS_CODE, GSS_C_NO_OID);
	/* MIT's mechglue remembers which mechanism produced a minor code: with
	 * no OID it finds the right text, even behind SPNEGO */
	(void)mech;
	if (minor)
		append_status(tail, len - (size_t)n, minor, GSS_C_MECH_CODE, GSS_C_NO_OID);
}

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

static int copy_keytab(krb5_keytab from, char *err, size_t errlen)
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
		note_s4u_name(&entry);
		kerr = krb5_kt_add_entry(kt_ctx, kt_mem, &entry);
		krb5_free_keytab_entry_contents(kt_ctx, &entry);
		if (kerr) {
			krb5_kt_end_seq_get(kt_ctx, from, &cur);
			snprintf(err, errlen, "%s", krb5_get_error_message(kt_ctx, kerr));
			return -1;
		}
		n++;
	}
	krb5_kt_end_seq_get(kt_ctx, from, &cur);
	if (n == 0) {
		snprintf(err, errlen, "no keys in the keytab");
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

/* An acceptor credential from the in-memory keytab.  0 or -1 with err. */
static int acquire(gss_cred_id_t *cred, char *err, size_t errlen)
{
	OM_uint32 major, minor;
	gss_key_value_element_desc el = { "keytab", mem_keytab };
	gss_key_value_set_desc store = { 1, &el };

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
	gss_key_value_element_desc el[3] = { { "keytab", mem_keytab },
					      { "client_keytab", mem_keytab },
					      { "ccache", ccname } };
	gss_key_value_set_desc store = { 3, el };

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
	int n, rc = -1;

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
	n = copy_keytab(file, err, errlen);
	if (n < 0) {
		char inner[256];
		snprintf(inner, sizeof(inner), "%s", err);
		snprintf(err, errlen, "keytab %s: %s", what, inner);
		goto done;
	}
	if (import_acceptor(c->server.acceptor, err, errlen) < 0 || try_acquire(err, errlen) < 0)
		goto done;
	log_msg(LOG_INFO, "loaded %d acceptor keys from %s", n, what);
	rc = 0;
	goto done;
kerror:
	snprintf(err, errlen, "keytab %s: %s", *name ? name : "(default)",
		 krb5_get_error_message(kt_ctx, kerr));
done:
	if (file)
		krb5_kt_close(kt_ctx, file);
	return rc;
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

void negotiate_accept(gss_ctx_id_t *ctx, const char *b64, size_t max_b64, bool s4u,
		      struct neg_result *res)
{
	OM_uint32 major, minor, flags = 0, lifetime = 0;
	gss_buffer_desc in = GSS_C_EMPTY_BUFFER, out = GSS_C_EMPTY_BUFFER;
	gss_name_t src = GSS_C_NO_NAME;
	gss_OID mech = GSS_C_NO_OID;
	gss_cred_id_t cred;
	size_t n;
	unsigned char *tok;

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
	cred = my_cred(s4u, res->reason, sizeof(res->reason));
	if (cred == GSS_C_NO_CREDENTIAL) {
		free(tok);
		res->failure = NEG_FAIL_INTERNAL;
		goto fail;
	}
	in.value = tok;
	in.length = n;
	major = gss_accept_sec_context(&minor, ctx, cred, &in, GSS_C_NO_CHANNEL_BINDINGS, &src,
				       &mech, &out, &flags, &lifetime, &res->deleg);
	free(tok);
	if (out.length) {
		OM_uint32 ignored; /* `minor` still holds the accept's status */
		res->out_token = base64_encode(out.value, out.length);
		gss_release_buffer(&ignored, &out);
	}
	if (major == GSS_S_CONTINUE_NEEDED) {
		res->status = NEG_CONTINUE;
		return;
	}
	if (GSS_ERROR(major)) {
		gss_error_text("gss_accept_sec_context", major, minor, mech, res->reason,
			       sizeof(res->reason));
		res->failure = classify_failure(major, res->reason);
		if (res->deleg != GSS_C_NO_CREDENTIAL)
			gss_release_cred(&minor, &res->deleg);
		goto fail;
	}
	fill_success(res, src, flags, lifetime);
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
