/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pause-tree: the baseline of the idle benchmark (bench/idle-bench.c): a
 * plain parent with N forked children that sit in pause(), watched the
 * cheapest way (epoll over their pidfds, no timer).
 *
 *   pause-tree N
 *
 * Prints the children's pids, one a line, then "ready" once all run, and
 * waits. When its standard input closes it kills the children, reaps them
 * and exits 0.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long n = argc == 2 ? strtol(argv[1], NULL, 10) : -1;
    if (n < 1 || n > 100000) {
        fprintf(stderr, "usage: pause-tree N (1..100000)\n");
        return 2;
    }
    pid_t *pids = calloc((size_t)n, sizeof(*pids));
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (!pids || ep < 0)
        return 1;
    pid_t self = getpid();
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != self)
                _exit(0);
            for (;;)
                pause();
        }
        if (pid < 0) {
            perror("pause-tree: fork");
            break;
        }
        pids[i] = pid;
        /* pidfds are always close-on-exec. */
        int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
        struct epoll_event ev = { .events = EPOLLIN, .data.fd = pfd };
        if (pfd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, pfd, &ev) < 0) {
            perror("pause-tree: pidfd");
            break;
        }
        printf("%d\n", (int)pid);
    }
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = 0 };
    epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);
    printf("ready\n");
    fflush(stdout);
    for (;;) {
        struct epoll_event evs[8];
        int k = epoll_wait(ep, evs, 8, -1);
        int done = 0;
        for (int i = 0; i < k; i++) {
            if (evs[i].data.fd == 0) {
                done = 1;
            } else {
                /* A child died (killed from outside): stop watching it. */
                epoll_ctl(ep, EPOLL_CTL_DEL, evs[i].data.fd, NULL);
                close(evs[i].data.fd);
            }
        }
        if (done || (k < 0 && errno != EINTR))
            break;
    }
    for (long i = 0; i < n; i++)
        if (pids[i] > 0)
            kill(pids[i], SIGKILL);
    while (wait(NULL) > 0)
        ;
    free(pids);
    return 0;
}
