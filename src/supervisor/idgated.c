/* idgated.c -- command line: check the configuration or run the daemon. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "confkeys.h"
#include "diag.h"
#include "keytabcheck.h"
#include "log.h"
#include "modinit.h"
#include "supervisor.h"

#ifndef IDGATE_CONFIG_FILE
#define IDGATE_CONFIG_FILE "/etc/idgate/idgate.conf"
#endif

static void usage(FILE *f)
{
	fprintf(f, "usage: idgated [-c FILE] [-t] [-d] [-k] [-V]\n"
		   "  -c FILE  configuration file (default %s)\n"
		   "  -t       check the configuration and exit\n"
		   "  -d       log debug messages\n"
		   "  -k       print the keys of [server], [pool] and [vdir] and exit\n"
		   "  -V       print the version and exit\n", IDGATE_CONFIG_FILE);
}

/* Load and validate everything, modules included, and for -t (`check`)
 * the keytab too, listing its keys on stdout.  NULL after printing each
 * problem as FILE:LINE: message -- those of the modules and of the keytab
 * together. */
static struct config *load_checked(const char *file, bool check)
{
	struct diag d = { 0 };
	struct config *c = config_load(file, &d, true);
	bool bad = c && config_check_modules(c, &d) < 0;

	if (c && check && keytab_check(c, &d, stdout) > 0)
		bad = true;
	if (bad) {
		config_free(c);
		c = NULL;
	}
	diag_print(&d, stderr);
	diag_free(&d);
	return c;
}

int main(int argc, char **argv)
{
	const char *file = IDGATE_CONFIG_FILE;
	bool check = false;
	struct config *c;
	int opt;

	while ((opt = getopt(argc, argv, "c:tdkVh")) != -1) {
		switch (opt) {
		case 'c': file = optarg; break;
		case 't': check = true; break;
		case 'd': log_set_level(LOG_DEBUG); break;
		case 'k': conf_keys_print(stdout); return 0;
		case 'V': printf("idgated %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	c = load_checked(file, check);
	if (!c)
		return 1;
	if (check) {
		printf("configuration OK\n");
		config_free(c);
		return 0;
	}
	return supervisor_run(c, file);
}
