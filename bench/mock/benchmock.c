/*
 * benchmock: the benchmark's upstream, an OpenAI-compatible mock that answers every chat completion
 * with the same 1.4 KB text. It must cost far less per request than the gateway it serves (the bench
 * reports the two side by side and asks for 10x), so it is one thread around epoll: a request that
 * arrives costs one read and one write, and when many connections are ready one wake-up serves them
 * all. It speaks just enough HTTP/1.1 for keep-alive clients: Content-Length or chunked request
 * bodies, pipelined requests, fixed JSON replies, and SSE streams of CHUNKS pieces DELAY_MS apart
 * for requests with "stream": true (each stream on a thread of its own, which sleeps between
 * chunks and hands the connection back to the loop after [DONE]).
 *
 * usage: benchmock PORT [CHUNKS] [DELAY_MS]
 * (The Go mock it replaces woke a goroutine and the runtime's poller per request: 13-15 us per
 * request behind the bare gateway, a fifth of the gateway's own cost.)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SENTENCE "Cleargate forwards this completion from a mock upstream so that the benchmark measures the gateway, not a model. "
#define TEXT_LEN 1400
#define IN_CAP (256 * 1024)

static char text[TEXT_LEN + 1];
static int chunks = 64;
static long delay_ms;
static char *json_reply, *models_reply;
static size_t json_len, models_len;
static const char not_found[] = "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n";
static int epfd;

struct conn {
    int fd;
    size_t len;      /* bytes buffered in in[] */
    char in[IN_CAP]; /* requests not yet answered */
};

static char *response(const char *type, const char *body, size_t *len) {
    size_t blen = strlen(body);
    char *out = malloc(blen + 256);
    int head = snprintf(out, 256, "HTTP/1.1 200 OK\r\ncontent-type: %s\r\ncontent-length: %zu\r\n\r\n", type, blen);
    memcpy(out + head, body, blen);
    *len = head + blen;
    return out;
}

/* Writes all of buf on a (possibly non-blocking) socket; 0 when the peer is gone. */
static int write_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n > 0) {
            buf += n;
            len -= n;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct epoll_event ev = {0}; /* rare: the client reads slowly; wait until it can take more */
            int w = epoll_create1(0);
            ev.events = EPOLLOUT;
            epoll_ctl(w, EPOLL_CTL_ADD, fd, &ev);
            epoll_wait(w, &ev, 1, 10000);
            close(w);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            return 0;
        }
    }
    return 1;
}

static void close_conn(struct conn *c) {
    close(c->fd); /* closing removes it from the epoll set */
    free(c);
}

/* Case-insensitive search for a header line's value; returns its start or NULL. */
static const char *header(const char *head, size_t head_len, const char *name) {
    size_t nlen = strlen(name);
    const char *p = head, *end = head + head_len;
    while (p < end) {
        const char *eol = memchr(p, '\n', end - p);
        if (!eol) {
            break;
        }
        if ((size_t)(eol - p) > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            p += nlen + 1;
            while (*p == ' ' || *p == '\t') {
                p++;
            }
            return p;
        }
        p = eol + 1;
    }
    return NULL;
}

/* Decodes a chunked body starting at p (within limit); returns bytes consumed or 0 when incomplete. */
static size_t chunked_body(const char *p, size_t avail, const char **body, size_t *body_len, char *scratch) {
    size_t pos = 0, out = 0;
    for (;;) {
        const char *eol = memmem(p + pos, avail - pos, "\r\n", 2);
        if (!eol) {
            return 0;
        }
        size_t size = strtoul(p + pos, NULL, 16);
        pos = (eol - p) + 2;
        if (size == 0) { /* trailers end with an empty line */
            for (;;) {
                const char *t = memmem(p + pos, avail - pos, "\r\n", 2);
                if (!t) {
                    return 0;
                }
                size_t line = (t - p) - pos;
                pos = (t - p) + 2;
                if (line == 0) {
                    *body = scratch;
                    *body_len = out;
                    return pos;
                }
            }
        }
        if (pos + size + 2 > avail) {
            return 0;
        }
        memcpy(scratch + out, p + pos, size);
        out += size;
        pos += size + 2;
    }
}

