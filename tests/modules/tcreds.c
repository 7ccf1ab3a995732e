/* tcreds.c -- a handler that says which Kerberos tickets the worker was
 * given for constrained delegation (use_proxy_credentials toward the key
 * `target`): {"tickets":["client -> server", ...]}.  The gateway's own
 * TGT (krbtgt/...) must never be among them. */
#include <gssapi/gssapi_krb5.h>
#include <krb5.h>
#include <stdio.h>
#include <string.h>

#include "idgate/module.h"

static int tcreds_init(const struct idg_init *ini, void **ctx)
{
	*ctx = NULL;
	ini->ops->use_proxy_credentials(ini, ini->ops->get(ini, "target"));
	return 0;
}

/* "client -> server" of each ticket in the credential's cache */
static int list_tickets(void *cred, char *out, size_t len)
{
	OM_uint32 minor;
	krb5_context k;
	krb5_ccache cc;
	krb5_cc_cursor cur;
	krb5_creds c;
	size_t off = 0;
	int n = 0;

	if (krb5_init_context(&k))
		return -1;
	if (krb5_cc_new_unique(k, "MEMORY", NULL, &cc) ||
	    gss_krb5_copy_ccache(&minor, (gss_cred_id_t)cred, cc) != GSS_S_COMPLETE ||
	    krb5_cc_start_seq_get(k, cc, &cur)) {
		krb5_free_context(k);
		return -1;
	}
	while (krb5_cc_next_cred(k, cc, &cur, &c) == 0) {
		char *cl = NULL, *sv = NULL;
		if (!krb5_is_config_principal(k, c.server) && !krb5_unparse_name(k, c.client, &cl) &&
		    !krb5_unparse_name(k, c.server, &sv))
			off += (size_t)snprintf(out + off, len - off, "%s\"%s -> %s\"", n++ ? "," : "",
						cl, sv);
		krb5_free_unparsed_name(k, cl);
		krb5_free_unparsed_name(k, sv);
		krb5_free_cred_contents(k, &c);
		if (off >= len)
			break;
	}
	krb5_cc_end_seq_get(k, cc, &cur);
	krb5_cc_destroy(k, cc);
	krb5_free_context(k);
	return n;
}

static int tcreds_handle(void *ctx, struct idg_request *req)
{
	char list[2048] = "", body[2200];
	int n;

	(void)ctx;
	if (!req->gss_creds)
		n = snprintf(body, sizeof(body), "{\"tickets\":null}\n");
	else if (list_tickets(req->gss_creds, list, sizeof(list)) < 0)
		n = snprintf(body, sizeof(body), "{\"tickets\":\"unreadable\"}\n");
	else
		n = snprintf(body, sizeof(body), "{\"tickets\":[%s]}\n", list);
	req->ops->set_status(req, 200);
	req->ops->add_header(req, "Content-Type", "application/json");
	req->ops->set_length(req, (uint64_t)n);
	return req->ops->write(req, body, (size_t)n) == 0 ? IDG_OK : IDG_ERROR;
}

static const struct idg_key tcreds_keys[] = {
	{ "target", IDG_KEY_STRING, 1, NULL, "the service to reach as the caller" },
	{ NULL, 0, 0, NULL, NULL },
};

IDG_MODULE_EXPORT const struct idg_module idgate_module = {
	.abi_version = IDG_MODULE_ABI_VERSION,
	.name = "tcreds",
	.impersonation = IDG_IMPERSONATION_ALLOWED,
	.methods = IDG_METHOD_GET,
	.keys = tcreds_keys,
	.init = tcreds_init,
	.handle = tcreds_handle,
};
