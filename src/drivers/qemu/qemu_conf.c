/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu_conf.c: the qemu driver's configuration, files and XML output
 * (see qemu_conf.h). Everything here runs in the library with the caller's
 * authority; nothing reads XML.
 */
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "driver.h"
#include "drivers/qemu/qemu_conf.h"
#include "util/viralloc.h"
#include "util/virstring.h"
#include "util/virxmlkeep.h"

#define VIR_FROM_THIS VIR_FROM_QEMU
#include "util/virerror.h"

/* ---- directories ---- */

int qemuMakeDirs(const char *path, mode_t mode)
{
    char buf[PATH_MAX];

    if (strlen(path) >= sizeof(buf)) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "path too long: %.80s...", path);
        return -1;
    }
    strcpy(buf, path);
    for (char *p = buf + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, mode) < 0 && errno != EEXIST) {
                virReportSystemError(errno, "cannot create the directory %s", buf);
                return -1;
            }
            *p = c;
            if (!c)
                break;
        }
    }
    return 0;
}

int qemuRemoveDir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int dfd, rc = 0;

    if (!d)
        return errno == ENOENT ? 0 : -1;
    dfd = dirfd(d);
    while ((e = readdir(d))) {
        if (STREQ(e->d_name, ".") || STREQ(e->d_name, ".."))
            continue;
        if (unlinkat(dfd, e->d_name, 0) < 0 && errno != ENOENT)
            rc = -1;
    }
    closedir(d);
    if (rmdir(dir) < 0 && errno != ENOENT)
        rc = -1;
    return rc;
}

/* ---- configuration ---- */

bool qemuKVMUsable(char *why, size_t len)
{
    FILE *f;
    char line[4096];
    bool hw = false;
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

    if (fd < 0) {
        snprintf(why, len, "/dev/kvm cannot be opened (%s)", strerror(errno));
        return false;
    }
    close(fd);
    /* KVM without the CPU's virtualisation extensions (a software nested
     * module such as kvm_pvm) starts QEMU but cannot run a Linux guest. */
    if ((f = fopen("/proc/cpuinfo", "re"))) {
        while (!hw && fgets(line, sizeof(line), f))
            if (!strncmp(line, "flags", 5) && (strstr(line, " vmx") || strstr(line, " svm")))
                hw = true;
        fclose(f);
    }
    if (!hw) {
        snprintf(why, len, "the CPU has no virtualisation extensions (no vmx or svm flag): "
                 "/dev/kvm here is emulated and cannot run a Linux guest");
        return false;
    }
    return true;
}

static int findInPath(const char *prog, char *out, size_t len)
{
    const char *path = getenv("PATH");
    char buf[PATH_MAX];

    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        const char *colon = strchr(path, ':');
        size_t n = colon ? (size_t)(colon - path) : strlen(path);
        if (n && path[0] == '/' && n + strlen(prog) + 2 <= sizeof(buf)) {
            snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, prog);
            if (access(buf, X_OK) == 0) {
                virStrcpyTrunc(out, len, buf);
                return 0;
            }
        }
        path += n + (colon ? 1 : 0);
    }
    return -1;
}

static int resolveIds(qemuConfig *cfg, const qemuURIParams *params)
{
    struct passwd pw, *pres = NULL;
    struct group gr, *gres = NULL;
    char buf[16384];
    const char *user = params->user;

    /* Who QEMU runs as depends on who we are, not on the URI: root's
     * session too drops to QEMU's own user (never root). */
    if (geteuid() != 0) {
        if (params->user || params->group) {
            virReportError(VIR_ERR_OPERATION_DENIED, "%s", "URI parameters user= and group= "
                           "need root: an unprivileged session runs QEMU as its own user");
            return -1;
        }
        return 0;
    }
    if (!user) {
        /* A user of its own if the host has one, else nobody: never root. */
        user = getpwnam_r("virtsup-qemu", &pw, buf, sizeof(buf), &pres) == 0 && pres ?
               "virtsup-qemu" : "nobody";
    }
    if (getpwnam_r(user, &pw, buf, sizeof(buf), &pres) != 0 || !pres) {
        virReportError(VIR_ERR_INVALID_ARG, "invalid URI parameter user='%s': no such user", user);
        return -1;
    }
    if (pw.pw_uid == 0) {
        virReportError(VIR_ERR_INVALID_ARG, "invalid URI parameter user='%s': QEMU never runs "
                       "as root", user);
        return -1;
    }
    cfg->setIds = true;
    cfg->uid = pw.pw_uid;
    cfg->gid = pw.pw_gid;
    if (params->group) {
        if (getgrnam_r(params->group, &gr, buf, sizeof(buf), &gres) != 0 || !gres) {
            virReportError(VIR_ERR_INVALID_ARG, "invalid URI parameter group='%s': no such "
                           "group", params->group);
            return -1;
        }
        if (gr.gr_gid == 0) {
            virReportError(VIR_ERR_INVALID_ARG, "invalid URI parameter group='%s': QEMU never "
                           "runs with group root", params->group);
            return -1;
        }
        cfg->gid = gr.gr_gid;
    }
    return 0;
}

