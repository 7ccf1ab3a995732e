/* idfilter.h -- the seccomp filter on every id setter of a confined worker.
 *
 * Written as classic BPF by hand rather than with libseccomp: the allowed
 * ids are a few intervals (idpolicy.h), which BPF's unsigned compares test
 * in two instructions each, where libseccomp's one comparison per argument
 * and rule needs dozens of masked rules per interval and would overflow
 * the kernel's 4096 instructions.  The kernel truncates an id argument to
 * its low 32 bits, so only those are compared. */
#ifndef IDGATE_IDFILTER_H
#define IDGATE_IDFILTER_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

struct id_policy;

/* Build the program: setuid, setreuid, setresuid, setfsuid may name only
 * `own_uid`, an id the policy allows, or -1 ("unchanged"); the gid setters
 * likewise with `own_gid`.  Anything else: EPERM.  A system call of
 * another ABI (x32, i386): the process is killed.  The caller frees
 * prog->filter.  0, or -1 when the policy has too many intervals. */
int idfilter_build(const struct id_policy *p, uint32_t own_uid, uint32_t own_gid,
		   struct sock_fprog *prog);

/* Build and load it (no_new_privs must be set, or CAP_SYS_ADMIN held).
 * 0 or -1 with errno. */
int idfilter_load(const struct id_policy *p, uint32_t own_uid, uint32_t own_gid);

#endif
