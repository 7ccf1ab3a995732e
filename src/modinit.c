/* modinit.c -- the idg_init_ops a module sees in init(): typed access to
 * its keys and error reports that carry the file and line of the key. */
#include "modinit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "diag.h"
#include "log.h"
#include "modload.h"
#include "units.h"
#include "util.h"

struct init_ctx {
	struct idg_init pub; /* first: modules get &pub */
	const struct config *c;
	const struct vdir_conf *v;
	struct diag *d;
	int errors;
	bool wants_creds, wants_s4u;
	char s4u_target[256];
};

static const struct init_ctx *ctx_of(const struct idg_init *ini)
{
	return (const struct init_ctx *)ini;
}

static const char *op_get(const struct idg_init *ini, const char *key)
{
	return vdir_key(ctx_of(ini)->v, key);
}

static int op_get_bool(const struct idg_init *ini, const char *key)
{
	const char *val = op_get(ini, key), *why;
	bool b = false;

	if (val)
		parse_bool(val, &b, &why);
	return b;
}

static uint64_t op_get_uint(const struct idg_init *ini, const char *key)
{
	const struct vdir_conf *v = ctx_of(ini)->v;
	const struct idg_key *k = module_key(v->module, key);
	const char *val = op_get(ini, key), *why;
	uint64_t u = 0;

	if (!val || !k)
		return 0;
	if (k->type == IDG_KEY_SIZE)
		parse_size(val, &u, &why);
	else if (k->type == IDG_KEY_DURATION)
		parse_duration_ms(val, &u, &why);
	else
		parse_uint(val, UINT64_MAX, &u, &why);
	return u;
}

static int key_line(const struct vdir_conf *v, const char *key)
{
	for (size_t i = 0; key && i < v->nkeys; i++)
		if (strcmp(v->keys[i].name, key) == 0)
			return v->keys[i].line;
	return v->line;
}

static void op_error(const struct idg_init *ini, const char *key, const char *fmt, ...)
{
	struct init_ctx *x = (struct init_ctx *)ini;
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	config_error(x->c, x->d, key_line(x->v, key), "[vdir %s] handler '%s': %s%s%s",
		     x->v->path, x->v->module->name, key ? key : "", key ? ": " : "", msg);
	x->errors++;
}

static void op_log(const struct idg_init *ini, enum idg_log_level level, const char *fmt, ...)
{
	const struct init_ctx *x = ctx_of(ini);
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg((int)level, "vdir %s: handler '%s': %s", x->v->path, x->v->module->name, msg);
}

static void op_use_delegated_credentials(const struct idg_init *ini)
{
	((struct init_ctx *)ini)->wants_creds = true;
}

static void op_use_proxy_credentials(const struct idg_init *ini, const char *target)
{
	struct init_ctx *x = (struct init_ctx *)ini;

	x->wants_s4u = true;
	snprintf(x->s4u_target, sizeof(x->s4u_target), "%s", target ? target : "");
}

static const struct idg_init_ops init_ops = {
	.get = op_get,
	.get_bool = op_get_bool,
	.get_uint = op_get_uint,
	.error = op_error,
	.log = op_log,
	.use_delegated_credentials = op_use_delegated_credentials,
	.use_proxy_credentials = op_use_proxy_credentials,
};

/* The configuration is the supervisor's own object until it forks: what
 * init() said about credentials is recorded in it, for the front end. */
int vdir_module_init(const struct config *c, const struct vdir_conf *v, struct diag *d,
		     bool checking, void **ctx)
{
	struct init_ctx x = {
		.pub = { .ops = &init_ops, .vdir = v->path, .pool = v->pool->name,
			 .impersonate = (int)v->impersonate, .checking = checking },
		.c = c, .v = v, .d = d,
	};
	int rc = 0;

	*ctx = NULL;
	if (v->module->desc->init)
		rc = v->module->desc->init(&x.pub, ctx);
	if (rc == 0 && x.wants_creds)
		((struct vdir_conf *)v)->module_creds = true;
	if (rc == 0 && x.wants_s4u) {
		((struct vdir_conf *)v)->module_s4u = true;
		free(v->s4u_target);
		((struct vdir_conf *)v)->s4u_target = xstrdup(x.s4u_target);
	}
	if (rc != 0 && x.errors == 0)
		op_error(&x.pub, NULL, "init failed");
	if (rc == 0 && x.errors > 0) {
		if (v->module->desc->cleanup)
			v->module->desc->cleanup(*ctx);
		*ctx = NULL;
		rc = -1;
	}
	return rc ? -1 : 0;
}

int config_check_modules(const struct config *c, struct diag *d)
{
	int rc = 0;

	for (size_t i = 0; i < c->nvdirs; i++) {
		const struct vdir_conf *v = &c->vdirs[i];
		void *ctx;
		if (!v->module)
			continue;
		if (vdir_module_init(c, v, d, true, &ctx) < 0) {
			rc = -1;
			continue;
		}
		if (v->module->desc->cleanup)
			v->module->desc->cleanup(ctx);
	}
	return rc;
}