static int xdgDir(const char *var, const char *fallback, char *out, size_t len,
                  const char *suffix)
{
    const char *v = getenv(var);
    const char *home = getenv("HOME");
    int n;

    if (v && v[0] == '/')
        n = snprintf(out, len, "%s/%s", v, suffix);
    else if (home && home[0] == '/')
        n = snprintf(out, len, "%s/%s/%s", home, fallback, suffix);
    else
        n = -1;
    if (n >= 0 && (size_t)n >= len) {
        virReportError(VIR_ERR_OPERATION_FAILED, "the session's directory for %s is longer "
                       "than %zu characters", var, len - 1);
        return -1;
    }
    if (n < 0) {
        virReportError(VIR_ERR_OPERATION_FAILED, "cannot find the session's directories: "
                       "neither %s nor HOME is set", var);
        return -1;
    }
    return 0;
}

int qemuConfigInit(qemuConfig *cfg, const char *path, const qemuURIParams *params)
{
    memset(cfg, 0, sizeof(*cfg));
    if (STREQ(path, "/system")) {
        if (geteuid() != 0) {
            virReportError(VIR_ERR_OPERATION_DENIED, "%s", "qemu:///system needs root "
                           "(use qemu:///session to run guests as yourself)");
            return -1;
        }
        cfg->privileged = true;
    } else if (STRNEQ(path, "/session")) {
        virReportError(VIR_ERR_INVALID_ARG, "invalid URI path '%s': expected qemu:///system "
                       "or qemu:///session", path);
        return -1;
    }
    if (params->root) {
        const char *r = params->root;
        if (r[0] != '/' || strstr(r, "/../") || strlen(r) > 200) {
            virReportError(VIR_ERR_INVALID_ARG, "invalid URI parameter root='%s': expected a "
                           "clean absolute directory of at most 200 characters", r);
            return -1;
        }
        virStrcpyTrunc(cfg->root, sizeof(cfg->root), r);
        snprintf(cfg->domainsDir, sizeof(cfg->domainsDir), "%s/domains", r);
        snprintf(cfg->runDir, sizeof(cfg->runDir), "%s/run", r);
        snprintf(cfg->logDir, sizeof(cfg->logDir), "%s/log", r);
    } else if (cfg->privileged) {
        snprintf(cfg->domainsDir, sizeof(cfg->domainsDir), "/var/lib/virtsup/qemu/domains");
        snprintf(cfg->runDir, sizeof(cfg->runDir), "/run/virtsup/qemu");
        snprintf(cfg->logDir, sizeof(cfg->logDir), "/var/log/virtsup/qemu");
    } else {
        if (xdgDir("XDG_CONFIG_HOME", ".config", cfg->domainsDir, sizeof(cfg->domainsDir),
                   "virtsup/qemu/domains") < 0 ||
            xdgDir("XDG_STATE_HOME", ".local/state", cfg->logDir, sizeof(cfg->logDir),
                   "virtsup/qemu/log") < 0)
            return -1;
        const char *rt = getenv("XDG_RUNTIME_DIR");
        if (rt && rt[0] == '/')
            snprintf(cfg->runDir, sizeof(cfg->runDir), "%s/virtsup/qemu/run", rt);
        else if (xdgDir("XDG_CACHE_HOME", ".cache", cfg->runDir, sizeof(cfg->runDir),
                        "virtsup/qemu/run") < 0)
            return -1;
    }
    if (params->emulator) {
        if (params->emulator[0] != '/' || access(params->emulator, X_OK) < 0) {
            virReportError(VIR_ERR_INVALID_ARG, "invalid URI parameter emulator='%s': not an "
                           "executable absolute path", params->emulator);
            return -1;
        }
        virStrcpyTrunc(cfg->emulator, sizeof(cfg->emulator), params->emulator);
    } else {
        (void)findInPath("qemu-system-x86_64", cfg->emulator, sizeof(cfg->emulator));
    }
    cfg->monitorTimeoutMs = 30000;
    if (params->monitorTimeout) {
        uint64_t v = 0;
        char *end;
        errno = 0;
        v = strtoull(params->monitorTimeout, &end, 10);
        if (errno || *end || v < 10 || v > 3600000) {
            virReportError(VIR_ERR_INVALID_ARG, "invalid URI parameter monitor_timeout='%s': "
                           "expected milliseconds from 10 to 3600000", params->monitorTimeout);
            return -1;
        }
        cfg->monitorTimeoutMs = (unsigned)v;
    }
    cfg->startTimeoutMs = cfg->monitorTimeoutMs > 30000 ? cfg->monitorTimeoutMs : 30000;
    cfg->stopTimeoutMs = 10000;
    cfg->bandwidthBps = params->bandwidthMiB * 1024 * 1024;
    cfg->kvm = qemuKVMUsable(cfg->kvmWhy, sizeof(cfg->kvmWhy));
    if (resolveIds(cfg, params) < 0)
        return -1;
    if (qemuMakeDirs(cfg->domainsDir, 0700) < 0 || qemuMakeDirs(cfg->runDir, 0700) < 0 ||
        qemuMakeDirs(cfg->logDir, 0700) < 0)
        return -1;
    return 0;
}

