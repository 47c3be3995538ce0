/*
 * The bench's client at concurrency 1 (bin/lib/bench.sh, bench/README.md): one keep-alive connection
 * (TCP_NODELAY, as wrk), the request wrk sends for the arm, one at a time for SECONDS. The bench gives it
 * the method, body and headers of bench/wrk/chat.lua and the arm's own headers; it adds Host (the URL's
 * host:port) and Content-Length, as wrk does, so the server reads the same header lines and body (wrk's
 * header order is its Lua table's, this one's is fixed; HTTP gives order no meaning here).
 *
 * Why not wrk at c=1: after its run, wrk corrects its latency histogram for coordinated omission
 * (stats_correct in its source): with E its mean time per request on a connection, every request that
 * took n >= 2E gets extra samples at n - E, n - 2E, ... down to just over E, as if requests had been due
 * every E and had queued behind the slow one. A closed loop at c=1 has no such schedule (the next request
 * is sent when the last answer is in), so those samples are requests that never existed, and at c=1 they
 * land in the tail: a 3 ms stall behind a 0.25 ms mean adds ten samples between 0.25 and 3 ms.
 * This client reports the latencies it measured, nothing added.
 *
 * Every response must be 2xx with a body as long as the first one's (Content-Length or chunked); a
 * response that is not counts as an error, and a lost connection or a malformed response ends the
 * window. Prints one JSON line, as bench/wrk/chat.lua does: requests, seconds, rps, errors, p50/p90/
 * p99/p99.9/max in ms (the rank of a percentile as wrk's stats_percentile takes it).
 * C, so the client adds no JIT or collector of its own to the tail (a Java client would).
 *
 * -t OUT also writes "monotonic_ns latency_ns status" per request, in CLOCK_MONOTONIC so the lines can
 * be laid beside a `perf record -k CLOCK_MONOTONIC` trace of the scheduler (bench/floor/slowsched.py).
 * -T OUT writes "epoch_micros latency_micros status" instead, wall-clock times to lay beside the gateway's
 * flight recording (bin/cleargate bench tail, bench/jfr_tail.py): the start of each request is its
 * monotonic time moved by the offset between the two clocks read once at the start (the window is short
 * enough that the clocks' drift is far below JFR's millisecond).
 *
 * usage: c1client [-d SECONDS] [-X METHOD] [-b BODY] [-t OUT | -T OUT] http://IPV4:PORT/PATH [name:value ...]
 * Exit status: 0 if every response was good; 1 if any was not or the connection was lost (the JSON line
 * is printed first, the reason on stderr); 2 if the client could not start.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF (1 << 16)

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* The connection's received bytes not yet consumed: buf[at, end). */
typedef struct {
  int fd;
  int at, end;
  char buf[BUF + 1];
} conn;

static const char *problem; /* why the last response could not be read */

static int fill(conn *c) {
  if (c->at > 0) {
    memmove(c->buf, c->buf + c->at, c->end - c->at);
    c->end -= c->at;
    c->at = 0;
  }
  if (c->end == BUF) { problem = "a header line longer than 64 KB"; return -1; }
  int n;
  do n = read(c->fd, c->buf + c->end, BUF - c->end); while (n < 0 && errno == EINTR);
  if (n <= 0) { problem = n == 0 ? "the server closed the connection" : strerror(errno); return -1; }
  c->end += n;
  c->buf[c->end] = 0;
  return n;
}

/* The next line (without CRLF), NUL-terminated in place; NULL if the connection ends first. */
static char *line(conn *c) {
  for (;;) {
    char *crlf = memmem(c->buf + c->at, c->end - c->at, "\r\n", 2);
    if (crlf) {
      char *start = c->buf + c->at;
      *crlf = 0;
      c->at = crlf + 2 - c->buf;
      return start;
    }
    if (fill(c) < 0) return NULL;
  }
}

