/* modinit.h -- running a module's init() for one vdir. */
#ifndef IDGATE_MODINIT_H
#define IDGATE_MODINIT_H

#include <stdbool.h>

struct config;
struct vdir_conf;
struct diag;

/* Call the vdir's module init(); problems go to `d` with FILE:LINE.
 * Returns 0 with *ctx set, or -1. */
int vdir_module_init(const struct config *c, const struct vdir_conf *v, struct diag *d,
		     bool checking, void **ctx);
/* `idgated -t`: init() then cleanup() for every vdir; 0 if all passed. */
int config_check_modules(const struct config *c, struct diag *d);

#endif
