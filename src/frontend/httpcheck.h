/* httpcheck.h -- the front end's checks of a request head as it came in,
 * before anything routes it: every shape on which two HTTP/1.1 parsers in
 * a chain could disagree about where a request ends (request smuggling),
 * Host, and the bytes a request-target may carry on to a handler.  Each
 * check answers 0, or 400 with a sentence naming the shape; the caller
 * answers 400 and closes the connection. */
#ifndef IDGATE_HTTPCHECK_H
#define IDGATE_HTTPCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One header field line, as libmicrohttpd stored it: name and value point
 * into its read buffer, where it parsed the head in place. */
struct hc_field {
	const char *name, *value;
	size_t name_len, value_len;
};

/* The head, by pointers into that buffer (libmicrohttpd 0.9.75 replaces
 * each separator -- the request line's spaces, the colon, CR and LF --
 * with NUL and keeps everything else where it came). */
struct hc_head {
	const char *method;          /* the head's first byte */
	const char *target_at;       /* where the buffer has the request-target */
	const char *target;          /* its bytes, as received (the buffer's
	                                copy is decoded in place afterwards) */
	size_t target_len;
	const char *version;
	size_t size;                 /* bytes from method to the empty line's end */
	const struct hc_field *fields;
	size_t nfields;
};

enum hc_framing { HC_NO_BODY = 0, HC_LENGTH, HC_CHUNKED };

struct hc_verdict {
	enum hc_framing framing;
	uint64_t length;             /* with HC_LENGTH */
	const char *why;             /* with 400 */
};

/* The head is exactly "method SP target SP version CRLF (name:OWS value
 * CRLF)* CRLF": no bare LF, no field continued on the next line (obs-fold,
 * which 0.9.75 appends to the field's name and moves out of the buffer),
 * no other byte that the parser skipped. */
int hc_check_layout(const struct hc_head *h, const char **why);
/* The method is a token (RFC 9110 9.1), the version HTTP/1.1 or HTTP/1.0:
 * the library answered every other version itself (400 or 505). */
int hc_check_request_line(const struct hc_head *h, const char **why);
/* Names are tokens, values have no control character but HTAB. */
int hc_check_fields(const struct hc_field *f, size_t n, const char **why);
/* RFC 9112 3.2: no CTL, SP, DEL; and, strict, no byte above 0x7f. */
int hc_check_target(const char *target, size_t len, const char **why);
/* One valid Host, required from HTTP/1.1 on; an absolute-form target
 * names the same authority. */
int hc_check_host(const struct hc_head *h, const char **why);
/* RFC 9112 6: one Content-Length of digits, or one Transfer-Encoding that
 * is "chunked" in HTTP/1.1, never both.  Fills v->framing and v->length. */
int hc_check_framing(const struct hc_head *h, struct hc_verdict *v);
/* All of them: the layout, the request line, fields, target, Host,
 * framing. */
int hc_check_head(const struct hc_head *h, struct hc_verdict *v);

/* host[:port] with host a DNS name or an IPv4 address (letters, digits,
 * '-', '.', '_', '~') or an IPv6 literal in brackets, port 1 to 5 digits. */
bool hc_authority_ok(const char *s, size_t len);

#endif
