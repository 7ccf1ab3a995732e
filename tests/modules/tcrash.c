/* tcrash.c -- a handler that crashes on request, for the failure tests:
 * query "segv" dies of SIGSEGV, "abort" aborts, "slow" answers after
 * 1.5 s, "hold" after 5 s (a request still on its worker however slowly a
 * loaded machine runs the test's next steps), "busy" after 20 ms (a
 * request that is on its worker for a while: t-kill's load); anything
 * else answers "alive". */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "idgate/module.h"

static int crash_handle(void *ctx, struct idg_request *req)
{
	static const char body[] = "alive\n";

	(void)ctx;
	if (strcmp(req->query, "segv") == 0)
		raise(SIGSEGV); /* a crash, without undefined behaviour */
	if (strcmp(req->query, "abort") == 0)
		abort();
	if (strcmp(req->query, "slow") == 0)
		usleep(1500 * 1000);
	if (strcmp(req->query, "hold") == 0)
		usleep(5000 * 1000);
	if (strcmp(req->query, "busy") == 0)
		usleep(20 * 1000);
	req->ops->set_status(req, 200);
	req->ops->set_length(req, sizeof(body) - 1);
	return req->ops->write(req, body, sizeof(body) - 1) == 0 ? IDG_OK : IDG_ERROR;
}

static const struct idg_key crash_keys[] = { { NULL, 0, 0, NULL, NULL } };

IDG_MODULE_EXPORT const struct idg_module idgate_module = {
	.abi_version = IDG_MODULE_ABI_VERSION,
	.name = "tcrash",
	.impersonation = IDG_IMPERSONATION_ALLOWED,
	.methods = IDG_METHOD_GET,
	.keys = crash_keys,
	.handle = crash_handle,
};