/* Consumes n body bytes. */
static int skip(conn *c, long n) {
  while (n > 0) {
    if (c->at == c->end && fill(c) < 0) return -1;
    long have = c->end - c->at < n ? c->end - c->at : n;
    c->at += have;
    n -= have;
  }
  return 0;
}

/* Reads one response; returns its status and sets *length to its body's bytes, or returns -1 (problem set). */
static int response(conn *c, long *length) {
  char *l = line(c);
  if (!l) return -1;
  if (strncmp(l, "HTTP/1.", 7) || strlen(l) < 12) { problem = "not an HTTP/1 status line"; return -1; }
  int status = atoi(l + 9), chunked = 0, close = 0;
  long content = -1;
  while ((l = line(c)) && *l) {
    if (!strncasecmp(l, "content-length:", 15)) content = atol(l + 15);
    else if (!strncasecmp(l, "transfer-encoding:", 18) && strcasestr(l + 18, "chunked")) chunked = 1;
    else if (!strncasecmp(l, "connection:", 11) && strcasestr(l + 11, "close")) close = 1;
  }
  if (!l) return -1;
  *length = 0;
  if (chunked) {
    for (;;) {
      if (!(l = line(c))) return -1;
      long size = strtol(l, NULL, 16);
      if (size == 0) break;
      if (skip(c, size) < 0 || !(l = line(c))) return -1;
      *length += size;
    }
    while ((l = line(c)) && *l) {} /* trailers, up to the empty line */
    if (!l) return -1;
  } else if (content >= 0) {
    if (skip(c, content) < 0) return -1;
    *length = content;
  } else {
    problem = "a response with neither Content-Length nor chunked encoding";
    return -1;
  }
  if (c->at != c->end) { problem = "bytes after the response, none asked for"; return -1; }
  if (close) { problem = "the server asked to close the keep-alive connection"; return -1; }
  return status;
}

static int by_value(const void *a, const void *b) {
  long long x = *(const long long *) a, y = *(const long long *) b;
  return (x > y) - (x < y);
}

/* The percentile as wrk's stats_percentile ranks it: the first sample at or past round(p% of n + 0.5). */
static double percentile_ms(const long long *sorted, long n, double p) {
  long rank = lround(p / 100.0 * n + 0.5);
  if (rank < 1) rank = 1;
  if (rank > n) rank = n;
  return n ? sorted[rank - 1] / 1e6 : 0;
}

static void usage(void) {
  fprintf(stderr, "usage: c1client [-d SECONDS] [-X METHOD] [-b BODY] [-t OUT | -T OUT] http://IPV4:PORT/PATH [name:value ...]\n");
  exit(2);
}

