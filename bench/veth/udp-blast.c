// Sends one UDP payload to host:port as fast as sendmmsg allows for a number of milliseconds; prints the count.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

static double now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
  if (argc != 5) {
    fprintf(stderr, "usage: udp-blast <host> <port> <payload hex> <ms>\n");
    return 2;
  }
  unsigned char payload[2048];
  size_t len = strlen(argv[3]) / 2;
  if (len > sizeof(payload))
    return 2;
  for (size_t i = 0; i < len; i++)
    sscanf(argv[3] + 2 * i, "%2hhx", &payload[i]);
  struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[2])) };
  inet_pton(AF_INET, argv[1], &to.sin_addr);
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0) {
    perror("socket");
    return 1;
  }
  struct iovec iov = { .iov_base = payload, .iov_len = len };
  struct mmsghdr msgs[BATCH];
  memset(msgs, 0, sizeof(msgs));
  for (int i = 0; i < BATCH; i++) {
    msgs[i].msg_hdr.msg_iov = &iov;
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  double end = now_ms() + atof(argv[4]);
  unsigned long long sent = 0;
  while (now_ms() < end) {
    int n = sendmmsg(fd, msgs, BATCH, 0);
    if (n > 0)
      sent += n;
  }
  printf("%llu\n", sent);
  return 0;
}
