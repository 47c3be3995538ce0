/*
 * relay: the least a gateway can do, as a yardstick for the bench's topology. One thread around
 * epoll on the system-under-test's core; every client connection gets its own connection to the
 * upstream, and bytes are copied both ways as they come (no parsing, no allocation per request).
 * Whatever it adds over the direct arm at concurrency 1, and whatever its CPU per request is at 1
 * against 64, is what the machine charges for the hops themselves: a request crossing cores twice,
 * each write waking a sleeping process on the other core.
 *
 * usage: relay LISTEN_PORT UPSTREAM_PORT   (both on 127.0.0.1)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

struct end {
    int fd;
    struct end *peer;
};

static int epfd, upstream_port;

static int connect_upstream(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(upstream_port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* Closes both ends. The two records are not freed: an event for the peer may still be in this
 * round's batch, and a bench run closes only as many connections as it opened. */
static void drop(struct end *e) {
    if (e->fd < 0) {
        return;
    }
    close(e->peer->fd);
    close(e->fd);
    e->peer->fd = -1;
    e->fd = -1;
}

/* Copies what is readable on e to its peer (blocking writes: the peer reads promptly). */
static void pump(struct end *e) {
    static char buf[64 * 1024];
    if (e->fd < 0) {
        return;
    }
    ssize_t n = read(e->fd, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return;
    }
    if (n <= 0) {
        drop(e);
        return;
    }
    for (ssize_t off = 0; off < n;) {
        ssize_t w = write(e->peer->fd, buf + off, n - off);
        if (w <= 0) {
            if (w < 0 && errno == EINTR) {
                continue;
            }
            drop(e);
            return;
        }
        off += w;
    }
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: relay LISTEN_PORT UPSTREAM_PORT\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    upstream_port = atoi(argv[2]);
    int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(ls, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(ls, 1024) != 0) {
        perror("relay");
        return 1;
    }
    epfd = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL}, ready[256];
    epoll_ctl(epfd, EPOLL_CTL_ADD, ls, &ev);
    for (;;) {
        int n = epoll_wait(epfd, ready, 256, -1);
        for (int i = 0; i < n; i++) {
            struct end *e = ready[i].data.ptr;
            if (e != NULL) {
                pump(e);
                continue;
            }
            int fd = accept(ls, NULL, NULL);
            if (fd < 0) {
                continue;
            }
            int up = connect_upstream();
            if (up < 0) {
                close(fd);
                continue;
            }
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            struct end *client = malloc(sizeof *client), *server = malloc(sizeof *server);
            client->fd = fd;
            client->peer = server;
            server->fd = up;
            server->peer = client;
            struct epoll_event a = {.events = EPOLLIN, .data.ptr = client}, b = {.events = EPOLLIN, .data.ptr = server};
            epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &a);
            epoll_ctl(epfd, EPOLL_CTL_ADD, up, &b);
        }
    }
}