const char *qemuEmulatorOf(const qemuConfig *cfg, const qemuDomainDef *def)
{
    const char *e = qemuDefStr(def, def->emulator);

    if (e)
        return e;
    if (!cfg->emulator[0]) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED, "%s", "no QEMU: qemu-system-x86_64 is not "
                       "on PATH (install qemu-system-x86, or name one with ?emulator= or "
                       "<emulator>)");
        return NULL;
    }
    return cfg->emulator;
}

/* ---- files ---- */

/* Write @len bytes to DIR/NAME atomically (temp file, fsync, rename,
 * fsync of the directory). */
static int writeAtomic(const char *dir, const char *name, const void *a, size_t alen,
                       const void *b, size_t blen)
{
    char tmp[PATH_MAX], path[PATH_MAX];
    int fd, dfd = -1, rc = -1;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
        virReportSystemError(errno, "cannot write %s", path);
        return -1;
    }
    if ((alen && write(fd, a, alen) != (ssize_t)alen) ||
        (blen && write(fd, b, blen) != (ssize_t)blen) || fsync(fd) < 0) {
        virReportSystemError(errno ? errno : ENOSPC, "cannot write %s", path);
        goto out;
    }
    if (rename(tmp, path) < 0) {
        virReportSystemError(errno, "cannot rename %s into place", path);
        goto out;
    }
    if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0)
        (void)fsync(dfd);
    rc = 0;
 out:
    close(fd);
    if (dfd >= 0)
        close(dfd);
    if (rc < 0)
        (void)unlink(tmp);
    return rc;
}

int qemuDefSave(const qemuConfig *cfg, const qemuDomainDef *def)
{
    char name[QEMU_NAME_MAX + 8];
    qemuLiveInfo inactive = { -1 };
    VIR_AUTOFREE(char *) xml = qemuDomainDefFormat(def, &inactive);

    if (!xml)
        return -1;
    snprintf(name, sizeof(name), "%s.def", def->name);
    if (writeAtomic(cfg->domainsDir, name, def, def->size, NULL, 0) < 0)
        return -1;
    snprintf(name, sizeof(name), "%s.xml", def->name);
    return writeAtomic(cfg->domainsDir, name, xml, strlen(xml), NULL, 0);
}

int qemuDefDelete(const qemuConfig *cfg, const char *name)
{
    char path[PATH_MAX];

    snprintf(path, sizeof(path), "%s/%s.def", cfg->domainsDir, name);
    if (unlink(path) < 0 && errno != ENOENT) {
        virReportSystemError(errno, "cannot remove %s", path);
        return -1;
    }
    snprintf(path, sizeof(path), "%s/%s.xml", cfg->domainsDir, name);
    (void)unlink(path);
    qemuEndedForget(cfg, name);
    return 0;
}

