// Joins a cgroup, then connect()s one UDP socket to host:port n times; prints ns per connect (sock_addr hook cost).
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
  if (argc != 5) {
    fprintf(stderr, "usage: udp-connect-loop <cgroup dir> <host> <port> <n>\n");
    return 2;
  }
  char procs[4096];
  snprintf(procs, sizeof(procs), "%s/cgroup.procs", argv[1]);
  FILE *f = fopen(procs, "w");
  if (!f || fprintf(f, "%d\n", getpid()) < 0 || fclose(f) != 0) {
    perror("cgroup.procs");
    return 1;
  }
  struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[3])) };
  inet_pton(AF_INET, argv[2], &to.sin_addr);
  long n = atol(argv[4]);
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; i++) {
    if (connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0) {
      perror("connect");
      return 1;
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("%.1f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
  return 0;
}
