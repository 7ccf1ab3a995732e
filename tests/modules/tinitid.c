/* tinitid.c -- a module whose init() tells who runs it, for the tests of
 * where module checks run:
 *   record = PATH   append "uid=R euid=E capeff=HEX checking=C" to PATH
 *   refuse = TEXT   fail with "TEXT (uid R)"
 *   crash = true    die of SIGSEGV in init()
 *   creds = true    ask for the caller's delegated credentials
 *   s4u = true      ask for constrained-delegation proxy credentials
 *   forge = N       send, on the report socket it inherits, a verdict of
 *                   its own: vdir N passed and wants delegated credentials
 * Requests get "ok". */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "idgate/module.h"

/* The effective capability mask, as /proc/self/status shows it. */
static void cap_eff(char *out, size_t len)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "re");

	snprintf(out, len, "?");
	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "CapEff:\t", 8) == 0) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(out, len, "%.*s", (int)len - 1, line + 8);
		}
	}
	if (f)
		fclose(f);
}

static int record(const struct idg_init *ini, const char *path)
{
	char caps[64], line[256];
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW), n;

	if (fd < 0) {
		ini->ops->error(ini, "record", "cannot open %s as uid %u", path,
				(unsigned)getuid());
		return -1;
	}
	cap_eff(caps, sizeof(caps));
	n = snprintf(line, sizeof(line), "uid=%u euid=%u capeff=%s checking=%d\n",
		     (unsigned)getuid(), (unsigned)geteuid(), caps, ini->checking);
	n = write(fd, line, (size_t)n) == n ? 0 : -1;
	close(fd);
	return n;
}

/* A W_CHK_DONE frame (wire.h: type 82, 8-byte header, then u32 vdir,
 * u32 passed, u32 flags, and the S4U2Proxy target: u32 length 0 and its
 * NUL) on every SOCK_SEQPACKET socket this process has. */
static void forge_verdict(uint32_t vdir)
{
	uint32_t words[6] = { 82, 17, vdir, 1, 1, 0 }; /* type and flags, length, payload */
	unsigned char frame[sizeof(words) + 1] = { 0 };

	memcpy(frame, words, sizeof(words));

	for (int fd = 3; fd < 64; fd++) {
		int type;
		socklen_t len = sizeof(type);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
		    type == SOCK_SEQPACKET)
			(void)!send(fd, frame, sizeof(frame), MSG_NOSIGNAL);
	}
}

/* An empty frame of message type `type` (one a check child never sends,
 * say) on every SOCK_SEQPACKET socket this process has. */
static void send_type(uint32_t type)
{
	uint32_t words[2] = { type & 0xffffu, 0 }; /* type, flags 0, length 0 */

	for (int fd = 3; fd < 64; fd++) {
		int st;
		socklen_t len = sizeof(st);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &st, &len) == 0 && st == SOCK_SEQPACKET)
			(void)!send(fd, words, sizeof(words), MSG_NOSIGNAL);
	}
}

static int initid_init(const struct idg_init *ini, void **ctx)
{
	const char *path = ini->ops->get(ini, "record"), *refuse = ini->ops->get(ini, "refuse");

	*ctx = NULL;
	if (ini->ops->get_bool(ini, "crash"))
		raise(SIGSEGV);
	if (ini->ops->get_bool(ini, "creds"))
		ini->ops->use_delegated_credentials(ini);
	if (ini->ops->get_bool(ini, "s4u"))
		ini->ops->use_proxy_credentials(ini, "HTTP@localhost");
	if (ini->ops->get(ini, "forge"))
		forge_verdict((uint32_t)ini->ops->get_uint(ini, "forge"));
	if (ini->ops->get(ini, "send"))
		send_type((uint32_t)ini->ops->get_uint(ini, "send"));
	if (path && record(ini, path) < 0)
		return -1;
	if (refuse) {
		ini->ops->error(ini, "refuse", "%s (uid %u)", refuse, (unsigned)getuid());
		return -1;
	}
	return 0;
}

static int initid_handle(void *ctx, struct idg_request *req)
{
	(void)ctx;
	req->ops->set_status(req, 200);
	req->ops->set_length(req, 3);
	return req->ops->write(req, "ok\n", 3) == 0 ? IDG_OK : IDG_ERROR;
}

static const struct idg_key initid_keys[] = {
	{ "record", IDG_KEY_PATH, 0, NULL, "file to append who ran init() to" },
	{ "refuse", IDG_KEY_STRING, 0, NULL, "fail init() with this message" },
	{ "crash", IDG_KEY_BOOL, 0, "false", "die in init()" },
	{ "creds", IDG_KEY_BOOL, 0, "false", "use delegated credentials" },
	{ "s4u", IDG_KEY_BOOL, 0, "false", "use proxy credentials" },
	{ "forge", IDG_KEY_UINT, 0, NULL, "forge a verdict for this vdir" },
	{ "send", IDG_KEY_UINT, 0, NULL, "send an empty message of this type" },
	{ NULL, 0, 0, NULL, NULL },
};

IDG_MODULE_EXPORT const struct idg_module idgate_module = {
	.abi_version = IDG_MODULE_ABI_VERSION,
	.name = "tinitid",
	.impersonation = IDG_IMPERSONATION_ALLOWED,
	.methods = IDG_METHOD_GET,
	.keys = initid_keys,
	.init = initid_init,
	.handle = initid_handle,
};