void qemuEndedWrite(const qemuConfig *cfg, const char *name, int reason, int id)
{
    char tmp[PATH_MAX], path[PATH_MAX], text[32];
    /* "REASON ID": the ID tells a connection that lags which run ended. */
    int fd, n = snprintf(text, sizeof(text), "%d %d\n", reason, id);

    /* A name of its own per writer: two connections may record one end
     * at once. */
    snprintf(path, sizeof(path), "%s/%s.ended", cfg->domainsDir, name);
    snprintf(tmp, sizeof(tmp), "%s/.%s.ended.%d.%d", cfg->domainsDir, name, (int)getpid(),
             (int)gettid());
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
        return;
    bool ok = write(fd, text, (size_t)n) == n;
    close(fd);
    if (!ok || rename(tmp, path) < 0)
        (void)unlink(tmp);
}

int qemuEndedRead(const qemuConfig *cfg, const char *name, int *id)
{
    char path[PATH_MAX], text[32] = "";
    int fd, reason = -1, runId = -1;

    if (id)
        *id = -1;
    snprintf(path, sizeof(path), "%s/%s.ended", cfg->domainsDir, name);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
        return -1;
    ssize_t n = read(fd, text, sizeof(text) - 1);
    close(fd);
    text[n > 0 ? n : 0] = '\0';
    /* An older record holds the reason alone. */
    if (sscanf(text, "%d %d", &reason, &runId) < 1 || reason <= VIR_DOMAIN_SHUTOFF_UNKNOWN ||
        reason > VIR_DOMAIN_SHUTOFF_DAEMON)
        return -1;
    if (id)
        *id = runId >= 0 ? runId : -1;
    return reason;
}

void qemuEndedForget(const qemuConfig *cfg, const char *name)
{
    char path[PATH_MAX];

    snprintf(path, sizeof(path), "%s/%s.ended", cfg->domainsDir, name);
    (void)unlink(path);
}

qemuDomainDef *qemuDefRead(int fd, const char *what)
{
    qemuDomainDef *def;
    size_t got = 0;
    const char *why;

    if (!(def = virAllocN(QEMU_DEF_MAX + 1, 1)))
        return NULL;
    for (;;) {
        ssize_t n = read(fd, (char *)def + got, QEMU_DEF_MAX + 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            virReportSystemError(errno, "cannot read %s", what);
            free(def);
            return NULL;
        }
        if (n == 0 || got + (size_t)n == QEMU_DEF_MAX + 1) {
            got += (size_t)n;
            break;
        }
        got += (size_t)n;
    }
    if (qemuDomainDefCheck(def, got, &why) < 0) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "%s is not a valid definition (%s): written by "
                       "another version of libvirtsup, or damaged", what, why);
        free(def);
        return NULL;
    }
    return def;
}

qemuDomainDef *qemuDefCopy(const qemuDomainDef *def)
{
    qemuDomainDef *c = virAllocN(def->size, 1);
    if (c)
        memcpy(c, def, def->size);
    return c;
}

int qemuDefLoadAll(const qemuConfig *cfg, qemuDomainDef ***defs, int *errors)
{
    DIR *d = opendir(cfg->domainsDir);
    struct dirent *e;
    qemuDomainDef **list = NULL;
    int n = 0;

    *errors = 0;
    if (!d) {
        virReportSystemError(errno, "cannot read the directory %s", cfg->domainsDir);
        return -1;
    }
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        char path[PATH_MAX];
        qemuDomainDef *def, **l;
        int fd;
        if (len < 5 || e->d_name[0] == '.' || STRNEQ(e->d_name + len - 4, ".def"))
            continue;
        snprintf(path, sizeof(path), "%s/%s", cfg->domainsDir, e->d_name);
        if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
            (*errors)++;
            continue;
        }
        def = qemuDefRead(fd, path);
        close(fd);
        if (!def || strlen(def->name) != len - 4 || strncmp(def->name, e->d_name, len - 4)) {
            free(def);
            (*errors)++;
            continue;
        }
        if (!(l = virReallocN(list, (size_t)n + 1, sizeof(*l)))) {
            free(def);
            goto error;
        }
        list = l;
        list[n++] = def;
    }
    closedir(d);
    *defs = list;
    return n;
 error:
    closedir(d);
    for (int i = 0; i < n; i++)
        free(list[i]);
    free(list);
    return -1;
}

/* RUN/NAME/domain.status is replaced the way the shim replaces its state
 * file (docs/SHIM.md, "The state file"): the record is written in place
 * into a spare, ".domain.status.tmp", which then trades places with it
 * (RENAME_EXCHANGE). No write frees a block, so none waits for a discard
 * behind other I/O; the first write (no status yet), and a file system
 * without the exchange, get a plain rename. Not flushed: the record
 * describes processes, which a crash of the host ends too (the next open
 * finds their shims gone and removes what is left), and RUN is a tmpfs by
 * default. A flock on the directory keeps writers of other processes
 * apart: two writers of the one spare could trade an older record back. */
