/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nettest.h: the network namespace every network test runs in. A test
 * calls netTestEnterNamespace() first thing in main(), before it opens a
 * connection or starts a thread: the process then has a private network
 * namespace (and its workers, its spawn helper and any dnsmasq inherit
 * it), so it creates and addresses only what is inside it. The host's
 * links, routes and firewall are never touched. When the last process in
 * it exits, the kernel removes everything left in it.
 *
 * Not root, or no namespaces: exit 77 with the reason.
 */
#pragma once

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/virnetlink.h"

/* The network namespace of @path's process, as its inode. */
static inline unsigned long long netTestNsInode(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (unsigned long long)st.st_ino : 0;
}

static inline void netTestEnterNamespace(void)
{
    unsigned long long before = netTestNsInode("/proc/self/ns/net");

    if (geteuid() != 0) {
        printf("skipped: network tests need root, to create bridges in a private "
               "network namespace\n");
        exit(77);
    }
    if (unshare(CLONE_NEWNET) < 0) {
        printf("skipped: cannot create a private network namespace: %s\n", strerror(errno));
        exit(77);
    }
    /* Never go on in the host's namespace. */
    if (!before || netTestNsInode("/proc/self/ns/net") == before) {
        printf("error: still in the original network namespace after unshare\n");
        exit(1);
    }
    /* Loopback up, as any namespace has it in practice. */
    virNetlinkSock *nl = virNetlinkOpen();
    virNetlinkLink lo;
    if (!nl || virNetlinkLinkGet(nl, "lo", &lo) != 1 ||
        virNetlinkLinkSetUp(nl, lo.ifindex, "lo", true) < 0) {
        printf("error: cannot set loopback up in the test's network namespace\n");
        exit(1);
    }
    virNetlinkClose(nl);
}

/* The main of a test that runs dnsmasq (cmocka included first): enter
 * the namespace, skip without dnsmasq, run @tests with a private run
 * directory for the supervisor. */
#define NET_TEST_MAIN_DNSMASQ(tests, setup, teardown) \
    do { \
        netTestEnterNamespace(); \
        if (access("/usr/sbin/dnsmasq", X_OK) != 0 || !getpwnam("dnsmasq")) { \
            printf("skipped: dnsmasq (dnsmasq-base) is not installed\n"); \
            return 77; \
        } \
        char *rundir_ = testMakeRunDir(); \
        int rc_ = cmocka_run_group_tests(tests, setup, teardown); \
        testRemoveDir(rundir_); \
        free(rundir_); \
        return rc_; \
    } while (0)

/* Run a shell command in this namespace; its exit status. */
static inline int netTestSh(const char *cmd)
{
    int rc = system(cmd);
    return rc == -1 ? -1 : WEXITSTATUS(rc);
}
