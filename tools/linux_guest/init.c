/* init.c - /init of the Linux guest that `flash.py bench` measures beside
 * Nagi (tools/linux_guest.py builds it with `gcc -static` into an
 * initramfs with the Debian kernel's e1000.ko). It is the whole userland:
 *   - loads /e1000.ko (finit_module), brings up lo and eth0 with the
 *     address given on the kernel command line (nagi.ip=A.B.C.D, /24);
 *   - serves what Nagi's httpd serves, byte for byte where it matters:
 *       GET /hello.txt  the same HELLO bytes
 *       GET /big        4 MiB, byte i = i % 251
 *       GET /           a short status line
 *     HTTP/1.1 keep-alive (HTTP/1.0 and `Connection: close` close), HEAD,
 *     404 other paths, 405 other methods, one poll() loop, no fork;
 *   - a TCP discard sink on port 9 (RFC 863): reads and drops until EOF,
 *     then closes (the bench's receive figure);
 *   - prints "linux-guest: ready" on the console when both listen.
 * Static and self-contained on purpose: no busybox, no shell, nothing else
 * runs, so the instruction counts are the kernel's and this loop's. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BIG (4u << 20)
#define REQUEST_MAX 2048
#define CONNS 16
static const char HELLO[] = "Hello from Nagi!\nThis file is served by httpd, a user task, "
                            "through net (smoltcp) and the e1000 driver.\n";
static char big[BIG];

static void say(const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    (void)!write(1, line, n > 0 && n < (int)sizeof line ? (size_t)n : strlen(line));
}

static void die(const char *what)
{
    say("linux-guest: %s: %s\n", what, strerror(errno));
    for (;;)
        pause();
}

static void load_e1000(void)
{
    int fd = open("/e1000.ko", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        die("open /e1000.ko");
    if (syscall(SYS_finit_module, fd, "", 0) != 0 && errno != EEXIST)
        die("finit_module e1000");
    close(fd);
}

static void if_up(int s, const char *name, const char *ip)
{
    struct ifreq r;
    for (int tries = 0;; tries++) {
        memset(&r, 0, sizeof r);
        strncpy(r.ifr_name, name, IFNAMSIZ - 1);
        if (ioctl(s, SIOCGIFFLAGS, &r) == 0)
            break;
        if (tries > 500)
            die(name);
        usleep(10000);      /* the driver probes asynchronously */
    }
    if (ip) {
        struct sockaddr_in *a = (struct sockaddr_in *)&r.ifr_addr;
        memset(a, 0, sizeof *a);
        a->sin_family = AF_INET;
        inet_pton(AF_INET, ip, &a->sin_addr);
        if (ioctl(s, SIOCSIFADDR, &r) != 0)
            die("SIOCSIFADDR");
        inet_pton(AF_INET, "255.255.255.0", &a->sin_addr);
        if (ioctl(s, SIOCSIFNETMASK, &r) != 0)
            die("SIOCSIFNETMASK");
        ioctl(s, SIOCGIFFLAGS, &r);
    }
    r.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(s, SIOCSIFFLAGS, &r) != 0)
        die("SIOCSIFFLAGS");
}

static int listen_on(int port)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 32))
        die("listen");
    return s;
}

struct conn {
    int fd;
    int discard;            /* a port-9 sink */
    char in[REQUEST_MAX];
    size_t len;
    char head[256];
    size_t head_len, head_sent;
    const char *body;
    size_t body_len, body_sent;
    int close_after;
};
static struct conn conns[CONNS];
static int nconns;

static const char *reason(int s)
{
    return s == 200 ? "OK" : s == 404 ? "Not Found" : s == 405 ? "Method Not Allowed" : "Bad Request";
}

static char status_page[128];