static int is_stream(const char *body, size_t len) {
    const char *k = memmem(body, len, "\"stream\"", 8);
    if (!k) {
        return 0;
    }
    k += 8;
    const char *end = body + len;
    while (k < end && (*k == ' ' || *k == '\t' || *k == '\r' || *k == '\n' || *k == ':')) {
        k++;
    }
    return end - k >= 4 && memcmp(k, "true", 4) == 0;
}

static int event(char *out, const char *data) {
    char payload[4096];
    int n = snprintf(payload, sizeof payload, "data: %s\n\n", data);
    return sprintf(out, "%x\r\n%s\r\n", n, payload);
}

static void sleep_until(struct timespec *at, long ms) {
    at->tv_nsec += ms * 1000000L;
    while (at->tv_nsec >= 1000000000L) {
        at->tv_nsec -= 1000000000L;
        at->tv_sec++;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, at, NULL) == EINTR) {
    }
}

/* One stream on its own thread: CHUNKS events DELAY apart, finish, usage, [DONE]; then the
 * connection goes back to the loop (or is closed when the client went away). */
static void *stream(void *arg) {
    struct conn *c = arg;
    char buf[8192], data[4096];
    int n = chunks < 1 ? 1 : chunks, ok = 1;
    struct timespec at;
    clock_gettime(CLOCK_MONOTONIC, &at);
    int len = sprintf(buf, "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n");
    for (int i = 0; i < n && ok; i++) {
        int from = i * TEXT_LEN / n, to = (i + 1) * TEXT_LEN / n;
        snprintf(data, sizeof data, "{\"id\":\"mock-1\",\"object\":\"chat.completion.chunk\",\"created\":0,\"model\":\"mock\","
                 "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"%.*s\"},\"logprobs\":null,\"finish_reason\":null}]}",
                 to - from, text + from);
        len += event(buf + len, data);
        ok = write_all(c->fd, buf, len);
        len = 0;
        if (delay_ms > 0) {
            sleep_until(&at, delay_ms);
        }
    }
    if (ok) {
        len = event(buf, "{\"id\":\"mock-1\",\"object\":\"chat.completion.chunk\",\"created\":0,\"model\":\"mock\","
                         "\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}]}");
        snprintf(data, sizeof data, "{\"id\":\"mock-1\",\"object\":\"chat.completion.chunk\",\"created\":0,\"model\":\"mock\","
                 "\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":%d,\"total_tokens\":%d}}", n, 12 + n);
        len += event(buf + len, data);
        len += event(buf + len, "[DONE]");
        len += sprintf(buf + len, "0\r\n\r\n");
        ok = write_all(c->fd, buf, len);
    }
    if (!ok) {
        close_conn(c);
        return NULL;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
        close_conn(c);
    }
    return NULL;
}

/*
 * Answers every complete request buffered on c. Returns 1 to keep the connection in the loop,
 * 0 when it was closed, 2 when a stream thread took it over.
 */
