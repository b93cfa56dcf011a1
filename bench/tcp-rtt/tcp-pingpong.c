// TCP traffic for the tcp-rtt bench. `server <addr> <port>`: serves one connection at a time, echoing it (first byte
// 'e') or reading it to the end ('s'). Clients join a cgroup first, so their sockets are that cgroup's:
// `rr <cgroup> <addr> <port> <n> <size>` prints ns per request/response round trip;
// `stream <cgroup> <addr> <port> <ms>` writes for ms milliseconds and prints ns per segment sent, then segments.
#include <arpa/inet.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int fail(const char *what)
{
  perror(what);
  return 1;
}

static int write_all(int fd, const char *buf, size_t len)
{
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n <= 0)
      return -1;
    buf += n;
    len -= n;
  }
  return 0;
}

static int read_exactly(int fd, char *buf, size_t len)
{
  while (len > 0) {
    ssize_t n = read(fd, buf, len);
    if (n <= 0)
      return -1;
    buf += n;
    len -= n;
  }
  return 0;
}

static struct sockaddr_in address(const char *host, const char *port)
{
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(port)) };
  inet_pton(AF_INET, host, &a.sin_addr);
  return a;
}

static int serve(const char *host, const char *port)
{
  struct sockaddr_in a = address(host, port);
  int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
  static char buf[1 << 16];

  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 8))
    return fail("listen");
  printf("ready\n");
  fflush(stdout);
  for (;;) {
    int c = accept(fd, NULL, NULL);
    char mode;
    ssize_t n;

    if (c < 0)
      return fail("accept");
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (read(c, &mode, 1) == 1)
      while ((n = read(c, buf, sizeof(buf))) > 0)
        if (mode == 'e' && write_all(c, buf, n))
          break;
    close(c);
  }
}

/** Joins the cgroup, then connects and announces the mode. */
static int dial(const char *cgroup, const char *host, const char *port, char mode)
{
  char procs[4096];
  struct sockaddr_in a = address(host, port);
  int one = 1, fd;
  FILE *f;

  snprintf(procs, sizeof(procs), "%s/cgroup.procs", cgroup);
  f = fopen(procs, "w");
  if (!f || fprintf(f, "%d\n", getpid()) < 0 || fclose(f) != 0)
    return fail("cgroup.procs"), -1;
  fd = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (connect(fd, (struct sockaddr *)&a, sizeof(a)) || write_all(fd, &mode, 1))
    return fail("connect"), -1;
  return fd;
}

static int round_trips(int fd, long n, size_t size)
{
  char buf[4096];
  double start = 0;

  if (size > sizeof(buf))
    return 2;
  memset(buf, 'x', size);
  /* A few untimed round trips first: the connection's RTT estimate and cwnd settle. */
  for (long i = -100; i < n; i++) {
    if (i == 0)
      start = now_ns();
    if (write_all(fd, buf, size) || read_exactly(fd, buf, size))
      return fail("round trip");
  }
  printf("%.1f\n", (now_ns() - start) / n);
  return 0;
}

static int stream(int fd, double ms)
{
  static char buf[1 << 16];
  struct tcp_info info;
  socklen_t len = sizeof(info);
  double start = now_ns(), end = start + ms * 1e6;

  memset(buf, 'x', sizeof(buf));
  while (now_ns() < end)
    if (write_all(fd, buf, sizeof(buf)))
      return fail("write");
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) || info.tcpi_segs_out == 0)
    return fail("TCP_INFO");
  printf("%.1f %u\n", (now_ns() - start) / info.tcpi_segs_out, info.tcpi_segs_out);
  return 0;
}

int main(int argc, char **argv)
{
  int fd;

  if (argc == 4 && !strcmp(argv[1], "server"))
    return serve(argv[2], argv[3]);
  if (argc == 7 && !strcmp(argv[1], "rr")) {
    if ((fd = dial(argv[2], argv[3], argv[4], 'e')) < 0)
      return 1;
    return round_trips(fd, atol(argv[5]), atol(argv[6]));
  }
  if (argc == 6 && !strcmp(argv[1], "stream")) {
    if ((fd = dial(argv[2], argv[3], argv[4], 's')) < 0)
      return 1;
    return stream(fd, atof(argv[5]));
  }
  fprintf(stderr, "usage: tcp-pingpong server <addr> <port> | rr <cgroup> <addr> <port> <n> <size> |"
                  " stream <cgroup> <addr> <port> <ms>\n");
  return 2;
}
