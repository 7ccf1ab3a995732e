/* tspawn.c -- a handler that starts `program` through the spawner with a
 * small environment and answers what it printed, then "exit=STATUS".
 * Query "fail" runs a path that does not exist; "sleep" starts
 * /bin/sleep 30 and kills it after 200 ms; "fd" opens `program` with
 * O_PATH and runs that open file (exec_fd) under a path that does not
 * exist, which only names it. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "idgate/module.h"

struct ctx {
	char program[512];
	char pool_uid[16];
};

static int tspawn_init(const struct idg_init *ini, void **ctxp)
{
	struct ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return -1;
	snprintf(c->program, sizeof(c->program), "%s", ini->ops->get(ini, "program"));
	snprintf(c->pool_uid, sizeof(c->pool_uid), "%u", (unsigned)geteuid());
	*ctxp = c;
	return 0;
}

static int tspawn_handle(void *p, struct idg_request *req)
{
	struct ctx *c = p;
	char out[8192], *argv[4] = { c->program, c->pool_uid, NULL, NULL };
	char *envp[] = { "PATH=/usr/bin:/bin", "IDGATE_TEST=1", NULL };
	struct idg_spawn s = { .path = c->program, .argv = argv, .envp = envp, .cwd = "/tmp",
			       .stdin_fd = -1, .stderr_fd = -1 };
	int pfd[2], child, status = -1, n = 0;

	if (strcmp(req->query, "fail") == 0)
		s.path = "/nonexistent/program";
	if (strcmp(req->query, "fd") == 0) {
		s.path = "/nonexistent/by-fd";
		s.exec_fd = open(c->program, O_PATH | O_CLOEXEC);
		if (s.exec_fd < 0)
			return IDG_ERROR;
	}
	if (strcmp(req->query, "sleep") == 0) {
		static char *sleep_argv[] = { "/bin/sleep", "30", NULL };
		s.path = "/bin/sleep";
		s.argv = sleep_argv;
	}
	if (pipe(pfd) < 0) {
		if (s.exec_fd > 2)
			close(s.exec_fd);
		return IDG_ERROR;
	}
	s.stdout_fd = pfd[1];
	child = req->ops->spawn(req, &s);
	close(pfd[1]);
	if (s.exec_fd > 2)
		close(s.exec_fd);
	if (child < 0) {
		close(pfd[0]);
		return 502; /* the reason was set by spawn */
	}
	if (strcmp(req->query, "sleep") == 0) {
		if (req->ops->child_wait(req, child, 200, &status) == 0)
			req->ops->child_kill(req, child);
	}
	for (ssize_t k; (k = read(pfd[0], out + n, sizeof(out) - (size_t)n - 64)) > 0;)
		n += (int)k;
	close(pfd[0]);
	if (req->ops->child_wait(req, child, 5000, &status) != 1)
		status = -1;
	req->ops->child_release(req, child);
	n += snprintf(out + n, sizeof(out) - (size_t)n, "exit=%s%d\n",
		      WIFSIGNALED(status) ? "signal " : "",
		      WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	req->ops->set_status(req, 200);
	req->ops->set_length(req, n);
	return req->ops->write(req, out, (size_t)n) == 0 ? IDG_OK : IDG_ERROR;
}

static const struct idg_key tspawn_keys[] = {
	{ "program", IDG_KEY_PATH, IDG_KEY_REQUIRED, NULL, "the program to run" },
	{ NULL, 0, 0, NULL, NULL },
};

IDG_MODULE_EXPORT const struct idg_module idgate_module = {
	.abi_version = IDG_MODULE_ABI_VERSION,
	.name = "tspawn",
	.impersonation = IDG_IMPERSONATION_ALLOWED,
	.methods = IDG_METHOD_GET,
	.keys = tspawn_keys,
	.init = tspawn_init,
	.handle = tspawn_handle,
	.cleanup = free,
};
