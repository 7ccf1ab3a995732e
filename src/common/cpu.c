/* cpu.c -- see cpu.h.  On the 2-CPU VMs idgate was measured on, a wakeup
 * across CPUs costs about ten times one on the same CPU (an idle vCPU must
 * be woken through the hypervisor), so a request's path -- front-end loop,
 * pool worker thread, loop again -- stays on one CPU. */
#include "cpu.h"

#include <pthread.h>
#include <sched.h>

#include "config.h"
#include "log.h"

void cpu_batch_thread(void)
{
	struct sched_param sp = { 0 };

	if (sched_setscheduler(0, SCHED_BATCH, &sp) != 0)
		log_msg(LOG_WARNING, "cannot make a thread SCHED_BATCH: %m");
}

void cpu_place_thread(const struct config *c, unsigned loop)
{
	int cpu = config_loop_cpu(c, loop);
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0)
		log_msg(LOG_WARNING, "cannot pin a thread to CPU %d", cpu);
	cpu_batch_thread();
}