/* Answer the request at the head of c->in if it is whole: 1 if answered. */
static int answer(struct conn *c)
{
    char *end = memmem(c->in, c->len, "\r\n\r\n", 4);
    if (!end) {
        if (c->len == sizeof c->in) {
            c->len = 0;
            c->close_after = 1;
            c->head_len = (size_t)snprintf(c->head, sizeof c->head,
                "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            c->head_sent = 0, c->body_len = c->body_sent = 0;
            return 1;
        }
        return 0;
    }
    size_t used = (size_t)(end - c->in) + 4;
    char *sp1 = memchr(c->in, ' ', used), *sp2 = sp1 ? memchr(sp1 + 1, ' ', used - (size_t)(sp1 + 1 - c->in)) : NULL;
    int status = 400, keep = 0, head_only = 0;
    const char *ctype = "text/plain", *body = "";
    size_t body_len = 0;
    if (sp1 && sp2) {
        int get = sp1 - c->in == 3 && !memcmp(c->in, "GET", 3);
        head_only = sp1 - c->in == 4 && !memcmp(c->in, "HEAD", 4);
        keep = !memcmp(sp2 + 1, "HTTP/1.1", 8);
        char *q = memmem(c->in, used, "\nConnection:", 12);
        if (!q)
            q = memmem(c->in, used, "\nconnection:", 12);
        if (q) {
            q += 12;
            while (*q == ' ')
                q++;
            if (!strncasecmp(q, "close", 5))
                keep = 0;
            else if (!strncasecmp(q, "keep-alive", 10))
                keep = 1;
        }
        size_t plen = (size_t)(sp2 - sp1 - 1);
        const char *path = sp1 + 1;
        if (!get && !head_only)
            status = 405;
        else if (plen == 10 && !memcmp(path, "/hello.txt", 10))
            status = 200, body = HELLO, body_len = sizeof HELLO - 1;
        else if (plen == 4 && !memcmp(path, "/big", 4))
            status = 200, body = big, body_len = BIG, ctype = "application/octet-stream";
        else if (plen == 1 && path[0] == '/')
            status = 200, body = status_page, body_len = strlen(status_page),
            ctype = "text/plain; charset=utf-8";
        else
            status = 404;
    }
    if (status != 200) {
        static char err[32];
        body_len = (size_t)snprintf(err, sizeof err, "%d %s\n", status, reason(status));
        body = err;
        if (status == 400)
            keep = 0;
    }
    c->head_len = (size_t)snprintf(c->head, sizeof c->head,
        "HTTP/1.1 %d %s\r\nServer: linux-guest\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
        "Connection: %s\r\n%s\r\n", status, reason(status), ctype, body_len,
        keep ? "keep-alive" : "close", status == 405 ? "Allow: GET, HEAD\r\n" : "");
    c->head_sent = 0;
    c->body = body;
    c->body_len = head_only ? 0 : body_len;
    c->body_sent = 0;
    c->close_after = !keep;
    memmove(c->in, c->in + used, c->len - used);
    c->len -= used;
    return 1;
}

/* One round of work on c: 0 keep it, -1 close it. */
static int step(struct conn *c)
{
    static char sink[65536];
    if (c->discard) {
        for (;;) {
            ssize_t n = read(c->fd, sink, sizeof sink);
            if (n > 0)
                continue;
            return n == 0 || errno != EAGAIN ? -1 : 0;
        }
    }
    for (;;) {
        /* Head and body in one writev, as httpd sends a small page in one go. */
        while (c->head_sent < c->head_len || c->body_sent < c->body_len) {
            struct iovec v[2] = {
                { c->head + c->head_sent, c->head_len - c->head_sent },
                { (char *)c->body + c->body_sent, c->body_len - c->body_sent },
            };
            ssize_t n = writev(c->fd, v, 2);
            if (n < 0)
                return errno == EAGAIN ? 0 : -1;
            size_t h = (size_t)n < v[0].iov_len ? (size_t)n : v[0].iov_len;
            c->head_sent += h;
            c->body_sent += (size_t)n - h;
        }
        if (c->head_len) {
            c->head_len = c->body_len = 0;
            if (c->close_after)
                return -1;
        }
        if (answer(c))
            continue;
        ssize_t n = read(c->fd, c->in + c->len, sizeof c->in - c->len);
        if (n == 0)
            return -1;
        if (n < 0)
            return errno == EAGAIN ? 0 : -1;
        c->len += (size_t)n;
    }
}

static const char *cmdline_ip(void)
{
    static char buf[1024];
    static char ip[32] = "10.0.2.15";
    int fd = open("/proc/cmdline", O_RDONLY);
    if (fd >= 0) {
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        buf[n > 0 ? n : 0] = 0;
        char *p = strstr(buf, "nagi.ip=");
        if (p)
            sscanf(p + 8, "%31[0-9.]", ip);
    }
    return ip;
}

int main(void)
{
    mkdir("/proc", 0555);
    mount("proc", "/proc", "proc", 0, NULL);
    for (size_t i = 0; i < BIG; i++)
        big[i] = (char)(i % 251);
    const char *ip = cmdline_ip();
    snprintf(status_page, sizeof status_page, "Linux guest (static /init), %s\n", ip);
    load_e1000();
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if_up(s, "lo", NULL);
    if_up(s, "eth0", ip);
    close(s);
    int http = listen_on(80), sink = listen_on(9);
    say("linux-guest: ready %s\n", ip);
    struct pollfd p[CONNS + 2];
    for (;;) {
        p[0] = (struct pollfd){ .fd = http, .events = nconns < CONNS ? POLLIN : 0 };
        p[1] = (struct pollfd){ .fd = sink, .events = nconns < CONNS ? POLLIN : 0 };
        for (int i = 0; i < nconns; i++) {
            struct conn *c = &conns[i];
            int out = c->head_sent < c->head_len || c->body_sent < c->body_len;
            p[i + 2] = (struct pollfd){ .fd = c->fd, .events = out ? POLLOUT : POLLIN };
        }
        if (poll(p, (nfds_t)nconns + 2, -1) < 0)
            continue;
        for (int i = nconns - 1; i >= 0; i--) {
            if (!p[i + 2].revents)
                continue;
            if (step(&conns[i]) < 0) {
                close(conns[i].fd);
                conns[i] = conns[--nconns];
            }
        }
        for (int l = 0; l < 2; l++) {
            if (!(p[l].revents & POLLIN))
                continue;
            while (nconns < CONNS) {
                int fd = accept4(p[l].fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0)
                    break;
                int one = 1;
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                struct conn *c = &conns[nconns++];
                memset(c, 0, offsetof(struct conn, in));
                c->fd = fd;
                c->discard = l == 1;
                c->len = c->head_len = c->head_sent = c->body_len = c->body_sent = 0;
                c->close_after = 0;
            }
        }
    }
}