#define QEMU_STATUS_SPARE "." QEMU_STATUS_NAME ".tmp"

int qemuStatusWrite(const char *dir, const qemuStatusHeader *hdr, const qemuDomainDef *def)
{
    qemuStatusHeader h = *hdr;
    size_t len = sizeof(h) + def->size;
    struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)def, def->size } };
    struct stat sb;
    int dfd, fd = -1, rc = -1;

    h.magic = QEMU_STATUS_MAGIC;
    h.version = 1;
    h.defSize = def->size;
    if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || flock(dfd, LOCK_EX) < 0) {
        virReportSystemError(errno, "cannot write %s/%s: cannot open and lock its directory",
                             dir, QEMU_STATUS_NAME);
        goto out;
    }
    errno = 0;
    if ((fd = openat(dfd, QEMU_STATUS_SPARE, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
                     0600)) < 0 ||
        pwritev(fd, iov, 2, 0) != (ssize_t)len || fstat(fd, &sb) < 0 ||
        (sb.st_size != (off_t)len && ftruncate(fd, (off_t)len) < 0)) {
        virReportSystemError(errno ? errno : ENOSPC, "cannot write %s/%s", dir,
                             QEMU_STATUS_SPARE);
        goto out;
    }
    if (renameat2(dfd, QEMU_STATUS_SPARE, dfd, QEMU_STATUS_NAME, RENAME_EXCHANGE) < 0 &&
        renameat(dfd, QEMU_STATUS_SPARE, dfd, QEMU_STATUS_NAME) < 0) {
        virReportSystemError(errno, "cannot put %s/%s in place", dir, QEMU_STATUS_NAME);
        goto out;
    }
    rc = 0;
 out:
    if (rc < 0 && fd >= 0)
        (void)unlinkat(dfd, QEMU_STATUS_SPARE, 0);
    if (fd >= 0)
        close(fd);
    if (dfd >= 0)
        close(dfd);   /* releases the lock */
    return rc;
}

/* Up to @len bytes of @fd from offset 0: the count (short at EOF), or -1. */
static ssize_t preadAll(int fd, char *buf, size_t len)
{
    size_t got = 0;

    while (got < len) {
        ssize_t n = pread(fd, buf + got, len - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

/* The status is read twice (into @buf and @again, @len bytes each): a
 * reader that opened it just before two writes could read the second one
 * half-written into the very file it holds (the spare is rewritten in
 * place). Two reads that agree were not torn. The count, or -1 with errno
 * (EAGAIN: it kept changing). */
static ssize_t preadSteady(int fd, char *buf, char *again, size_t len)
{
    for (int tries = 0; tries < 16; tries++) {
        ssize_t n = preadAll(fd, buf, len), m;
        if (n < 0 || (m = preadAll(fd, again, len)) < 0)
            return -1;
        if (n == m && memcmp(buf, again, (size_t)n) == 0)
            return n;
    }
    errno = EAGAIN;
    return -1;
}

int qemuStatusReadHeader(const char *dir, qemuStatusHeader *hdr)
{
    char path[PATH_MAX];
    qemuStatusHeader again;
    ssize_t n;
    int fd, err;

    snprintf(path, sizeof(path), "%s/%s", dir, QEMU_STATUS_NAME);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
        return -1;
    n = preadSteady(fd, (char *)hdr, (char *)&again, sizeof(*hdr));
    err = n < 0 ? errno :
          n == sizeof(*hdr) && hdr->magic == QEMU_STATUS_MAGIC && hdr->version == 1 ? 0 : EPROTO;
    close(fd);
    errno = err;
    return err ? -1 : 0;
}

/* The record is read whole (preadSteady). */
qemuDomainDef *qemuStatusRead(const char *dir, qemuStatusHeader *hdr)
{
    enum { MAX = sizeof(qemuStatusHeader) + QEMU_DEF_MAX + 1 };
    char path[PATH_MAX];
    VIR_AUTOFREE(char *) buf = NULL;
    VIR_AUTOFREE(char *) again = NULL;
    qemuDomainDef *def = NULL;
    const char *why = NULL;
    ssize_t n;
    int fd, err = 0;

    snprintf(path, sizeof(path), "%s/%s", dir, QEMU_STATUS_NAME);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
        err = errno;
        virReportSystemError(err, "cannot read %s", path);
        errno = err;
        return NULL;
    }
    if (!(buf = virAllocN(MAX, 1)) || !(again = virAllocN(MAX, 1))) {
        close(fd);
        return NULL;
    }
    n = preadSteady(fd, buf, again, MAX);
    err = errno;
    close(fd);
    if (n < 0 && err == EAGAIN) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "%s kept changing while it was read", path);
        errno = EAGAIN;
        return NULL;
    }
    if (n < 0) {
        virReportSystemError(err, "cannot read %s", path);
        errno = err;
        return NULL;
    }
    memcpy(hdr, buf, (size_t)n < sizeof(*hdr) ? (size_t)n : sizeof(*hdr));
    if ((size_t)n < sizeof(*hdr) || hdr->magic != QEMU_STATUS_MAGIC || hdr->version != 1)
        why = "it is truncated or not a guest status";
    else if (hdr->defSize != (size_t)n - sizeof(*hdr))
        why = "its definition has the wrong size";
    else if (!(def = virAllocN((size_t)n - sizeof(*hdr), 1)))
        return NULL;
    else if (memcpy(def, buf + sizeof(*hdr), hdr->defSize),
             qemuDomainDefCheck(def, hdr->defSize, &why) < 0) {
        free(def);
        def = NULL;
    }
    if (!def) {
        virReportError(VIR_ERR_INTERNAL_ERROR, "%s is not a valid guest status (%s): written "
                       "by another version of libvirtsup, or damaged", path, why);
        errno = EPROTO;
    }
    return def;
}

