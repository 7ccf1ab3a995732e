/* fuzz_cgi_env.c -- the environment the cgi module gives a program
 * (cgi_env.c): RFC 3875's meta-variables from the request (path, query,
 * Host, Content-Type, Content-Length), who the caller is, and one HTTP_*
 * variable per header.  A program believes REMOTE_USER: a client that
 * can set it, or put a line break into any variable, is whoever it likes.
 *
 * Input: fuzz_request.h's request.  Properties: at most CGI_ENV_MAX
 * variables of at most CGI_ENV_BYTES; each NAME=value once, NAME of
 * [A-Z0-9_], a value without a control byte but tab; REMOTE_USER,
 * GSS_NAME, AUTH_TYPE and IDGATE_LEVEL exactly what the gateway knows (or
 * absent); no HTTP_AUTHORIZATION, HTTP_PROXY_AUTHORIZATION or HTTP_PROXY;
 * every other header whose name is a token without '_' is HTTP_NAME with
 * the joined value, when that value is clean and there is room;
 * CONTENT_LENGTH only as digits; SERVER_PORT digits of at most 65535. */
#include "cgi_env.h"
#include "fuzz_request.h"
#include "util.h"

static bool clean(const char *v)
{
	for (; *v; v++)
		if (((unsigned char)*v < 0x20 && *v != '\t') || *v == 0x7f)
			return false;
	return true;
}

static void check_vars(const struct cgi_env *e)
{
	size_t bytes = 0;

	FZ_CHECK(e->n <= CGI_ENV_MAX && !e->vars[e->n]);
	for (size_t i = 0; i < e->n; i++) {
		const char *v = e->vars[i], *eq = strchr(v, '=');
		FZ_CHECK(eq && eq > v);
		for (const char *c = v; c < eq; c++)
			FZ_CHECK((*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_');
		FZ_CHECK(clean(eq + 1));
		for (size_t k = 0; k < i; k++)
			FZ_CHECK(strncmp(e->vars[k], v, (size_t)(eq - v) + 1) != 0);
		bytes += strlen(v) + 1;
	}
	FZ_CHECK(bytes == e->bytes && bytes <= CGI_ENV_BYTES);
}

/* A variable the gateway sets: the value, or absent when it is unclean,
 * or there was no room. */
static void check_exact(const struct cgi_env *e, const char *name, const char *want)
{
	const char *got = cgi_env_get(e, name);

	if (!want || !clean(want))
		FZ_CHECK(!got);
	else
		FZ_CHECK(!got || strcmp(got, want) == 0);
	if (want && clean(want) && !got)
		FZ_CHECK(e->dropped > 0);
}

static void check_headers(const struct cgi_env *e, struct idg_request *r)
{
	const char *name, *value;
	char var[300];

	FZ_CHECK(!cgi_env_get(e, "HTTP_AUTHORIZATION") && !cgi_env_get(e, "HTTP_PROXY") &&
		 !cgi_env_get(e, "HTTP_PROXY_AUTHORIZATION"));
	for (size_t i = 0; r->ops->header_at(r, i, &name, &value); i++) {
		size_t n = strlen(name);
		if (strchr(name, '_') || n > 255 || !strcasecmp(name, "Authorization") ||
		    !strcasecmp(name, "Proxy-Authorization") || !strcasecmp(name, "Proxy") ||
		    !strcasecmp(name, "Content-Type") || !strcasecmp(name, "Content-Length"))
			continue;
		snprintf(var, sizeof(var), "HTTP_%s", name);
		for (char *c = var; *c; c++)
			*c = *c == '-' ? '_' : (*c >= 'a' && *c <= 'z') ? (char)(*c - 32) : *c;
		check_exact(e, var, r->ops->header(r, name));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz z = fz_init(data, size);
	struct fzr r;
	struct cgi_env e;
	const struct cgi_script s = { .root = "/srv/cgi", .script_name = "/app/run.cgi",
				      .path_info = "/more", .filename = "/srv/cgi/run.cgi",
				      .server_name = "gw.example.test" };

	if (!fzr_read(&r, &z))
		goto done;
	if (cgi_env_build(&e, &r.pub, &s) < 0)
		fz_fail("cgi_env_build: out of memory");
	check_vars(&e);
	check_exact(&e, "REMOTE_USER", r.pub.user ? r.pub.user : r.pub.principal);
	check_exact(&e, "GSS_NAME", r.pub.principal);
	check_exact(&e, "AUTH_TYPE", r.pub.auth_type);
	check_exact(&e, "IDGATE_LEVEL", idg_level_name((int)r.pub.level));
	check_exact(&e, "QUERY_STRING", r.pub.query);
	const char *cl = cgi_env_get(&e, "CONTENT_LENGTH"), *port = cgi_env_get(&e, "SERVER_PORT");
	FZ_CHECK(!cl || (*cl && strspn(cl, "0123456789") == strlen(cl)));
	FZ_CHECK(port && *port && strlen(port) <= 5 && strspn(port, "0123456789") == strlen(port) &&
		 atoi(port) <= 65535);
	check_headers(&e, &r.pub);
	cgi_env_free(&e);
done:
	fzr_free(&r);
	return 0;
}
