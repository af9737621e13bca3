/* publish FILE.flv rtmp://host[:port]/app/stream
 *
 * Pushes an FLV file to an RTMP server, paced to real time by the tags'
 * timestamps (as rtmp-push and ffmpeg -re do), over a POSIX socket: the
 * session is rtmp-core's sans-IO publisher (rtmp.h); media goes out with
 * writev straight from the file's memory, chunk headers in between.
 * Exit status: 0 sent and closed cleanly, 1 failed (one line on stderr
 * naming the server, the step and the reason), 2 usage. */
#include "rtmp.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

struct conn {
    int fd;
    struct rtmp_publisher *p;
    const char *server; /* host:port, for messages */
    uint8_t in[16384];
    size_t have;
    int published, closed, closing;
};

static uint64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int fail(const struct conn *c, const char *step, const char *why) {
    fprintf(stderr, "publish: %s: %s: %s\n", c->server, step, why);
    return -1;
}

/* Sends the session's control bytes. */
static int flush(struct conn *c) {
    const uint8_t *data;
    size_t n;
    while ((n = rtmp_publisher_poll_transmit(c->p, &data)) > 0) {
        ssize_t w = send(c->fd, data, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            return fail(c, "send", strerror(errno));
        }
        rtmp_publisher_transmitted(c->p, (size_t)w);
    }
    return 0;
}

/* Handles the session's events; -1 once it has closed with an error. */
static int events(struct conn *c, const char *step) {
    struct rtmp_event ev;
    while (rtmp_publisher_poll_event(c->p, &ev)) {
        if (ev.kind == RTMP_EVENT_PUBLISH_STARTED) c->published = 1;
        if (ev.kind == RTMP_EVENT_CLOSED) {
            c->closed = 1;
            if (ev.close_reason == RTMP_CLOSE_REFUSED) {
                char why[512];
                snprintf(why, sizeof why, "server refused: %s (%s)", ev.code, ev.description);
                return fail(c, step, why);
            }
            /* Our own close, or the server's answer to it, ends cleanly. */
            if (ev.close_reason == RTMP_CLOSE_LOCAL || (c->closing && ev.close_reason == RTMP_CLOSE_PEER_CLOSED)) continue;
            return fail(c, step, ev.description);
        }
    }
    return 0;
}

/* Sends control bytes, then waits up to wait_ms (less if the session's
 * timer is due sooner) for input, feeds it, runs the timer and handles
 * events. */
static int pump(struct conn *c, int wait_ms, const char *step) {
    if (flush(c) < 0) return -1;
    uint64_t at, now = now_us();
    if (rtmp_publisher_timeout(c->p, &at)) {
        int until = at > now ? (int)((at - now + 999) / 1000) : 0;
        if (until < wait_ms) wait_ms = until;
    }
    struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
    int ready = c->closed ? 0 : poll(&pfd, 1, wait_ms);
    if (ready < 0 && errno != EINTR) return fail(c, step, strerror(errno));
    if (ready > 0) {
        ssize_t r = recv(c->fd, c->in + c->have, sizeof c->in - c->have, 0);
        if (r < 0 && errno != EINTR) return fail(c, step, strerror(errno));
        if (r == 0) {
            rtmp_publisher_peer_closed(c->p);
        } else if (r > 0) {
            c->have += (size_t)r;
            intptr_t used = rtmp_publisher_recv(c->p, c->in, c->have, now_us());
            if (used < 0) {
                events(c, step);
                return fail(c, step, rtmp_strerror((int)used));
            }
            memmove(c->in, c->in + used, c->have - (size_t)used);
            c->have -= (size_t)used;
        }
    }
    now = now_us();
    if (rtmp_publisher_timeout(c->p, &at) && now >= at) rtmp_publisher_on_timeout(c->p, now);
    if (events(c, step) < 0) return -1;
    return flush(c);
}

/* Sends one tag's body as a message: chunk headers and the body's bytes
 * go out together with writev; the body is not copied. */
static int send_tag(struct conn *c, uint8_t type, uint32_t ts, const uint8_t *data, size_t len) {
    struct rtmp_slice part = {data, len};
    struct rtmp_message msg;
    if (flush(c) < 0) return -1;
    int rc = rtmp_publisher_send(c->p, type, ts, &part, 1, &msg);
    if (rc < 0) return fail(c, "send media", rtmp_strerror(rc));
    while (rtmp_message_remaining(&msg) > 0) {
        struct rtmp_slice iov[64];
        size_t n = rtmp_message_iov(&msg, iov, 64);
        ssize_t w = writev(c->fd, (const struct iovec *)iov, (int)n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return fail(c, "send media", strerror(errno));
        }
        rtmp_message_advance(&msg, (size_t)w);
    }
    return 0;
}