int qemuNextID(const qemuConfig *cfg)
{
    char path[PATH_MAX], buf[32] = "";
    int fd, id = 0;
    ssize_t n;

    snprintf(path, sizeof(path), "%s/.next-id", cfg->runDir);
    if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0 ||
        flock(fd, LOCK_EX) < 0) {
        virReportSystemError(errno, "cannot use %s", path);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if ((n = pread(fd, buf, sizeof(buf) - 1, 0)) > 0) {
        buf[n] = '\0';
        id = atoi(buf);
    }
    if (id < 1 || id >= INT_MAX - 1)
        id = 1;
    n = snprintf(buf, sizeof(buf), "%d\n", id + 1);
    if (pwrite(fd, buf, (size_t)n, 0) != n || ftruncate(fd, n) < 0) {
        virReportSystemError(errno, "cannot update %s", path);
        close(fd);
        return -1;
    }
    close(fd);   /* releases the lock */
    return id;
}

/* ---- XML ---- */

/* Kept elements (checked records), each line indented by @indent: those
 * named in @names in that order (@only), or all but those. */
static void outKept(virBuffer *o, const qemuDomainDef *def, qemuKept k, unsigned int indent,
                    const char *const *names, bool only)
{
    const void *d = qemuDefKept(def, k);

    if (d)
        virXMLKeepFormat(o, d, k.len, indent, names, only);
}

/* Where libvirt writes the top-level elements the parser keeps. */
static const char *const keptBeforeMemory[] = { "metadata", NULL };
static const char *const keptAfterVcpu[] = { "resource", NULL };
static const char *const keptAfterOS[] = { "features", "cpu", "clock", NULL };
static const char *const keptAfterActions[] = { "pm", NULL };
static const char *const keptPlaced[] = { "metadata", "resource", "features", "cpu", "clock",
                                          "pm", NULL };

static void outElem(virBuffer *o, int indent, const char *name, const char *text)
{
    virBufferAddf(o, "%*s<%s>", indent, "", name);
    virBufferEscapeXML(o, text);
    virBufferAddf(o, "</%s>\n", name);
}

static const char *const actionNames[] = { "", "destroy", "restart", "preserve" };
static const char *const bootNames[] = { "", "hd", "cdrom", "network", "fd" };
static const char *const busNames[] = { "", "virtio", "ide", "sata" };
static const char *const fmtNames[] = { "", "raw", "qcow2" };
static const char *const cacheNames[] = { "default", "none", "writethrough", "writeback",
                                          "directsync", "unsafe" };
static const char *const discardNames[] = { "", "unmap", "ignore" };
static const char *const netTypeNames[] = { "", "user", "network", "bridge" };
static const char *const nicNames[] = { "", "virtio", "e1000", "e1000e", "rtl8139" };
static const char *const charTypeNames[] = { "", "pty", "file", "unix", "null" };
static const char *const charKindNames[] = { "", "serial", "console", "channel" };

