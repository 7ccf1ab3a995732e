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
	char *tls_cert_pem;  /* read by the supervisor; NULL without tls */
	char *tls_key_pem;
};

/* Never returns. */
__attribute__((noreturn)) void frontend_main(struct fe_args *a);

#endif