static int serve(struct conn *c) {
    static char scratch[IN_CAP];
    static char out[64 * 1024];
    size_t out_len = 0, pos = 0;
    int keep = 1;
    while (pos < c->len) {
        char *req = c->in + pos;
        size_t avail = c->len - pos;
        char *end = memmem(req, avail, "\r\n\r\n", 4);
        if (!end) {
            break;
        }
        size_t head_len = end - req + 4;
        const char *body = req + head_len;
        size_t body_len = 0, used;
        const char *te = header(req, head_len, "transfer-encoding");
        if (te && strncasecmp(te, "chunked", 7) == 0) {
            size_t n = chunked_body(body, avail - head_len, &body, &body_len, scratch);
            if (n == 0) {
                break;
            }
            used = head_len + n;
        } else {
            const char *cl = header(req, head_len, "content-length");
            body_len = cl ? strtoul(cl, NULL, 10) : 0;
            if (head_len + body_len > avail) {
                break;
            }
            used = head_len + body_len;
        }
        const char *conn_hdr = header(req, head_len, "connection");
        int close_after = conn_hdr && strncasecmp(conn_hdr, "close", 5) == 0;
        pos += used;
        if (strncmp(req, "POST /v1/chat/completions", 25) == 0 && is_stream(body, body_len)) {
            if (out_len > 0 && !write_all(c->fd, out, out_len)) {
                close_conn(c);
                return 0;
            }
            memmove(c->in, c->in + pos, c->len - pos); /* a client does not pipeline behind a stream */
            c->len -= pos;
            epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
            pthread_t t;
            pthread_attr_t attr;
            pthread_attr_init(&attr);
            pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
            pthread_attr_setstacksize(&attr, 256 * 1024);
            if (pthread_create(&t, &attr, stream, c) != 0) {
                close_conn(c);
            }
            pthread_attr_destroy(&attr);
            return 2;
        }
        const char *reply = not_found;
        size_t reply_len = sizeof not_found - 1;
        if (strncmp(req, "POST /v1/chat/completions", 25) == 0) {
            reply = json_reply;
            reply_len = json_len;
        } else if (memmem(req, head_len < 32 ? head_len : 32, " /v1/models", 11) != NULL) {
            reply = models_reply;
            reply_len = models_len;
        }
        if (out_len + reply_len > sizeof out) {
            if (!write_all(c->fd, out, out_len)) {
                close_conn(c);
                return 0;
            }
            out_len = 0;
        }
        memcpy(out + out_len, reply, reply_len);
        out_len += reply_len;
        if (close_after) {
            keep = 0;
            break;
        }
    }
    /* Pipelined requests share one write. */
    if (out_len > 0 && !write_all(c->fd, out, out_len)) {
        keep = 0;
    }
    if (!keep || (c->len == IN_CAP && pos == 0)) { /* asked to close, or a request larger than the buffer */
        close_conn(c);
        return 0;
    }
    memmove(c->in, c->in + pos, c->len - pos);
    c->len -= pos;
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: benchmock PORT [CHUNKS] [DELAY_MS]\n");
        return 2;
    }
    if (argc > 2) {
        chunks = atoi(argv[2]);
    }
    if (argc > 3) {
        delay_ms = atol(argv[3]);
    }
    signal(SIGPIPE, SIG_IGN);
    for (size_t i = 0; i < TEXT_LEN; i++) {
        text[i] = SENTENCE[i % (sizeof SENTENCE - 1)];
    }
    char *body = malloc(TEXT_LEN + 1024);
    sprintf(body, "{\"id\":\"mock-1\",\"object\":\"chat.completion\",\"created\":0,\"model\":\"mock\",\"choices\":[{\"index\":0,"
            "\"message\":{\"role\":\"assistant\",\"content\":\"%s\"},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
            "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":%d,\"total_tokens\":%d}}", text, chunks, 12 + chunks);
    json_reply = response("application/json", body, &json_len);
    models_reply = response("application/json",
            "{\"object\":\"list\",\"data\":[{\"id\":\"mock\",\"object\":\"model\",\"created\":0,\"owned_by\":\"bench\"}]}",
            &models_len);

    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(ls, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(ls, 1024) != 0) {
        perror("benchmock");
        return 1;
    }
    printf("benchmock listening on 127.0.0.1:%s\n", argv[1]);
    fflush(stdout);
    epfd = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL}, ready[256];
    epoll_ctl(epfd, EPOLL_CTL_ADD, ls, &ev);
    for (;;) {
        int n = epoll_wait(epfd, ready, 256, -1);
        for (int i = 0; i < n; i++) {
            struct conn *c = ready[i].data.ptr;
            if (c == NULL) { /* the listener: accept everything waiting */
                int fd;
                while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct conn *nc = malloc(sizeof *nc);
                    nc->fd = fd;
                    nc->len = 0;
                    struct epoll_event cev = {.events = EPOLLIN, .data.ptr = nc};
                    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &cev);
                }
                continue;
            }
            ssize_t got = read(c->fd, c->in + c->len, IN_CAP - c->len);
            if (got <= 0) {
                if (got < 0 && (errno == EAGAIN || errno == EINTR)) {
                    continue;
                }
                close_conn(c);
                continue;
            }
            c->len += got;
            serve(c);
        }
    }
}