static void formatDisk(virBuffer *o, const qemuDomainDef *def, const qemuDiskDef *d)
{
    const char *src = qemuDefStr(def, d->source);

    virBufferAddf(o, "    <disk type='file' device='%s'>\n", d->device == QEMU_DISK_CDROM ? "cdrom" : "disk");
    virBufferAddf(o, "      <driver name='qemu' type='%s'", fmtNames[d->format]);
    if (d->cache)
        virBufferAddf(o, " cache='%s'", cacheNames[d->cache]);
    if (d->discard)
        virBufferAddf(o, " discard='%s'", discardNames[d->discard]);
    virBufferAddf(o, "/>\n");
    if (src) {
        virBufferAddf(o, "      <source file='");
        virBufferEscapeXML(o, src);
        virBufferAddf(o, "'/>\n");
    }
    virBufferAddf(o, "      <target dev='");
    virBufferEscapeXML(o, qemuDefStr(def, d->target));
    virBufferAddf(o, "' bus='%s'/>\n", busNames[d->bus]);
    if (d->readonly)
        virBufferAddf(o, "      <readonly/>\n");
    if (d->shareable)
        virBufferAddf(o, "      <shareable/>\n");
    if (d->serial)
        outElem(o, 6, "serial", qemuDefStr(def, d->serial));
    if (d->bootIndex)
        virBufferAddf(o, "      <boot order='%u'/>\n", d->bootIndex);
    outKept(o, def, d->extra, 6, NULL, false);
    virBufferAddf(o, "    </disk>\n");
}

