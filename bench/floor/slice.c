/*
 * Sets the scheduler slice (sched_attr.sched_runtime, Linux 6.12+, 0.1-100 ms; 0 = the default) of
 * normal (SCHED_OTHER) threads, keeping their nice value: a thread that wakes on the same core
 * then waits at most about that long for them. An experiment of speed.md section 37, run from the
 * bench's job script on a running gateway's threads; the gateway itself does not call it.
 *
 * usage: slice NS TID...
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

struct sched_attr {
  uint32_t size, sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime, sched_deadline, sched_period;
  uint32_t sched_util_min, sched_util_max;
};

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: slice NS TID...\n"); return 2; }
  int failed = 0;
  for (int i = 2; i < argc; i++) {
    int tid = atoi(argv[i]);
    struct sched_attr a;
    memset(&a, 0, sizeof a);
    if (syscall(SYS_sched_getattr, tid, &a, sizeof a, 0)) { perror("sched_getattr"); failed = 1; continue; }
    if (a.sched_policy != 0) continue; /* SCHED_OTHER only */
    a.size = sizeof a;
    a.sched_flags = 0;
    a.sched_runtime = strtoull(argv[1], NULL, 10);
    if (syscall(SYS_sched_setattr, tid, &a, 0)) { perror("sched_setattr"); failed = 1; }
  }
  return failed;
}
