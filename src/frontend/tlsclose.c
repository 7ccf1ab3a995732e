/* tlsclose.c -- the front end's own gnutls_bye() and gnutls_record_recv()
 * (tlsclose.h: why they exist). */
#include "tlsclose.h"

#include <dlfcn.h>
#include <stdatomic.h>
#include <stddef.h>

typedef int (*bye_fn)(gnutls_session_t, gnutls_close_request_t);
typedef ssize_t (*recv_fn)(gnutls_session_t, void *, size_t);

static _Atomic(bye_fn) real_bye;
static _Atomic(recv_fn) real_recv;
static _Atomic(tlsclose_hook) hook;

/* the session whose last read on this thread was the client's close_notify */
static __thread gnutls_session_t peer_closed;

static bool resolve(void)
{
	if (!atomic_load(&real_bye))
		atomic_store(&real_bye, (bye_fn)dlsym(RTLD_NEXT, "gnutls_bye"));
	if (!atomic_load(&real_recv))
		atomic_store(&real_recv, (recv_fn)dlsym(RTLD_NEXT, "gnutls_record_recv"));
	return atomic_load(&real_bye) && atomic_load(&real_recv);
}

int tlsclose_install(tlsclose_hook h)
{
	if (!resolve())
		return -1;
	atomic_store(&hook, h);
	return 0;
}

bool tlsclose_peer_closed(gnutls_session_t session)
{
	return session == peer_closed;
}

int gnutls_bye(gnutls_session_t session, gnutls_close_request_t how)
{
	tlsclose_hook h = atomic_load(&hook);
	int ret;

	if (!resolve())
		return GNUTLS_E_INTERNAL_ERROR;
	if (h && how == GNUTLS_SHUT_WR)
		h(session);
	ret = atomic_load(&real_bye)(session, how);
	if (peer_closed == session)
		peer_closed = NULL; /* the next session at this address is another */
	return ret;
}

ssize_t gnutls_record_recv(gnutls_session_t session, void *data, size_t size)
{
	ssize_t n;

	if (!resolve())
		return GNUTLS_E_INTERNAL_ERROR;
	n = atomic_load(&real_recv)(session, data, size);
	if (n == 0 && size > 0)
		peer_closed = session;
	return n;
}