static void formatNet(virBuffer *o, const qemuDomainDef *def, const qemuNetDef *n)
{
    virBufferAddf(o, "    <interface type='%s'>\n", netTypeNames[n->type]);
    virBufferAddf(o, "      <mac address='%02x:%02x:%02x:%02x:%02x:%02x'/>\n", n->mac[0], n->mac[1],
         n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
    if (n->source) {
        virBufferAddf(o, "      <source %s='", n->type == QEMU_NET_NETWORK ? "network" : "bridge");
        virBufferEscapeXML(o, qemuDefStr(def, n->source));
        virBufferAddf(o, "'/>\n");
    }
    if (n->ifname) {
        virBufferAddf(o, "      <target dev='");
        virBufferEscapeXML(o, qemuDefStr(def, n->ifname));
        virBufferAddf(o, "'/>\n");
    }
    virBufferAddf(o, "      <model type='%s'/>\n", nicNames[n->model]);
    if (n->romOff)
        virBufferAddf(o, "      <rom enabled='no'/>\n");
    if (n->linkDown)
        virBufferAddf(o, "      <link state='down'/>\n");
    if (n->mtu)
        virBufferAddf(o, "      <mtu size='%u'/>\n", n->mtu);
    if (n->bootIndex)
        virBufferAddf(o, "      <boot order='%u'/>\n", n->bootIndex);
    outKept(o, def, n->extra, 6, NULL, false);
    virBufferAddf(o, "    </interface>\n");
}

static void formatChar(virBuffer *o, const qemuDomainDef *def, const qemuCharDef *c)
{
    const char *kind = charKindNames[c->kind];
    const char *path = qemuDefStr(def, c->path);

    virBufferAddf(o, "    <%s type='%s'>\n", kind, charTypeNames[c->type]);
    if (path || (c->type == QEMU_CHARDEV_UNIX)) {
        virBufferAddf(o, "      <source");
        if (c->type == QEMU_CHARDEV_UNIX)
            virBufferAddf(o, " mode='%s'", c->listen ? "bind" : "connect");
        if (path) {
            virBufferAddf(o, " path='");
            virBufferEscapeXML(o, path);
            virBufferAddf(o, "'");
        }
        if (c->append)
            virBufferAddf(o, " append='on'");
        virBufferAddf(o, "/>\n");
    }
    if (c->kind == QEMU_CHAR_CHANNEL) {
        virBufferAddf(o, "      <target type='virtio' name='");
        virBufferEscapeXML(o, qemuDefStr(def, c->name));
        virBufferAddf(o, "'/>\n");
    } else if (c->kind == QEMU_CHAR_CONSOLE) {
        virBufferAddf(o, "      <target type='%s' port='%u'/>\n",
             c->target == QEMU_CHARTARGET_VIRTIO ? "virtio" : "serial", c->port);
    } else {
        virBufferAddf(o, "      <target type='isa-serial' port='%u'/>\n", c->port);
    }
    outKept(o, def, c->extra, 6, NULL, false);
    virBufferAddf(o, "    </%s>\n", kind);
}

char *qemuDomainDefFormat(const qemuDomainDef *def, const qemuLiveInfo *live)
{
    virBuffer o = VIR_BUFFER_INIT;
    char uuid[VIR_UUID_STRING_BUFLEN];
    const char *s;

    if (live && live->id > 0)
        virBufferAddf(&o, "<domain type='%s' id='%d'>\n",
             def->virtType == QEMU_VIRT_KVM ? "kvm" : "qemu", live->id);
    else
        virBufferAddf(&o, "<domain type='%s'>\n", def->virtType == QEMU_VIRT_KVM ? "kvm" : "qemu");
    outElem(&o, 2, "name", def->name);
    virUUIDFormat(def->uuid, uuid);
    outElem(&o, 2, "uuid", uuid);
    if ((s = qemuDefStr(def, def->title)))
        outElem(&o, 2, "title", s);
    if ((s = qemuDefStr(def, def->description)))
        outElem(&o, 2, "description", s);
    outKept(&o, def, def->extraTop, 2, keptBeforeMemory, true);
    virBufferAddf(&o, "  <memory unit='KiB'>%" PRIu64 "</memory>\n", def->memoryKiB);
    virBufferAddf(&o, "  <currentMemory unit='KiB'>%" PRIu64 "</currentMemory>\n", def->currentMemoryKiB);
    if (def->vcpusCurrent != def->vcpus)
        virBufferAddf(&o, "  <vcpu placement='static' current='%u'>%u</vcpu>\n", def->vcpusCurrent,
             def->vcpus);
    else
        virBufferAddf(&o, "  <vcpu placement='static'>%u</vcpu>\n", def->vcpus);
    outKept(&o, def, def->extraTop, 2, keptAfterVcpu, true);
    virBufferAddf(&o, "  <os>\n    <type arch='x86_64'");
    if ((s = qemuDefStr(def, def->machine))) {
        virBufferAddf(&o, " machine='");
        virBufferEscapeXML(&o, s);
        virBufferAddf(&o, "'");
    }
    virBufferAddf(&o, ">hvm</type>\n");
    if ((s = qemuDefStr(def, def->kernel)))
        outElem(&o, 4, "kernel", s);
    if ((s = qemuDefStr(def, def->initrd)))
        outElem(&o, 4, "initrd", s);
    if ((s = qemuDefStr(def, def->cmdline)))
        outElem(&o, 4, "cmdline", s);
    for (int i = 0; i < QEMU_BOOT_MAX && def->bootDevs[i]; i++)
        virBufferAddf(&o, "    <boot dev='%s'/>\n", bootNames[def->bootDevs[i]]);
    if (def->bootMenu)
        virBufferAddf(&o, "    <bootmenu enable='yes'/>\n");
    virBufferAddf(&o, "  </os>\n");
    outKept(&o, def, def->extraTop, 2, keptAfterOS, true);
    virBufferAddf(&o, "  <on_poweroff>%s</on_poweroff>\n", actionNames[def->onPoweroff]);
    virBufferAddf(&o, "  <on_reboot>%s</on_reboot>\n", actionNames[def->onReboot]);
    virBufferAddf(&o, "  <on_crash>%s</on_crash>\n", actionNames[def->onCrash]);
    outKept(&o, def, def->extraTop, 2, keptAfterActions, true);
    virBufferAddf(&o, "  <devices>\n");
    if ((s = qemuDefStr(def, def->emulator)))
        outElem(&o, 4, "emulator", s);
    for (uint32_t i = 0; i < def->ndisks; i++)
        formatDisk(&o, def, &def->disks[i]);
    for (uint32_t i = 0; i < def->nnets; i++)
        formatNet(&o, def, &def->nets[i]);
    for (uint32_t i = 0; i < def->nchars; i++)
        formatChar(&o, def, &def->chars[i]);
    outKept(&o, def, def->extraDevices, 4, NULL, false);
    virBufferAddf(&o, "  </devices>\n");
    outKept(&o, def, def->extraTop, 2, keptPlaced, false);   /* <seclabel> */
    virBufferAddf(&o, "</domain>\n");
    return virBufferFinish(&o);
}
