/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fake-qemu: a stand-in for qemu-system-x86_64 in the shim and qemu driver
 * tests, for the faults a real QEMU will not show on demand. It takes a
 * QEMU command line, finds its QMP monitor (-chardev socket,id=ID,fd=N
 * with -mon chardev=ID,mode=control) and speaks enough QMP for the driver.
 * What it does comes from "fake=MODE" in -append's value (or from
 * "-fake MODE"):
 *
 *   normal          greets; qmp_capabilities, query-status, cont, stop,
 *                   system_powerdown (SHUTDOWN guest-shutdown, exit 0; after
 *                   set-action shutdown=pause: STOP and run state "shutdown"
 *                   instead, as QEMU), quit, getfd (checks that a descriptor
 *                   came), system_reset (writes "fake-qemu: system_reset" to
 *                   stderr: the guest's log; RESET; from "shutdown", run
 *                   state "prelaunch"), set-action (writes "fake-qemu:
 *                   set-action shutdown=ACTION")
 *   nogreet         never greets
 *   garbage         greets, then writes a line that is not JSON
 *   noreset         normal, but system_reset fails (GenericError)
 *   hang            answers until cont, then never again
 *   internal-error  after cont: STOP and run state internal-error
 *   crash-after     after cont: running, then 300 ms later internal-error
 *   slowgreet       never greets; exits 0 on SIGTERM (a start still under way)
 *   slowexit        never greets; on SIGTERM exits 0 only 500 ms later (as
 *                   QEMU takes a while to end): a start still under way
 *   greet-on-usr1   greets on SIGUSR1 (then as normal); exits 0 on SIGTERM
 *                   before it (a start under way for as long as a test wants)
 *   exit            writes "fake-qemu: MESSAGE" (MESSAGE from "msg=" in
 *                   -append, '_' for ' ') to stderr, exits 1
 *   migrate-late    migrate (after getfd) fails at once: the descriptor is
 *                   closed, query-migrate says "failed", but for 300 ms the
 *                   run state stays "finish-migrate" and cont is refused
 *                   ("Migration is not finalized yet"), as QEMU does until
 *                   its migration thread hands the guest back; then
 *                   "postmigrate"
 *   migrate-stuck   migrate (after getfd) goes on: "active", 4 KiB written
 *                   into the descriptor, which stays open; migrate_cancel
 *                   makes it "cancelling" and closes the descriptor, and it
 *                   stays so until SIGUSR1 ("cancelled"), as QEMU's does
 *                   while its migration thread winds down; cont works
 *                   meanwhile
 *   deafexit        normal, but at system_powerdown (shutdown action
 *                   poweroff) it first stops reading its monitor, then
 *                   writes the reply, POWERDOWN and SHUTDOWN guest-shutdown
 *                   in one write, and exits 0 once the other end closes
 *                   the monitor: the next command written to it fails
 *                   (EPIPE) after the events arrived, as when QEMU exits
 *                   at a guest's poweroff while a query is on its way
 *   nocont          normal, but once a `stop` paused it, `cont` is refused
 *                   (GenericError), for good: a guest nothing can resume
 *   nostatus        normal, but once a `cont` started it, `query-status` is
 *                   refused (GenericError), for good
 *   plain           no monitor: writes "fake-qemu: up" to stderr and waits
 *                   for SIGTERM
 *   report          no monitor: prints its uid, gid, no_new_privs, effective
 *                   capabilities, seccomp mode and what "/" holds, exits 0
 *
 * SIGTERM: SHUTDOWN host-signal, exit 0 (like QEMU). SIGUSR1: see
 * migrate-stuck; ignored otherwise.
 */
#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int mon = -1;
static char status[32] = "running";
static bool running = true;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf) - 2, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof(buf) - 3)
        n = sizeof(buf) - 3;
    buf[n++] = '\r';
    buf[n++] = '\n';
    (void)!write(mon, buf, (size_t)n);
}

static long long nowMs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void event(const char *name, const char *data)
{
    if (data)
        say("{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"%s\", "
            "\"data\": %s}", name, data);
    else
        say("{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"%s\"}", name);
}