static int connect_to(struct conn *c, const char *host, uint16_t port) {
    char service[8];
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
    snprintf(service, sizeof service, "%u", port);
    int rc = getaddrinfo(host, service, &hints, &res);
    if (rc != 0) return fail(c, "resolve", gai_strerror(rc));
    c->fd = -1;
    for (ai = res; ai && c->fd < 0; ai = ai->ai_next) {
        c->fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (c->fd >= 0 && connect(c->fd, ai->ai_addr, ai->ai_addrlen) < 0) {
            close(c->fd);
            c->fd = -1;
        }
    }
    freeaddrinfo(res);
    return c->fd < 0 ? fail(c, "connect", strerror(errno)) : 0;
}

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    struct stat st;
    uint8_t *data = NULL;
    if (fstat(fileno(f), &st) == 0 && (data = malloc((size_t)st.st_size + 1)) != NULL) {
        *len = fread(data, 1, (size_t)st.st_size, f);
    }
    fclose(f);
    return data;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: publish FILE.flv rtmp://host[:port]/app/stream\n");
        return 2;
    }
    size_t file_len = 0;
    uint8_t *file = read_file(argv[1], &file_len);
    if (!file) {
        fprintf(stderr, "publish: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    char url_buf[2048];
    struct rtmp_url url;
    int rc = rtmp_url_parse(argv[2], url_buf, sizeof url_buf, &url);
    if (rc < 0) {
        fprintf(stderr, "publish: %s\n", rtmp_strerror(rc));
        return 2;
    }
    if (url.tls) {
        fprintf(stderr, "publish: rtmps:// needs TLS, which this example leaves out\n");
        return 2;
    }
    char server[300];
    snprintf(server, sizeof server, "%s:%u", url.host, url.port);
    struct conn c = {.server = server};
    if (connect_to(&c, url.host, url.port) < 0) return 1;

    /* The session's memory: the publisher and a 16 KiB reassembly buffer. */
    size_t mem_len = rtmp_publisher_size(16384);
    void *mem = aligned_alloc(rtmp_publisher_align(), (mem_len + rtmp_publisher_align() - 1) / rtmp_publisher_align() * rtmp_publisher_align());
    uint8_t random[RTMP_RANDOM_LEN];
    int urandom = open("/dev/urandom", O_RDONLY);
    if (!mem || urandom < 0 || read(urandom, random, sizeof random) != (ssize_t)sizeof random) {
        fprintf(stderr, "publish: no memory or no /dev/urandom\n");
        return 1;
    }
    close(urandom);
    rc = rtmp_publisher_init(mem, mem_len, url.app, url.stream, url.tc_url, now_us(), random, &c.p);
    if (rc < 0) {
        fail(&c, "start", rtmp_strerror(rc));
        return 1;
    }

    uint64_t deadline = now_us() + 10000000u;
    while (!c.published) {
        if (pump(&c, 100, "publish") < 0) return 1;
        if (now_us() > deadline) {
            fail(&c, "publish", "no answer within 10 s");
            return 1;
        }
    }

    struct rtmp_flv_reader reader;
    rtmp_flv_reader_init(&reader);
    size_t at = 0;
    uint64_t start = 0;
    uint32_t first_ts = 0;
    int have_start = 0;
    for (;;) {
        struct rtmp_flv_item item;
        intptr_t used = rtmp_flv_read(&reader, file + at, file_len - at, &item);
        if (used < 0) {
            fprintf(stderr, "publish: %s: %s\n", argv[1], rtmp_strerror((int)used));
            return 1;
        }
        if (item.kind == RTMP_FLV_NEED_MORE) break; /* the end of the file */
        if (item.kind == RTMP_FLV_TAG) {
            if (!have_start) {
                start = now_us();
                first_ts = item.timestamp;
                have_start = 1;
            }
            /* Real time: wait (serving the connection) until the tag is due. */
            uint64_t due = start + (uint64_t)(item.timestamp - first_ts) * 1000u;
            while (now_us() < due) {
                if (pump(&c, (int)((due - now_us() + 999) / 1000), "send media") < 0) return 1;
            }
            if (pump(&c, 0, "send media") < 0 || send_tag(&c, item.tag_type, item.timestamp, item.data, item.len) < 0) {
                return 1;
            }
        }
        at += (size_t)used;
    }
    c.closing = 1;
    rtmp_publisher_close(c.p);
    if (flush(&c) < 0) return 1;
    shutdown(c.fd, SHUT_WR);
    deadline = now_us() + 2000000u;
    while (!c.closed && now_us() < deadline) {
        if (pump(&c, 100, "close") < 0) break;
    }
    close(c.fd);
    free(mem);
    free(file);
    return 0;
}
