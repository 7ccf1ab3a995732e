/* testmod.c -- modules for the loader and configuration tests, built in
 * variants: TM_NAME names it, TM_IMP sets its impersonation option and
 * TM_ABI its ABI version.  Its keys cover every key type. */
#include <string.h>

#include "idgate/module.h"

#ifndef TM_ABI
#define TM_ABI IDG_MODULE_ABI_VERSION
#endif

static int tm_init(const struct idg_init *ini, void **ctx)
{
	const char *text = ini->ops->get(ini, "text");

	*ctx = NULL;
	if (text && strcmp(text, "fail-init") == 0) {
		ini->ops->error(ini, "text", "init refused '%s'", text);
		return -1;
	}
	return 0;
}

static int tm_handle(void *ctx, struct idg_request *req)
{
	(void)ctx;
	(void)req;
	return IDG_DECLINED;
}

static const struct idg_key tm_keys[] = {
	{ "text", IDG_KEY_STRING, 0, NULL, "any text" },
	{ "dir", IDG_KEY_PATH, 0, NULL, "a path" },
	{ "flag", IDG_KEY_BOOL, 0, "false", "a boolean" },
	{ "count", IDG_KEY_UINT, 0, "3", "a number" },
	{ "limit", IDG_KEY_SIZE, 0, "1m", "a size" },
	{ "wait", IDG_KEY_DURATION, 0, "30s", "a duration" },
	{ "label", IDG_KEY_NAME, 0, NULL, "a token" },
#ifdef TM_REQUIRED_KEY
	{ "must", IDG_KEY_STRING, IDG_KEY_REQUIRED, NULL, "a required key" },
#endif
	{ NULL, 0, 0, NULL, NULL },
};

IDG_MODULE_EXPORT const struct idg_module idgate_module = {
	.abi_version = TM_ABI,
	.name = TM_NAME,
	.impersonation = TM_IMP,
	.methods = IDG_METHOD_GET,
	.keys = tm_keys,
	.init = tm_init,
	.handle = tm_handle,
	.cleanup = NULL,
};
