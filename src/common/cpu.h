/* cpu.h -- placing the threads that talk to each other on one CPU. */
#ifndef IDGATE_CPU_H
#define IDGATE_CPU_H

struct config;

/* For front-end loop `loop` and the worker threads behind its channels:
 * pin the calling thread to the loop's CPU and make it SCHED_BATCH, so a
 * wakeup from its peer does not preempt a thread that is about to block
 * anyway (one switch instead of two).  Nothing with cpu_affinity = false. */
void cpu_place_thread(const struct config *c, unsigned loop);
/* Make the calling thread SCHED_BATCH (the second half of the above). */
void cpu_batch_thread(void);

#endif