/* The value of "key" in a one-line JSON object: crude, enough for our own. */
static bool field(const char *line, const char *key, char *out, size_t len)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "\"%s\":\"", key);
    const char *p = strstr(line, pat);
    if (!p) {
        snprintf(pat, sizeof(pat), "\"%s\": \"", key);
        if (!(p = strstr(line, pat)))
            return false;
    }
    p += strlen(pat);
    const char *e = strchr(p, '"');
    if (!e || (size_t)(e - p) >= len)
        return false;
    memcpy(out, p, (size_t)(e - p));
    out[e - p] = '\0';
    return true;
}

static void reportSelf(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    printf("uid=%d gid=%d nnp=%d\n", (int)getuid(), (int)getgid(),
           prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, "CapEff:", 7) || !strncmp(line, "CapBnd:", 7) ||
            !strncmp(line, "CapAmb:", 7) || !strncmp(line, "Seccomp:", 8) ||
            !strncmp(line, "Groups:", 7))
            fputs(line, stdout);
    if (f)
        fclose(f);
    DIR *d = opendir("/");
    struct dirent *de;
    printf("root:");
    while (d && (de = readdir(d)))
        if (de->d_name[0] != '.')
            printf(" %s", de->d_name);
    printf("\n");
    if (d)
        closedir(d);
    printf("etc-passwd=%s\n", access("/etc/passwd", F_OK) == 0 ? "yes" : "no");
    fflush(stdout);
}

