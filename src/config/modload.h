/* modload.h -- loading handler modules (modules_dir/NAME.so) with dlopen. */
#ifndef IDGATE_MODLOAD_H
#define IDGATE_MODLOAD_H

#include <stddef.h>

#include "idgate/module.h"

struct module {
	char *name;
	char *path;
	void *dl;
	const struct idg_module *desc;
};

/* Load modules_dir/NAME.so and check its descriptor.  On failure returns
 * NULL with the reason in err ("cannot load ...: ...", "ABI version ..."). */
struct module *module_load(const char *dir, const char *name, char *err, size_t errlen);
void module_unload(struct module *m);
const struct idg_key *module_key(const struct module *m, const char *key);
const char *impersonation_option_name(enum idg_impersonation o);
/* "GET, HEAD" for an Allow header; buf of at least 64 bytes. */
void methods_allow_header(unsigned methods, char *buf, size_t len);
/* IDG_METHOD_* bit for a method name, 0 if not one we know. */
unsigned method_bit(const char *method);

#endif
