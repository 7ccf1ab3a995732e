/* chkmsg.h -- a module check child's reports to its parent (modinit.c):
 * the init() of each of a pool's vdirs, run as the pool's user in a child
 * of idgated (idgated -t, start-up, reload, idgatectl check).  One
 * direction only, no descriptors:
 *
 *   CHK_BEGIN   u32 vdir: its init() starts
 *   CHK_ERROR   u32 vdir, str key (or NULL), str message
 *   CHK_DONE    u32 vdir, u32 passed (0 or 1), u32 flags (CHK_CREDS,
 *               CHK_S4U: what init() asked for), str S4U2Proxy target
 *               (empty without CHK_S4U; else printable ASCII, 255 bytes
 *               at most)
 *   CHK_FAILED  str message: the checks could not start
 *
 * The decoders refuse every truncation, trailing bytes, flags, any
 * descriptor, a vdir index not below nvdirs and the values above out of
 * range; the order of the reports is the parent's to check. */
#ifndef IDGATE_CHKMSG_H
#define IDGATE_CHKMSG_H

#include <stdbool.h>
#include <stdint.h>

#include "wire.h"

#define CHK_CREDS 0x1u         /* CHK_DONE flags: what init() asked for */
#define CHK_S4U 0x2u
#define CHK_TARGET_MAX 255

struct chkm_error {
	uint32_t vdir;
	const char *key;           /* NULL: about the vdir, not one key */
	const char *message;
};

struct chkm_done {
	uint32_t vdir;
	bool passed;
	uint32_t flags;
	const char *target;
};

void chkm_begin_encode(struct wbuf *b, uint32_t vdir);
int chkm_begin_decode(const struct wire_frame *f, uint32_t nvdirs, uint32_t *vdir);
void chkm_error_encode(struct wbuf *b, const struct chkm_error *m);
int chkm_error_decode(const struct wire_frame *f, uint32_t nvdirs, struct chkm_error *m);
void chkm_done_encode(struct wbuf *b, const struct chkm_done *m);
int chkm_done_decode(const struct wire_frame *f, uint32_t nvdirs, struct chkm_done *m);
void chkm_failed_encode(struct wbuf *b, const char *message);
int chkm_failed_decode(const struct wire_frame *f, const char **message);

#endif
