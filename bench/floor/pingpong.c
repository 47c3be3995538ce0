/*
 * The machine's own floor under a proxy's c=1 latency (bench/results/speed.md section 37): a byte
 * sent from a thread on core 0 to a thread on core 1 and back, RATE times a second for SECONDS,
 * so that both cores are idle (halted) between round trips as they are between a c=1 client's
 * requests; prints the round trip's distribution and the steal time both cores saw meanwhile.
 *
 * usage: pingpong MODE SECONDS RATE [spin]
 *   MODE pipe:  two pipes, both threads block in read()
 *        tcp:   one loopback TCP connection (TCP_NODELAY), both threads block in read()
 *        same:  two pipes, both threads on core 0 (a wake-up without crossing cores)
 *        timer: no partner; the core-1 thread sleeps to absolute deadlines, lateness measured
 *   spin: a SCHED_IDLE thread spins on each core, so neither vCPU ever halts; a blocked thread's
 *         wake-up then preempts the spinner inside a running vCPU instead of waking a halted one.
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int to_b[2], to_a[2];
static volatile int done;

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void pin(int core) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(core, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void *responder(void *arg) {
  pin((int) (long) arg);
  char c;
  while (read(to_b[0], &c, 1) == 1 && c) {
    if (write(to_a[1], &c, 1) != 1) break;
  }
  return NULL;
}

static void *spinner(void *arg) {
  pin((int) (long) arg);
  struct sched_param p = {0};
  sched_setscheduler(0, SCHED_IDLE, &p);
  while (!done) __asm__ volatile("pause");
  return NULL;
}

/* steal (8th field) of cpu0 and cpu1 from /proc/stat, in clock ticks */
static void steal(long long out[2]) {
  FILE *f = fopen("/proc/stat", "r");
  char line[512];
  while (f && fgets(line, sizeof line, f)) {
    int cpu;
    long long v[8];
    if (sscanf(line, "cpu%d %lld %lld %lld %lld %lld %lld %lld %lld", &cpu, &v[0], &v[1], &v[2], &v[3], &v[4],
               &v[5], &v[6], &v[7]) == 9 && cpu < 2)
      out[cpu] = v[7];
  }
  if (f) fclose(f);
}

static void tcp_pair(void) {
  int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  bind(l, (struct sockaddr *) &a, sizeof a);
  listen(l, 1);
  getsockname(l, (struct sockaddr *) &a, &len);
  int c = socket(AF_INET, SOCK_STREAM, 0);
  connect(c, (struct sockaddr *) &a, sizeof a);
  int s = accept(l, NULL, NULL);
  setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  /* the initiator writes to_b[1] and reads to_a[0]; the responder reads to_b[0] and writes to_a[1] */
  to_b[1] = c; to_a[0] = c; to_b[0] = s; to_a[1] = s;
}

static int cmp(const void *a, const void *b) {
  long long x = *(const long long *) a, y = *(const long long *) b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: pingpong pipe|tcp|same|timer SECONDS RATE [spin]\n"); return 2; }
  const char *mode = argv[1];
  int seconds = atoi(argv[2]), rate = atoi(argv[3]), spin = argc > 4 && !strcmp(argv[4], "spin");
  long n = (long) seconds * rate;
  long long *lat = malloc(n * sizeof *lat), period = 1000000000LL / rate, st0[2] = {0}, st1[2] = {0};
  pthread_t rt, sp[2];
  int timer = !strcmp(mode, "timer");
  if (!strcmp(mode, "tcp")) tcp_pair();
  else if (pipe(to_b) || pipe(to_a)) return 1;
  if (spin) for (long i = 0; i < 2; i++) pthread_create(&sp[i], NULL, spinner, (void *) i);
  if (!timer) pthread_create(&rt, NULL, responder, (void *) (long) (strcmp(mode, "same") ? 1 : 0));
  pin(timer ? 1 : 0);
  usleep(100000);
  steal(st0);
  long long next = now_ns();
  for (long i = 0; i < n; i++) {
    next += period;
    struct timespec ts = {next / 1000000000LL, next % 1000000000LL};
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    long long t0 = now_ns();
    char c = 1;
    if (timer) { lat[i] = t0 - next; continue; }
    if (write(to_b[1], &c, 1) != 1 || read(to_a[0], &c, 1) != 1) return 1;
    lat[i] = now_ns() - t0;
  }
  steal(st1);
  done = 1;
  char zero = 0;
  if (!timer) { if (write(to_b[1], &zero, 1) != 1) return 1; pthread_join(rt, NULL); }
  if (spin) for (int i = 0; i < 2; i++) pthread_join(sp[i], NULL);
  qsort(lat, n, sizeof *lat, cmp);
  long over1 = 0;
  for (long i = 0; i < n; i++) over1 += lat[i] > 1000000;
  printf("{\"mode\":\"%s%s\",\"n\":%ld,\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f,"
         "\"over_1ms\":%ld,\"steal_ticks_cpu0\":%lld,\"steal_ticks_cpu1\":%lld}\n",
         mode, spin ? "+spin" : "", n, lat[n / 2] / 1e3, lat[n * 9 / 10] / 1e3, lat[n * 99 / 100] / 1e3,
         lat[n * 999 / 1000] / 1e3, lat[n - 1] / 1e3, over1, st1[0] - st0[0], st1[1] - st0[1]);
  return 0;
}
