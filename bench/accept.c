/* accept.c -- what one gss_accept_sec_context costs, alone.
 *
 *   accept KEYTAB N   (credentials from KRB5CCNAME, target HTTP@localhost)
 *
 * Makes N fresh SPNEGO tokens (with mutual authentication, as curl and
 * bench/load send), then accepts them one by one with one acceptor credential
 * and prints the CPU time per accept.  This is the floor under idgated's
 * cost per Negotiate request: the rest is HTTP, IPC and the handler. */
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
	static gss_OID_desc spnego = { 6, "\x2b\x06\x01\x05\x05\x02" };
	OM_uint32 major, minor;
	gss_cred_id_t cred;
	gss_name_t target;
	gss_buffer_desc name = { 14, "HTTP@localhost" };
	int n = argc > 2 ? atoi(argv[2]) : 2000, ok = 0;
	gss_buffer_desc *tokens;
	double t0;

	if (argc < 2 || n < 1) {
		fprintf(stderr, "usage: accept KEYTAB [N]\n");
		return 2;
	}
	gss_key_value_element_desc el = { "keytab", argv[1] };
	gss_key_value_set_desc store = { 1, &el };
	major = gss_acquire_cred_from(&minor, GSS_C_NO_NAME, GSS_C_INDEFINITE, GSS_C_NO_OID_SET,
				      GSS_C_ACCEPT, &store, &cred, NULL, NULL);
	if (GSS_ERROR(major) ||
	    GSS_ERROR(gss_import_name(&minor, &name, GSS_C_NT_HOSTBASED_SERVICE, &target))) {
		fprintf(stderr, "cannot acquire acceptor credentials\n");
		return 1;
	}
	tokens = calloc((size_t)n, sizeof(*tokens));
	for (int i = 0; i < n; i++) {
		gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
		major = gss_init_sec_context(&minor, GSS_C_NO_CREDENTIAL, &ctx, target, &spnego,
					     GSS_C_MUTUAL_FLAG, 0, NULL, GSS_C_NO_BUFFER, NULL,
					     &tokens[i], NULL, NULL);
		gss_delete_sec_context(&minor, &ctx, GSS_C_NO_BUFFER);
		if (GSS_ERROR(major)) {
			fprintf(stderr, "gss_init_sec_context failed (kinit first)\n");
			return 1;
		}
	}
	t0 = cpu_us();
	for (int i = 0; i < n; i++) {
		gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
		gss_buffer_desc out = GSS_C_EMPTY_BUFFER;
		major = gss_accept_sec_context(&minor, &ctx, cred, &tokens[i], NULL, NULL, NULL, &out,
					       NULL, NULL, NULL);
		ok += major == GSS_S_COMPLETE;
		gss_release_buffer(&minor, &out);
		gss_delete_sec_context(&minor, &ctx, GSS_C_NO_BUFFER);
	}
	printf("accepts %d ok %d cpu_us_per_accept %.1f\n", n, ok, (cpu_us() - t0) / n);
	return ok == n ? 0 : 1;
}
