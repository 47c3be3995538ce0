/*
 * How long this disk takes to make a small journal frame durable, three ways (speed.md section 37):
 *   fdatasync: pwrite the frame into a preallocated file, then fdatasync (what Journal.java does);
 *   dsync:     pwrite into the same kind of file opened O_DSYNC (the write returns once durable);
 *   direct:    O_DIRECT|O_DSYNC, the 4 KB blocks the frame touches written from an aligned buffer
 *              (the partly filled last block is written again by the next frame, as a WAL does).
 * Frames follow each other through a preallocated 64 MB file, wrapping at its end.
 *
 * usage: flushmodes DIR MODE SECONDS FRAME_BYTES
 * prints one JSON line: writes, and the time of each durable write (write + flush) in µs.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FILE_BYTES (64L << 20)
#define BLOCK 4096

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  long long x = *(const long long *) a, y = *(const long long *) b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  if (argc < 5) { fprintf(stderr, "usage: flushmodes DIR fdatasync|dsync|direct SECONDS FRAME_BYTES\n"); return 2; }
  const char *mode = argv[2];
  int seconds = atoi(argv[3]);
  long frame = atol(argv[4]);
  char path[4096];
  snprintf(path, sizeof path, "%s/flushmodes-%s.log", argv[1], mode);
  /* preallocate with written zeros, as Journal.open does, so appends change no metadata */
  int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
  char *image;
  if (fd < 0 || posix_memalign((void **) &image, BLOCK, FILE_BYTES)) { perror("open"); return 1; }
  memset(image, 0, FILE_BYTES);
  for (long at = 0; at < FILE_BYTES; at += 1 << 20)
    if (pwrite(fd, image + at, 1 << 20, at) != 1 << 20) { perror("pwrite"); return 1; }
  fsync(fd);
  close(fd);
  int flags = O_RDWR;
  if (!strcmp(mode, "dsync")) flags |= O_DSYNC;
  if (!strcmp(mode, "direct")) flags |= O_DSYNC | O_DIRECT;
  fd = open(path, flags);
  if (fd < 0) { perror("reopen"); return 1; }
  long cap = (long) seconds * 20000, n = 0, pos = 0;
  long long *lat = malloc(cap * sizeof *lat), end = now_ns() + (long long) seconds * 1000000000LL;
  while (n < cap && now_ns() < end) {
    if (pos + frame > FILE_BYTES) pos = 0;
    for (long i = 0; i < frame; i++) image[pos + i] = (char) (n + i);
    long long t0 = now_ns();
    ssize_t w;
    if (!strcmp(mode, "direct")) {
      long from = pos / BLOCK * BLOCK, to = (pos + frame + BLOCK - 1) / BLOCK * BLOCK;
      w = pwrite(fd, image + from, to - from, from) == to - from ? frame : -1;
    } else {
      w = pwrite(fd, image + pos, frame, pos);
      if (!strcmp(mode, "fdatasync") && w == frame && fdatasync(fd)) w = -1;
    }
    if (w != frame) { perror("write"); return 1; }
    lat[n++] = now_ns() - t0;
    pos += frame;
  }
  close(fd);
  unlink(path);
  qsort(lat, n, sizeof *lat, cmp);
  double sum = 0;
  for (long i = 0; i < n; i++) sum += lat[i];
  printf("{\"mode\":\"%s\",\"frame\":%ld,\"writes\":%ld,\"mean_us\":%.1f,\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,"
         "\"p999_us\":%.1f,\"max_us\":%.1f}\n", mode, frame, n, sum / n / 1e3, lat[n / 2] / 1e3, lat[n * 9 / 10] / 1e3,
         lat[n * 99 / 100] / 1e3, lat[n * 999 / 1000] / 1e3, lat[n - 1] / 1e3);
  return 0;
}
