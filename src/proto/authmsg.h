/* authmsg.h -- the front end's questions to the PAM helper and its answers
 * (one SOCK_SEQPACKET socket, wire.h framing, no descriptors).
 *
 *   front end -> PAM helper   AUTH_ACCT (u64 tag, str user, str rhost):
 *                             pam_acct_mgmt; AUTH_PASS (the same and str
 *                             password): pam_authenticate + pam_acct_mgmt
 *   PAM helper -> front end   AUTH_RESULT (u64 tag, u32 code, str message)
 *
 * The decoders refuse every truncation, trailing bytes, flags, any
 * descriptor and a NULL string; the helper checks what the strings say
 * (authhelper.c), the front end which question a tag answers.  */
#ifndef IDGATE_AUTHMSG_H
#define IDGATE_AUTHMSG_H

#include <stdbool.h>
#include <stdint.h>

#include "wire.h"

/* The helper's answer to a question it refuses (a field out of bounds):
 * not a PAM code (those are >= 0, and -1 is the front end's own "helper
 * unavailable").  The helper answers it and keeps serving. */
#define AUTH_ANSWER_INVALID (-2)
#define AUTHM_MAX_CODE 255   /* PAM's codes are far below */

struct authm_question {
	uint16_t op;             /* W_AUTH_ACCT or W_AUTH_PASS */
	uint64_t tag;
	const char *user, *rhost;
	const char *password;    /* AUTH_PASS only */
};

struct authm_result {
	uint64_t tag;
	int32_t code;            /* a PAM code, or AUTH_ANSWER_INVALID */
	const char *message;
};

/* The payload of a question of type q->op (the password goes into b: the
 * caller wipes it). */
void authm_question_encode(struct wbuf *b, const struct authm_question *q);
/* 0, or -1; *has_tag says whether the tag could still be read, so that a
 * refused question gets its answer. */
int authm_question_decode(const struct wire_frame *f, struct authm_question *q, bool *has_tag);
void authm_result_encode(struct wbuf *b, const struct authm_result *r);
int authm_result_decode(const struct wire_frame *f, struct authm_result *r);

#endif
