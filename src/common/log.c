/* log.c -- under systemd (JOURNAL_STREAM names our stderr) each line starts
 * with <PRIORITY> so journald keeps the level; elsewhere lines read
 * "idgated[PID]: ROLE: error: message".  Messages never contain request
 * secrets: callers log names and reasons, never tokens or passwords. */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char role[80] = "idgated";
static int max_prio = LOG_INFO;
static int journal = -1;

static int stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long dev, ino;
	struct stat st;

	if (!js || sscanf(js, "%lu:%lu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
		return 0;
	return st.st_dev == dev && st.st_ino == ino;
}

void log_set_role(const char *r)
{
	snprintf(role, sizeof(role), "%s", r);
}

void log_set_level(int p)
{
	max_prio = p;
}

static const char *prio_word(int prio)
{
	switch (prio) {
	case LOG_EMERG: case LOG_ALERT: case LOG_CRIT: return "critical: ";
	case LOG_ERR: return "error: ";
	case LOG_WARNING: return "warning: ";
	case LOG_DEBUG: return "debug: ";
	default: return "";
	}
}

void log_vmsg(int prio, const char *fmt, va_list ap)
{
	char line[2048];
	int n, saved = errno;

	if (prio > max_prio)
		return;
	if (journal < 0)
		journal = stderr_is_journal();
	if (journal)
		n = snprintf(line, sizeof(line), "<%d>%s: ", prio, role);
	else
		n = snprintf(line, sizeof(line), "idgated[%d]: %s: %s", (int)getpid(), role,
			     prio_word(prio));
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	/* a message may carry text from the network: keep it on one line */
	for (int i = 0; i < n; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	line[n++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, (size_t)n);
	(void)w;
	errno = saved;
}

void log_msg(int prio, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(prio, fmt, ap);
	va_end(ap);
}

/* _exit, not exit: die() is called from any thread (a front end's event
 * loop that cannot start its daemon), and exit() would run the libraries'
 * destructors -- GnuTLS's global deinit -- under the feet of the threads
 * still running (an event loop inside MHD_start_daemon read freed GnuTLS
 * memory: t-restart under ASan, one run in seven).  Nothing of ours runs
 * at exit; stdio is flushed by hand. */
void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(LOG_ERR, fmt, ap);
	va_end(ap);
	fflush(NULL);
	_exit(1);
}
