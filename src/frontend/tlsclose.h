/* tlsclose.h -- a word before libmicrohttpd ends a TLS session.
 *
 * On a request line it cannot parse, libmicrohttpd 0.9.75 closes the
 * connection without an answer and says nothing (silentclose.h).  On a
 * plain listener the front end answers when it hears of the close; on a
 * TLS one it hears of it only after gnutls_deinit(), when nothing can be
 * written any more.  But the library ends the session with gnutls_bye()
 * first, while the session is still up, on the thread that read the
 * line.  So the front end defines gnutls_bye() itself: the dynamic linker
 * binds the library's call to the executable's definition, which runs the
 * hook and then GnuTLS's own (dlsym(RTLD_NEXT)).  The same for
 * gnutls_record_recv(), only to note a client's close_notify, which must
 * not be taken for a malformed line.  Until tlsclose_install() runs (in
 * the front end only), both only pass the call on. */
#ifndef IDGATE_TLSCLOSE_H
#define IDGATE_TLSCLOSE_H

#include <gnutls/gnutls.h>
#include <stdbool.h>

/* Called with the session about to be ended (GNUTLS_SHUT_WR), on the
 * thread that ends it. */
typedef void (*tlsclose_hook)(gnutls_session_t session);

/* 0, or -1 when GnuTLS's own functions cannot be found (then the hook is
 * not installed). */
int tlsclose_install(tlsclose_hook hook);

/* Whether the client ended this session with close_notify: the last
 * gnutls_record_recv() on this thread said so. */
bool tlsclose_peer_closed(gnutls_session_t session);

#endif
