/* proxy_auth.c -- Negotiate to the backend as the caller, and the HMAC
 * that lets a backend check that identity headers came from the gateway.
 * Neither a token nor a key is ever logged. */
#include "proxy_auth.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gssapi/gssapi_krb5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base64.h"


/* "major text; minor text": what an administrator needs ("Server not
 * found in Kerberos database", "Ticket expired"...). */
static void gss_text(const char *what, OM_uint32 major, OM_uint32 minor, char *buf, size_t len)
{
	OM_uint32 ignored, more = 0;
	gss_buffer_desc msg;
	size_t used;

	snprintf(buf, len, "%s", what);
	for (int pass = 0; pass < 2; pass++) {
		OM_uint32 code = pass ? minor : major;
		if (pass && !minor)
			break;
		do {
			if (gss_display_status(&ignored, code, pass ? GSS_C_MECH_CODE : GSS_C_GSS_CODE,
					       GSS_C_NO_OID, &more, &msg) != GSS_S_COMPLETE)
				break;
			used = strlen(buf);
			snprintf(buf + used, len - used, ": %.*s", (int)msg.length,
				 (const char *)msg.value);
			gss_release_buffer(&ignored, &msg);
		} while (more);
	}
}

int proxy_service_name(const char *service, gss_name_t *name, char *err, size_t errlen)
{
	OM_uint32 major, minor;
	gss_buffer_desc buf = { strlen(service), (void *)service };

	major = gss_import_name(&minor, &buf, GSS_C_NT_HOSTBASED_SERVICE, name);
	if (GSS_ERROR(major)) {
		gss_text("gss_import_name", major, minor, err, errlen);
		return -1;
	}
	return 0;
}

int proxy_gss_start(struct proxy_gss *g, gss_cred_id_t creds, gss_name_t service, char *err,
		    size_t errlen)
{
	OM_uint32 major, minor, ignored;
	gss_buffer_desc out = GSS_C_EMPTY_BUFFER;
	char *b64;

	memset(g, 0, sizeof(*g));
	g->ctx = GSS_C_NO_CONTEXT;
	g->service = service;
	major = gss_init_sec_context(&minor, creds, &g->ctx, service, (gss_OID)gss_mech_krb5,
				     GSS_C_MUTUAL_FLAG, 0, GSS_C_NO_CHANNEL_BINDINGS, GSS_C_NO_BUFFER,
				     NULL, &out, NULL, NULL);
	if (GSS_ERROR(major)) {
		gss_text("gss_init_sec_context", major, minor, err, errlen);
		gss_release_buffer(&ignored, &out);
		return -1;
	}
	b64 = base64_encode(out.value, out.length);
	gss_release_buffer(&ignored, &out);
	if (!b64 || asprintf(&g->header, "Negotiate %s", b64) < 0) {
		g->header = NULL;
		free(b64);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	free(b64);
	return 0;
}

int proxy_gss_finish(struct proxy_gss *g, const char *b64, char *err, size_t errlen)
{
	OM_uint32 major, minor, ignored;
	gss_buffer_desc in, out = GSS_C_EMPTY_BUFFER;
	size_t n;
	unsigned char *tok = base64_decode(b64, &n);

	if (!tok) {
		snprintf(err, errlen, "the backend's Negotiate token is not valid base64");
		return -1;
	}
	in.value = tok;
	in.length = n;
	major = gss_init_sec_context(&minor, GSS_C_NO_CREDENTIAL, &g->ctx, g->service,
				     (gss_OID)gss_mech_krb5, GSS_C_MUTUAL_FLAG, 0, GSS_C_NO_CHANNEL_BINDINGS,
				     &in, NULL, &out, NULL, NULL);
	free(tok);
	gss_release_buffer(&ignored, &out);
	if (major != GSS_S_COMPLETE) {
		if (GSS_ERROR(major))
			gss_text("mutual authentication", major, minor, err, errlen);
		else
			snprintf(err, errlen, "mutual authentication did not complete");
		return -1;
	}
	return 0;
}

void proxy_gss_free(struct proxy_gss *g)
{
	OM_uint32 minor;

	if (g->ctx != GSS_C_NO_CONTEXT)
		gss_delete_sec_context(&minor, &g->ctx, GSS_C_NO_BUFFER);
	free(g->header);
	memset(g, 0, sizeof(*g));
}

char *proxy_sign(const unsigned char *key, size_t keylen, const char *version,
		 const char *input, long long ts)
{
	unsigned char mac[32];
	char *b64, *out = NULL;

	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, keylen, input, strlen(input), mac) < 0)
		return NULL;
	b64 = base64_encode(mac, sizeof(mac));
	if (b64 && asprintf(&out, "%s; t=%lld; sig=%s", version, ts, b64) < 0)
		out = NULL;
	free(b64);
	return out;
}

char *proxy_body_digest(const void *body, size_t len)
{
	unsigned char md[32];
	char *b64, *out = NULL;

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, body, len, md) < 0)
		return NULL;
	b64 = base64_encode(md, sizeof(md));
	if (b64 && asprintf(&out, "sha-256=%s", b64) < 0)
		out = NULL;
	free(b64);
	return out;
}

int proxy_read_key(const char *path, unsigned char **key, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	ssize_t n;

	*key = NULL;
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < 32 || st.st_size > 4096) {
		snprintf(err, errlen, "%s: must be a regular file of 32 to 4096 bytes", path);
		goto fail;
	}
	if (st.st_mode & S_IROTH) {
		snprintf(err, errlen, "%s: is readable by everybody; chmod o-r it", path);
		goto fail;
	}
	*key = malloc((size_t)st.st_size);
	n = *key ? read(fd, *key, (size_t)st.st_size) : -1;
	if (n != st.st_size) {
		snprintf(err, errlen, "%s: cannot read it", path);
		goto fail;
	}
	*len = (size_t)n;
	close(fd);
	return 0;
fail:
	free(*key);
	*key = NULL;
	if (fd >= 0)
		close(fd);
	return -1;
}
