/* modkeys.c -- print the configuration keys a built module declares, one
 * per line, for the test that checks idgate.conf(5) documents them all.
 * usage: modkeys MODULE.so */
#include <dlfcn.h>
#include <stdio.h>

#include "idgate/module.h"

int main(int argc, char **argv)
{
	const struct idg_module *m;
	void *dl;

	if (argc != 2) {
		fprintf(stderr, "usage: modkeys MODULE.so\n");
		return 2;
	}
	dl = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		fprintf(stderr, "modkeys: %s\n", dlerror());
		return 1;
	}
	m = dlsym(dl, IDG_MODULE_SYMBOL);
	if (!m || !m->keys) {
		fprintf(stderr, "modkeys: %s exports no %s\n", argv[1], IDG_MODULE_SYMBOL);
		return 1;
	}
	for (const struct idg_key *k = m->keys; k->name; k++)
		printf("%s\n", k->name);
	return 0;
}