int main(int argc, char **argv)
{
    char mode[32] = "normal", msg[256] = "something went wrong";
    char monid[64] = "", chardevs[8][128];
    int nchardev = 0;
    sigset_t mask;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-fake") && i + 1 < argc) {
            snprintf(mode, sizeof(mode), "%s", argv[++i]);
        } else if (!strcmp(argv[i], "-append") && i + 1 < argc) {
            const char *a = argv[++i], *p;
            if ((p = strstr(a, "fake=")))
                sscanf(p + 5, "%31[^ ]", mode);
            if ((p = strstr(a, "msg="))) {
                sscanf(p + 4, "%255[^ ]", msg);
                for (char *q = msg; *q; q++)
                    if (*q == '_')
                        *q = ' ';
            }
        } else if (!strcmp(argv[i], "-chardev") && i + 1 < argc && nchardev < 8) {
            snprintf(chardevs[nchardev++], sizeof(chardevs[0]), "%s", argv[++i]);
        } else if (!strcmp(argv[i], "-mon") && i + 1 < argc) {
            sscanf(argv[++i], "chardev=%63[^,]", monid);
        } else if (!strcmp(argv[i], "-S")) {
            snprintf(status, sizeof(status), "prelaunch");
            running = false;
        }
    }
    if (!strcmp(mode, "report")) {
        reportSelf();
        return 0;
    }
    if (!strcmp(mode, "exit")) {
        fprintf(stderr, "fake-qemu: %s\n", msg);
        return 1;
    }
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGUSR1);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
    if (!strcmp(mode, "plain")) {
        struct signalfd_siginfo si;
        fprintf(stderr, "fake-qemu: up\n");
        (void)!read(sfd, &si, sizeof(si));
        return 0;
    }
    for (int i = 0; i < nchardev && monid[0]; i++) {
        char id[64];
        int fd;
        const char *p = strstr(chardevs[i], "id=");
        const char *f = strstr(chardevs[i], "fd=");
        if (p && f && sscanf(p + 3, "%63[^,]", id) == 1 && !strcmp(id, monid) &&
            sscanf(f + 3, "%d", &fd) == 1)
            mon = fd;
    }
    if (mon < 0) {
        fprintf(stderr, "fake-qemu: no QMP monitor on the command line\n");
        return 1;
    }
    if (!strcmp(mode, "slowgreet") || !strcmp(mode, "slowexit")) {
        struct pollfd sp = { sfd, POLLIN, 0 };
        if (poll(&sp, 1, -1) > 0) {
            if (!strcmp(mode, "slowexit"))
                (void)poll(NULL, 0, 500);
            return 0;   /* SIGTERM while "starting" */
        }
    }
    if (!strcmp(mode, "greet-on-usr1")) {
        struct signalfd_siginfo si = { 0 };
        if (read(sfd, &si, sizeof(si)) != (ssize_t)sizeof(si) || si.ssi_signo != SIGUSR1)
            return 0;   /* SIGTERM while "starting" */
    }
    if (strcmp(mode, "nogreet"))
        say("{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, "
            "\"package\": \"fake\"}, \"capabilities\": [\"oob\"]}}");
    if (!strcmp(mode, "garbage"))
        say("this is not json");

    bool hung = false, crashPending = false, pauseOnShutdown = false, stopped = false;
    bool started = false;
    int migfd = -1;
    long long lateUntil = 0;            /* migrate-late: finish-migrate until then */
    const char *migration = "none";
    char buf[65536];
    size_t len = 0;
    for (;;) {
        struct pollfd pfd[2] = { { mon, POLLIN, 0 }, { sfd, POLLIN, 0 } };
        int pr = poll(pfd, 2, crashPending ? 300 : -1);
        if (pr < 0 && errno != EINTR)
            return 2;
        if (pr == 0 && crashPending) {
            crashPending = false;
            snprintf(status, sizeof(status), "internal-error");
            running = false;
            event("STOP", NULL);
            continue;
        }
        if (pfd[1].revents) {
            struct signalfd_siginfo si = { 0 };
            if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si) && si.ssi_signo == SIGUSR1) {
                if (!strcmp(migration, "cancelling"))
                    migration = "cancelled";
                continue;
            }
            event("SHUTDOWN", "{\"guest\": false, \"reason\": \"host-signal\"}");
            return 0;
        }
        if (!pfd[0].revents)
            continue;
        char cbuf[CMSG_SPACE(sizeof(int) * 8)];
        struct iovec iov = { buf + len, sizeof(buf) - len - 1 };
        struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
                            .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
        ssize_t n = recvmsg(mon, &m, MSG_CMSG_CLOEXEC);
        int gotfd = -1;
        for (struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&m) : NULL; c; c = CMSG_NXTHDR(&m, c))
            if (c->cmsg_type == SCM_RIGHTS)
                memcpy(&gotfd, CMSG_DATA(c), sizeof(int));
        if (n <= 0)
            return 0;
        len += (size_t)n;
        buf[len] = '\0';
        char *nl;
        while ((nl = strchr(buf, '\n'))) {
            char line[4096], cmd[64] = "", id[64] = "";
            size_t ll = (size_t)(nl - buf);
            snprintf(line, sizeof(line), "%.*s", (int)(ll < sizeof(line) - 1 ? ll : sizeof(line) - 1), buf);
            memmove(buf, nl + 1, len - ll - 1);
            len -= ll + 1;
            buf[len] = '\0';
            if (hung)
                continue;
            field(line, "execute", cmd, sizeof(cmd));
            field(line, "id", id, sizeof(id));
#define RET(fmt, ...) say("{\"return\": " fmt ", \"id\": \"%s\"}", ##__VA_ARGS__, id)
            if (lateUntil && nowMs() >= lateUntil) {
                lateUntil = 0;
                snprintf(status, sizeof(status), "postmigrate");
            }
            if (!strcmp(cmd, "qmp_capabilities")) {
                RET("{}");
            } else if (!strcmp(cmd, "migrate_cancel") && !strcmp(migration, "active")) {
                close(migfd);
                migfd = -1;
                migration = "cancelling";
                RET("{}");
            } else if (!strcmp(cmd, "migrate-set-parameters") || !strcmp(cmd, "migrate_cancel")) {
                RET("{}");
            } else if (!strcmp(cmd, "migrate") && !strcmp(mode, "migrate-stuck") && migfd >= 0) {
                static const char page[4096];
                (void)!write(migfd, page, sizeof(page));
                migration = "active";
                RET("{}");
            } else if (!strcmp(cmd, "migrate") && !strcmp(mode, "migrate-late") && migfd >= 0) {
                close(migfd);
                migfd = -1;
                snprintf(status, sizeof(status), "finish-migrate");
                running = false;
                lateUntil = nowMs() + 300;
                migration = "failed";
                RET("{}");
                event("MIGRATION", "{\"status\": \"failed\"}");
            } else if (!strcmp(cmd, "query-migrate")) {
                RET("{\"status\": \"%s\"}", migration);
            } else if (!strcmp(cmd, "cont") && !strcmp(mode, "nocont") && stopped) {
                say("{\"error\": {\"class\": \"GenericError\", \"desc\": \"cannot resume "
                    "(fake)\"}, \"id\": \"%s\"}", id);
            } else if (!strcmp(cmd, "cont") && lateUntil) {
                say("{\"error\": {\"class\": \"GenericError\", \"desc\": \"Migration is "
                    "not finalized yet\"}, \"id\": \"%s\"}", id);
            } else if (!strcmp(cmd, "query-status") && !strcmp(mode, "nostatus") && started) {
                say("{\"error\": {\"class\": \"GenericError\", \"desc\": \"cannot tell "
                    "(fake)\"}, \"id\": \"%s\"}", id);
            } else if (!strcmp(cmd, "query-status")) {
                RET("{\"status\": \"%s\", \"singlestep\": false, \"running\": %s}", status,
                    running ? "true" : "false");
            } else if (!strcmp(cmd, "cont")) {
                started = true;
                RET("{}");
                if (!strcmp(mode, "internal-error")) {
                    snprintf(status, sizeof(status), "internal-error");
                    running = false;
                    event("STOP", NULL);
                } else {
                    snprintf(status, sizeof(status), "running");
                    running = true;
                    event("RESUME", NULL);
                }
                if (!strcmp(mode, "hang"))
                    hung = true;
                if (!strcmp(mode, "crash-after"))
                    crashPending = true;
            } else if (!strcmp(cmd, "stop")) {
                stopped = true;
                snprintf(status, sizeof(status), "paused");
                running = false;
                RET("{}");
                event("STOP", NULL);
            } else if (!strcmp(cmd, "system_powerdown") && !strcmp(mode, "deafexit") &&
                       !pauseOnShutdown) {
                char out[512];
                int k = snprintf(out, sizeof(out),
                                 "{\"return\": {}, \"id\": \"%s\"}\r\n"
                                 "{\"event\": \"POWERDOWN\", \"timestamp\": {\"seconds\": 0, "
                                 "\"microseconds\": 0}}\r\n"
                                 "{\"event\": \"SHUTDOWN\", \"data\": {\"guest\": true, "
                                 "\"reason\": \"guest-shutdown\"}, \"timestamp\": "
                                 "{\"seconds\": 0, \"microseconds\": 0}}\r\n", id);
                (void)shutdown(mon, SHUT_RD);
                (void)!write(mon, out, (size_t)k);
                /* Until the other end closes (or SIGTERM, as always). */
                struct pollfd hp[2] = { { mon, 0, 0 }, { sfd, POLLIN, 0 } };
                while (poll(hp, 2, -1) < 0 && errno == EINTR)
                    ;
                return 0;
            } else if (!strcmp(cmd, "system_powerdown")) {
                RET("{}");
                event("POWERDOWN", NULL);
                event("SHUTDOWN", "{\"guest\": true, \"reason\": \"guest-shutdown\"}");
                if (!pauseOnShutdown)
                    return 0;
                snprintf(status, sizeof(status), "shutdown");
                running = false;
                event("STOP", NULL);
            } else if (!strcmp(cmd, "set-action")) {
                char action[32] = "";
                if (field(line, "shutdown", action, sizeof(action))) {
                    pauseOnShutdown = !strcmp(action, "pause");
                    fprintf(stderr, "fake-qemu: set-action shutdown=%s\n", action);
                }
                RET("{}");
            } else if (!strcmp(cmd, "system_reset") && !strcmp(mode, "noreset")) {
                say("{\"error\": {\"class\": \"GenericError\", \"desc\": \"cannot reset "
                    "(fake)\"}, \"id\": \"%s\"}", id);
            } else if (!strcmp(cmd, "system_reset")) {
                fprintf(stderr, "fake-qemu: system_reset\n");   /* in the guest's log */
                if (!strcmp(status, "shutdown"))
                    snprintf(status, sizeof(status), "prelaunch");
                RET("{}");
                event("RESET", "{\"guest\": false, \"reason\": \"host-qmp-system-reset\"}");
            } else if (!strcmp(cmd, "quit")) {
                event("SHUTDOWN", "{\"guest\": false, \"reason\": \"host-qmp-quit\"}");
                RET("{}");
                return 0;
            } else if (!strcmp(cmd, "getfd")) {
                if (gotfd >= 0) {
                    if (migfd >= 0)
                        close(migfd);
                    migfd = gotfd;
                    RET("{}");
                }
                else
                    say("{\"error\": {\"class\": \"GenericError\", \"desc\": \"No file "
                        "descriptor supplied via SCM_RIGHTS\"}, \"id\": \"%s\"}", id);
                gotfd = -1;
            } else {
                say("{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command %s "
                    "has not been found\"}, \"id\": \"%s\"}", cmd, id);
            }
#undef RET
        }
    }
}