int main(int argc, char **argv) {
  double seconds = 10;
  const char *method = "GET", *body = NULL, *timeline = NULL;
  int opt, epoch = 0;
  while ((opt = getopt(argc, argv, "d:X:b:t:T:")) != -1) {
    if (opt == 'd') seconds = atof(optarg);
    else if (opt == 'X') method = optarg;
    else if (opt == 'b') body = optarg;
    else if (opt == 't') timeline = optarg;
    else if (opt == 'T') { timeline = optarg; epoch = 1; }
    else usage();
  }
  if (optind >= argc || seconds <= 0) usage();
  char host[64], path[2048] = "/";
  int port;
  if (sscanf(argv[optind], "http://%63[0-9.]:%d%2047s", host, &port, path) < 2) usage();
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  if (inet_pton(AF_INET, host, &a.sin_addr) != 1) usage();

  static char request[BUF];
  int len = snprintf(request, sizeof request, "%s %s HTTP/1.1\r\nHost: %s:%d\r\n", method, path, host, port);
  /* Each piece is checked before the next is written: past the buffer, sizeof request - len would wrap. */
  for (int i = optind + 1; i < argc && len < (int) sizeof request; i++) {
    char *colon = strchr(argv[i], ':');
    if (!colon) usage();
    len += snprintf(request + len, sizeof request - len, "%.*s: %s\r\n", (int) (colon - argv[i]), argv[i], colon + 1);
  }
  if (body && len < (int) sizeof request)
    len += snprintf(request + len, sizeof request - len, "Content-Length: %zu\r\n", strlen(body));
  if (len < (int) sizeof request) len += snprintf(request + len, sizeof request - len, "\r\n%s", body ? body : "");
  if (len >= (int) sizeof request) { fprintf(stderr, "c1client: request over 64 KB\n"); return 2; }

  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  if (fd < 0 || connect(fd, (struct sockaddr *) &a, sizeof a)) { perror("c1client: connect"); return 2; }
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  static conn c;
  c.fd = fd;

  long cap = 1 << 16, n = 0, errors = 0, bad_status = 0, bad_length = 0, expected = -1, lost = 0;
  int first_bad_status = 0;
  long long *at = malloc(cap * sizeof *at), *lat = malloc(cap * sizeof *lat);
  int *st = malloc(cap * sizeof *st);
  if (!at || !lat || !st) return 2;
  struct timespec wall;
  clock_gettime(CLOCK_REALTIME, &wall);
  long long start = now_ns(), end = start + (long long) (seconds * 1e9), last = start;
  while (now_ns() < end) {
    long long t0 = now_ns();
    long length = 0;
    int status;
    if (write(fd, request, len) != len) { problem = "the request could not be written"; status = -1; }
    else status = response(&c, &length);
    last = now_ns();
    if (status < 0) { lost = 1; errors++; break; }
    if (n == cap) {
      cap *= 2;
      at = realloc(at, cap * sizeof *at); lat = realloc(lat, cap * sizeof *lat); st = realloc(st, cap * sizeof *st);
      if (!at || !lat || !st) return 2;
    }
    at[n] = t0; lat[n] = last - t0; st[n++] = status;
    if (status < 200 || status > 299) {
      errors++; bad_status++;
      if (!first_bad_status) first_bad_status = status;
    } else if (expected < 0) {
      expected = length;
    } else if (length != expected) {
      errors++; bad_length++;
    }
  }

  if (timeline) {
    FILE *out = fopen(timeline, "w");
    if (!out) { perror("c1client: timeline"); return 2; }
    long long wall_offset = wall.tv_sec * 1000000000LL + wall.tv_nsec - start;
    for (long i = 0; i < n; i++) {
      if (epoch) fprintf(out, "%lld %lld %d\n", (at[i] + wall_offset) / 1000, lat[i] / 1000, st[i]);
      else fprintf(out, "%lld %lld %d\n", at[i], lat[i], st[i]);
    }
    fclose(out);
  }
  long long *sorted = malloc((n ? n : 1) * sizeof *sorted);
  memcpy(sorted, lat, n * sizeof *sorted);
  qsort(sorted, n, sizeof *sorted, by_value);
  double elapsed = (last - start) / 1e9;
  printf("{\"client\":\"c1client\",\"requests\":%ld,\"seconds\":%.3f,\"rps\":%.1f,\"errors\":%ld,\"p50_ms\":%.3f,"
         "\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f}\n",
         n, elapsed, n / elapsed, errors, percentile_ms(sorted, n, 50), percentile_ms(sorted, n, 90),
         percentile_ms(sorted, n, 99), percentile_ms(sorted, n, 99.9), n ? sorted[n - 1] / 1e6 : 0.0);
  fflush(stdout);
  if (bad_status)
    fprintf(stderr, "c1client: %ld of %ld responses were not 2xx (the first: %d)\n", bad_status, n, first_bad_status);
  if (bad_length)
    fprintf(stderr, "c1client: %ld of %ld responses had a body of another length than the first's (%ld bytes)\n",
            bad_length, n, expected);
  if (lost) fprintf(stderr, "c1client: connection lost after %ld responses: %s\n", n, problem);
  return errors ? 1 : 0;
}
