/* tevil.c -- a handler that behaves like a compromised one.  Running as
 * the impersonated caller, inside an impersonating pool worker (which holds
 * CAP_SETUID and CAP_SETGID), it tries to become root, a system account
 * and a member of system groups, and to leave its namespace; it answers a
 * JSON object with each attempt's result: "ok" or the errno's name.  The
 * worker must refuse every one, whatever the handler tries.  Query "hold"
 * tries nothing: it waits 3 s as the caller and answers "held", while
 * t-impersonate tries what the caller's own processes can do to the
 * thread. */
#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "idgate/module.h"

static const char *result(long rc)
{
	if (rc == 0)
		return "ok";
	switch (errno) {
	case EPERM: return "EPERM";
	case EINVAL: return "EINVAL";
	case ENOSYS: return "ENOSYS";
	default: return "other";
	}
}

static int evil_handle(void *ctx, struct idg_request *req)
{
	char body[4096];
	gid_t root_group[1] = { 0 }, shadow[1] = { 42 }, nogroup[1] = { 65534 }, mine[1];
	uid_t me = geteuid();
	gid_t my_gid = getegid();
	int n = 0;

	unsigned char uring_params[120] = { 0 }; /* struct io_uring_params */

	(void)ctx;
	if (strcmp(req->query, "hold") == 0) {
		sleep(3);
		req->ops->set_status(req, 200);
		req->ops->set_length(req, 4);
		return req->ops->write(req, "held", 4) == 0 ? IDG_OK : IDG_ERROR;
	}
	mine[0] = my_gid;
#define TRY(name, call) n += snprintf(body + n, sizeof(body) - (size_t)n, "%s\"%s\":\"%s\"", \
				      n > 1 ? "," : "", name, result(call))
	n += snprintf(body + n, sizeof(body) - (size_t)n, "{");
	TRY("setresuid_root", syscall(SYS_setresuid, 0, 0, 0));
	TRY("setresuid_euid_root", syscall(SYS_setresuid, -1, 0, -1));
	TRY("setresuid_wrapped_root", syscall(SYS_setresuid, 0x100000000L, 0x100000000L, 0x100000000L));
	TRY("setresuid_daemon", syscall(SYS_setresuid, 1, 1, 1));
	TRY("setuid_root", syscall(SYS_setuid, 0));
	TRY("setreuid_root", syscall(SYS_setreuid, 0, 0));
	TRY("setfsuid_root", syscall(SYS_setfsuid, 0));
	TRY("setresgid_root", syscall(SYS_setresgid, 0, 0, 0));
	TRY("setgid_shadow", syscall(SYS_setgid, 42));
	TRY("setgroups_root", syscall(SYS_setgroups, 1, root_group));
	TRY("setgroups_shadow", syscall(SYS_setgroups, 1, shadow));
	/* above max_uid: nobody, a systemd dynamic user, a subordinate id */
	TRY("setresuid_nobody", syscall(SYS_setresuid, 65534, 65534, 65534));
	TRY("setresuid_dynamic", syscall(SYS_setresuid, -1, 61184, -1));
	TRY("setresuid_subordinate", syscall(SYS_setresuid, 100000, 100000, 100000));
	TRY("setfsuid_nobody", syscall(SYS_setfsuid, 65534));
	TRY("setresgid_nogroup", syscall(SYS_setresgid, 65534, 65534, 65534));
	TRY("setresgid_subordinate", syscall(SYS_setresgid, 100000, 100000, 100000));
	TRY("setgroups_nogroup", syscall(SYS_setgroups, 1, nogroup));
	/* other processes' memory, io_uring, the caller's keyrings */
	char probe[8] = "x", copy[8];
	struct iovec local = { copy, sizeof(copy) }, remote = { probe, sizeof(probe) };
	TRY("process_vm_readv_self",
	    syscall(SYS_process_vm_readv, getpid(), &local, 1, &remote, 1, 0) > 0 ? 0 : -1);
	TRY("ptrace_peek_parent", syscall(SYS_ptrace, PTRACE_ATTACH, getppid(), 0, 0));
	long ring = syscall(SYS_io_uring_setup, 1, uring_params);
	TRY("io_uring_setup", ring >= 0 ? 0 : -1);
	if (ring >= 0)
		close((int)ring);
	TRY("keyctl_user_keyring", syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */,
					   -4 /* KEY_SPEC_USER_KEYRING */, 0) >= 0 ? 0 : -1);
	TRY("add_key", syscall(SYS_add_key, "user", "idgt", "x", 1, -3) >= 0 ? 0 : -1);
	TRY("unshare_user", unshare(CLONE_NEWUSER));
	TRY("unshare_mount", unshare(CLONE_NEWNS));
	/* what it may do: nothing that leaves the caller's own identity */
	TRY("setgroups_own", syscall(SYS_setgroups, 1, mine));
	n += snprintf(body + n, sizeof(body) - (size_t)n, ",\"securebits\":%d",
		      prctl(PR_GET_SECUREBITS, 0, 0, 0, 0));
	n += snprintf(body + n, sizeof(body) - (size_t)n, ",\"euid\":%u,\"still_me\":%s}\n",
		      (unsigned)geteuid(), geteuid() == me ? "true" : "false");
#undef TRY
	req->ops->set_status(req, 200);
	req->ops->add_header(req, "Content-Type", "application/json");
	req->ops->set_length(req, n);
	return req->ops->write(req, body, (size_t)n) == 0 ? IDG_OK : IDG_ERROR;
}

static const struct idg_key evil_keys[] = { { NULL, 0, 0, NULL, NULL } };

IDG_MODULE_EXPORT const struct idg_module idgate_module = {
	.abi_version = IDG_MODULE_ABI_VERSION,
	.name = "tevil",
	.impersonation = IDG_IMPERSONATION_REQUIRED,
	.methods = IDG_METHOD_GET,
	.keys = evil_keys,
	.handle = evil_handle,
};
