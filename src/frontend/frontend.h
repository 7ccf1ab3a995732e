/* frontend.h -- the network-facing process: HTTP, authentication, routing,
 * audit.  Runs as [server] user with no capabilities. */
#ifndef IDGATE_FRONTEND_H
#define IDGATE_FRONTEND_H

struct config;

struct fe_args {
	struct config *c;
	int *listen_fds;     /* one per c->server.listen[] */
	int ctl;             /* SEQPACKET to the supervisor */
	int audit_fd;        /* -1: none */
	int access_fd;       /* -1: none */
	int admin_fd;        /* the admin (metrics) listener, -1: none */
	/* opened by the supervisor, which never reads them (the private key is
	 * in this process alone); -1 without a tls listener */
	int tls_cert_fd;
	int tls_key_fd;
};

/* Never returns. */
__attribute__((noreturn)) void frontend_main(struct fe_args *a);

#endif
