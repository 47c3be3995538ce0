/*
 * One client at concurrency 1 on a keep-alive connection, the bench's chat request back to back for
 * SECONDS; writes "monotonic_ns latency_ns status" per request, in CLOCK_MONOTONIC so the lines can be
 * laid beside a `perf record -k CLOCK_MONOTONIC` trace of the scheduler (bench/floor/slowsched.py).
 * C, like wrk, so the client adds no JIT or collector of its own to the tail (Timeline.java does).
 *
 * usage: c1timeline PORT SECONDS OUT [header:value ...]   (127.0.0.1, POST /v1/chat/completions)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Reads one response (headers, then Content-Length bytes); returns its status or -1. */
static int response(int fd, char *buf, int cap) {
  int have = 0, head = -1;
  while (head < 0) {
    int n = read(fd, buf + have, cap - have - 1);
    if (n <= 0) return -1;
    have += n;
    buf[have] = 0;
    char *end = strstr(buf, "\r\n\r\n");
    if (end) head = end + 4 - buf;
  }
  long length = 0;
  for (char *p = buf; p && p < buf + head; p = strstr(p, "\r\n")) {
    p += p == buf ? 0 : 2;
    if (!strncasecmp(p, "content-length:", 15)) length = atol(p + 15);
  }
  int status = atoi(buf + 9);
  long rest = head + length - have;
  while (rest > 0) {
    int n = read(fd, buf, rest < cap ? rest : cap);
    if (n <= 0) return -1;
    rest -= n;
  }
  return status;
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: c1timeline PORT SECONDS OUT [header:value ...]\n"); return 2; }
  const char *body = "{\"model\":\"mock\",\"max_tokens\":256,\"stream\":false,\"messages\":[{\"role\":\"user\","
                     "\"content\":\"Summarise the quarterly report in three sentences.\"}]}";
  char request[8192];
  int len = snprintf(request, sizeof request, "POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1:%s\r\n"
                     "content-type: application/json\r\ncontent-length: %zu\r\n", argv[1], strlen(body));
  for (int i = 4; i < argc; i++) {
    char *colon = strchr(argv[i], ':');
    if (colon) len += snprintf(request + len, sizeof request - len, "%.*s: %s\r\n", (int) (colon - argv[i]), argv[i], colon + 1);
  }
  len += snprintf(request + len, sizeof request - len, "\r\n%s", body);
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (connect(fd, (struct sockaddr *) &a, sizeof a)) { perror("connect"); return 1; }
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  long cap = 400000, n = 0;
  long long *at = malloc(cap * sizeof *at), *lat = malloc(cap * sizeof *lat);
  int *st = malloc(cap * sizeof *st);
  static char buf[1 << 16];
  long long end = now_ns() + atoll(argv[2]) * 1000000000LL;
  while (n < cap && now_ns() < end) {
    long long t0 = now_ns();
    if (write(fd, request, len) != len) { perror("write"); return 1; }
    st[n] = response(fd, buf, sizeof buf);
    lat[n] = now_ns() - t0;
    at[n++] = t0;
    if (st[n - 1] < 0) break;
  }
  FILE *out = fopen(argv[3], "w");
  for (long i = 0; i < n; i++) fprintf(out, "%lld %lld %d\n", at[i], lat[i], st[i]);
  fclose(out);
  return 0;
}
