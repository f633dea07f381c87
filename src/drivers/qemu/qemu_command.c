/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu_command.c: QEMU's command line, descriptors and private root from a
 * checked definition (see qemu_command.h).
 *
 * What QEMU may touch, and how it gets it:
 *   - disk images: opened here, passed as descriptors (-add-fd), used as
 *     /dev/fdset/N: QEMU needs no permission on the files, and no path;
 *   - serial files: the same;
 *   - unix sockets of serial ports and channels: made (bind + listen) or
 *     connected here, passed as descriptors;
 *   - the monitor: a socket pair the shim makes (fd 3);
 *   - kernel and initrd: bind-mounted read-only at their paths in QEMU's
 *     private root (QEMU opens them by name);
 *   - /usr (the program, its libraries and firmware), the loader's cache,
 *     a few device nodes, its own /proc, an empty /tmp: read-only.
 * Nothing else of the host exists for QEMU.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "driver.h"
#include "drivers/qemu/qemu_command.h"
#include "util/viralloc.h"

#define VIR_FROM_THIS VIR_FROM_QEMU
#include "util/virerror.h"

static bool isQ35(const qemuDomainDef *def)
{
    const char *m = qemuDefStr(def, def->machine);
    return m && strstr(m, "q35");
}

/* The unit an IDE or SATA disk's target names: its third and last letter
 * ("hdc": 2), within the bus's units (IDE: two buses of two, hda to hdd;
 * SATA: six ports, sda to sdf). -1 when it names none there. */
static int diskUnit(const qemuDomainDef *def, const qemuDiskDef *d)
{
    const char *t = qemuDefStr(def, d->target);
    int units = d->bus == QEMU_BUS_IDE ? 4 : 6;

    if (!t || strlen(t) != 3 || t[2] < 'a' || t[2] >= 'a' + units)
        return -1;
    return t[2] - 'a';
}

int qemuDomainDefSupported(const qemuConfig *cfg, const qemuDomainDef *def)
{
    if (def->virtType == QEMU_VIRT_KVM && !cfg->kvm) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED, "domain type 'kvm' cannot run here: %s; "
                       "use type='qemu'", cfg->kvmWhy);
        return -1;
    }
    if ((def->cpuMode == QEMU_CPU_HOST_PASSTHROUGH || def->cpuMode == QEMU_CPU_HOST_MODEL) &&
        def->virtType != QEMU_VIRT_KVM) {
        virReportError(VIR_ERR_CONFIG_UNSUPPORTED, "CPU mode '%s' needs domain type 'kvm'",
                       def->cpuMode == QEMU_CPU_HOST_MODEL ? "host-model" : "host-passthrough");
        return -1;
    }
    for (uint32_t i = 0; i < def->ndisks; i++) {
        if (def->disks[i].bus == QEMU_BUS_IDE && isQ35(def)) {
            virReportError(VIR_ERR_CONFIG_UNSUPPORTED, "disk '%s': the q35 machine has no IDE "
                           "bus (use sata)", qemuDefStr(def, def->disks[i].target));
            return -1;
        }
        if (def->disks[i].bus != QEMU_BUS_VIRTIO && diskUnit(def, &def->disks[i]) < 0) {
            bool ide = def->disks[i].bus == QEMU_BUS_IDE;
            virReportError(VIR_ERR_CONFIG_UNSUPPORTED, "disk '%s': a target on the %s bus is "
                           "three letters, the last naming the unit (%s)",
                           qemuDefStr(def, def->disks[i].target), ide ? "ide" : "sata",
                           ide ? "hda to hdd" : "sda to sdf");
            return -1;
        }
    }
    for (uint32_t i = 0; i < def->nnets; i++) {
        const qemuNetDef *n = &def->nets[i];
        if (n->linkDown) {
            virReportError(VIR_ERR_CONFIG_UNSUPPORTED, "%s", "interfaces that start with "
                           "<link state='down'/> are not supported");
            return -1;
        }
    }
    return 0;
}

typedef struct launch {
    const qemuConfig *cfg;
    const qemuDomainDef *def;
    const char *runDir;
    virShimSpecBuf *spec;
    int nextFd;               /* the next descriptor number in QEMU */
    int nextSet;              /* the next fdset id */
    bool pty, urandom, virtioSerial;
} launch;

static int arg(launch *l, const char *a)
{
    return virShimSpecAddArg(l->spec, a);
}

#define argf(l, ...) virShimSpecAddArgf((l)->spec, __VA_ARGS__)

/* Hand @fd (kept open by the caller) to QEMU; returns its number there. */
static int giveFD(launch *l, int fd)
{
    int n = l->nextFd++;
    return virShimSpecAddFD(l->spec, fd, n) < 0 ? -1 : n;
}

/* A path QEMU opens by itself (kernel, initrd): visible read-only in its
 * root if it exists; if not, QEMU says so in its own words. */
static int bindIfThere(launch *l, const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
        return 0;
    return virShimSpecAddMount(l->spec, VIR_SHIM_MOUNT_BIND_RO, path, path);
}

/* ---- files and sockets opened here ---- */

/* An fdset holding @fds (ro, rw): "/dev/fdset/N". */
static int fdset(launch *l, const int *fds, size_t n, char *out, size_t len)
{
    int set = l->nextSet++;
    for (size_t i = 0; i < n; i++) {
        int q = giveFD(l, fds[i]);
        if (q < 0 || arg(l, "-add-fd") < 0 || argf(l, "fd=%d,set=%d", q, set) < 0)
            return -1;
    }
    snprintf(out, len, "/dev/fdset/%d", set);
    return 0;
}

/* A comma in a QEMU option value is written twice. */
static char *qemuEscape(const char *s)
{
    size_t n = strlen(s), extra = 0;
    for (size_t i = 0; i < n; i++)
        extra += s[i] == ',';
    char *out = virAllocN(n + extra + 1, 1);
    if (!out)
        return NULL;
    for (size_t i = 0, j = 0; i < n; i++) {
        out[j++] = s[i];
        if (s[i] == ',')
            out[j++] = ',';
    }
    return out;
}

static int unixAddr(const char *path, struct sockaddr_un *sa, int *dirfd)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    *dirfd = -1;
    if (strlen(path) < sizeof(sa->sun_path)) {
        strcpy(sa->sun_path, path);
        return 0;
    }
    /* Longer than a socket address: through a descriptor of its directory. */
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%.*s", (int)(slash == path ? 1 : slash - path), path);
    if ((*dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return -1;
    if ((size_t)snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/%s", *dirfd,
                         slash + 1) >= sizeof(sa->sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

/* A listening socket at @path (an old socket there is replaced; anything
 * else there is an error), mode 0600. */
static int listenAt(const char *path)
{
    struct sockaddr_un sa;
    struct stat st;
    int dirfd, fd = -1, err;

    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            virReportError(VIR_ERR_OPERATION_FAILED, "cannot listen on %s: it exists and is "
                           "not a socket", path);
            return -1;
        }
        (void)unlink(path);
    }
    if (unixAddr(path, &sa, &dirfd) < 0 ||
        (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
        err = errno;
        goto fail;
    }
    mode_t old = umask(0177);
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    if (rc < 0 || listen(fd, 1) < 0) {
        err = errno;
        goto fail;
    }
    if (dirfd >= 0)
        close(dirfd);
    return fd;
 fail:
    virReportSystemError(err, "cannot listen on the socket %s", path);
    if (fd >= 0)
        close(fd);
    if (dirfd >= 0)
        close(dirfd);
    return -1;
}

static int connectTo(const char *path)
{
    struct sockaddr_un sa;
    int dirfd, fd = -1, err;

    if (unixAddr(path, &sa, &dirfd) < 0 ||
        (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
        connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        err = errno;
        virReportSystemError(err, "cannot connect to the socket %s", path);
        if (fd >= 0)
            close(fd);
        if (dirfd >= 0)
            close(dirfd);
        return -1;
    }
    if (dirfd >= 0)
        close(dirfd);
    return fd;
}

/* ---- the command line ---- */

static const char *const nicDevice[] = { "", "virtio-net-pci", "e1000", "e1000e", "rtl8139" };
static const char *const cacheOpt[] = { "", "none", "writethrough", "writeback", "directsync",
                                        "unsafe" };

static int addDisk(launch *l, uint32_t i)
{
    const qemuDomainDef *def = l->def;
    const qemuDiskDef *d = &def->disks[i];
    const char *target = qemuDefStr(def, d->target);
    const char *src = qemuDefStr(def, d->source);
    char file[64] = "", *esc = NULL;
    int fds[2] = { -1, -1 }, rc = -1;
    int unit = d->bus == QEMU_BUS_VIRTIO ? 0 : diskUnit(def, d);

    if (src) {
        fds[0] = open(src, O_RDONLY | O_CLOEXEC);
        if (fds[0] >= 0 && !d->readonly)
            fds[1] = open(src, O_RDWR | O_CLOEXEC);
        if (fds[0] >= 0 && (d->readonly || fds[1] >= 0)) {
            if (fdset(l, fds, d->readonly ? 1 : 2, file, sizeof(file)) < 0)
                goto out;
        } else if (!(esc = qemuEscape(src))) {
            goto out;
        }
    }
    if (arg(l, "-drive") < 0)
        goto out;
    if (src)
        rc = argf(l, "file=%s,format=%s,if=none,id=drive-%s,readonly=%s%s%s%s%s",
                  file[0] ? file : esc, d->format == QEMU_FORMAT_QCOW2 ? "qcow2" : "raw", target,
                  d->readonly ? "on" : "off", d->cache ? ",cache=" : "", cacheOpt[d->cache],
                  d->discard ? ",discard=" : "",
                  d->discard == QEMU_DISCARD_UNMAP ? "unmap" :
                  d->discard == QEMU_DISCARD_IGNORE ? "ignore" : "");
    else
        rc = argf(l, "if=none,id=drive-%s,media=cdrom,readonly=on", target);
    if (rc < 0 || arg(l, "-device") < 0)
        goto out;
    rc = -1;
    char bus[64] = "", extra[160] = "";
    const char *dev;
    switch (d->bus) {
    case QEMU_BUS_VIRTIO:
        dev = "virtio-blk-pci";
        break;
    case QEMU_BUS_IDE:
        dev = d->device == QEMU_DISK_CDROM ? "ide-cd" : "ide-hd";
        snprintf(bus, sizeof(bus), ",bus=ide.%d,unit=%d", unit / 2, unit % 2);
        break;
    default:
        dev = d->device == QEMU_DISK_CDROM ? "ide-cd" : "ide-hd";
        /* q35's own AHCI has its ports as ide.0..5; elsewhere ours. */
        snprintf(bus, sizeof(bus), isQ35(def) ? ",bus=ide.%d" : ",bus=sata0.%d", unit);
    }
    if (d->bootIndex)
        snprintf(extra, sizeof(extra), ",bootindex=%u", d->bootIndex);
    if (d->serial)
        snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), ",serial=%s",
                 qemuDefStr(def, d->serial));
    rc = argf(l, "%s,drive=drive-%s,id=%s%s%s", dev, target, target, bus, extra);
 out:
    for (int k = 0; k < 2; k++)
        if (fds[k] >= 0)
            close(fds[k]);
    free(esc);
    return rc;
}

static int addNet(launch *l, uint32_t i, const int *tapfds)
{
    const qemuNetDef *n = &l->def->nets[i];
    char extra[160] = "";
    int q;

    if (n->romOff)
        snprintf(extra, sizeof(extra), ",romfile=");
    if (n->bootIndex)
        snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), ",bootindex=%u",
                 n->bootIndex);
    if (n->mtu && n->model == QEMU_NIC_VIRTIO)
        snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), ",host_mtu=%u", n->mtu);
    if (arg(l, "-netdev") < 0)
        return -1;
    if (n->type == QEMU_NET_USER) {
        if (argf(l, "user,id=hostnet%u", i) < 0)
            return -1;
    } else {
        /* The tap the caller made on the bridge: QEMU gets its descriptor
         * and never opens /dev/net/tun itself. */
        if (!tapfds || tapfds[i] < 0) {
            virReportError(VIR_ERR_INTERNAL_ERROR, "interface %u of type '%s' has no tap", i,
                           n->type == QEMU_NET_NETWORK ? "network" : "bridge");
            return -1;
        }
        if ((q = giveFD(l, tapfds[i])) < 0 || argf(l, "tap,fd=%d,id=hostnet%u", q, i) < 0)
            return -1;
    }
    if (arg(l, "-device") < 0)
        return -1;
    return argf(l, "%s,netdev=hostnet%u,id=net%u,mac=%02x:%02x:%02x:%02x:%02x:%02x%s",
                nicDevice[n->model], i, i, n->mac[0], n->mac[1], n->mac[2], n->mac[3],
                n->mac[4], n->mac[5], extra);
}

/* The chardev of character device @i, named @id. */
static int addChardev(launch *l, uint32_t i, const char *id)
{
    const qemuCharDef *c = &l->def->chars[i];
    const char *path = qemuDefStr(l->def, c->path);
    char generated[PATH_MAX];
    int fd = -1, q, rc = -1;

    switch (c->type) {
    case QEMU_CHARDEV_PTY:
        l->pty = true;
        return arg(l, "-chardev") < 0 ? -1 : argf(l, "pty,id=%s", id);
    case QEMU_CHARDEV_NULL:
        return arg(l, "-chardev") < 0 ? -1 : argf(l, "null,id=%s", id);
    case QEMU_CHARDEV_FILE: {
        char file[64];
        if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
                       (c->append ? O_APPEND : O_TRUNC), 0600)) < 0) {
            virReportSystemError(errno, "cannot open the serial log %s", path);
            return -1;
        }
        if (fdset(l, &fd, 1, file, sizeof(file)) == 0 && arg(l, "-chardev") == 0)
            rc = argf(l, "file,id=%s,path=%s%s", id, file, c->append ? ",append=on" : "");
        close(fd);
        return rc;
    }
    default:
        if (!path) {
            /* A channel without a path: one in the guest's run directory. */
            snprintf(generated, sizeof(generated), "%s/channel.%u.sock", l->runDir, i);
            path = generated;
        }
        if ((fd = c->listen ? listenAt(path) : connectTo(path)) < 0)
            return -1;
        q = giveFD(l, fd);
        close(fd);
        if (q < 0 || arg(l, "-chardev") < 0)
            return -1;
        return argf(l, "socket,id=%s,fd=%d,server=%s%s", id, q, c->listen ? "on" : "off",
                    c->listen ? ",wait=off" : "");
    }
}

static int addChars(launch *l)
{
    const qemuDomainDef *def = l->def;
    bool serialPort[4] = { false };
    unsigned channels = 0;
    char id[32];

    for (uint32_t i = 0; i < def->nchars; i++)
        if (def->chars[i].kind == QEMU_CHAR_SERIAL)
            serialPort[def->chars[i].port] = true;
    for (uint32_t i = 0; i < def->nchars; i++) {
        const qemuCharDef *c = &def->chars[i];
        if (c->kind == QEMU_CHAR_SERIAL ||
            (c->kind == QEMU_CHAR_CONSOLE && c->target == QEMU_CHARTARGET_ISA_SERIAL)) {
            /* A serial console is its serial port; one is made if missing. */
            if (c->kind == QEMU_CHAR_CONSOLE) {
                if (serialPort[c->port])
                    continue;
                serialPort[c->port] = true;
            }
            snprintf(id, sizeof(id), "charserial%u", i);
            if (addChardev(l, i, id) < 0 || arg(l, "-device") < 0 ||
                argf(l, "isa-serial,chardev=%s,id=serial%u,index=%u", id, i, c->port) < 0)
                return -1;
            continue;
        }
        if (!l->virtioSerial) {
            l->virtioSerial = true;
            if (arg(l, "-device") < 0 || arg(l, "virtio-serial-pci,id=virtio-serial0") < 0)
                return -1;
        }
        snprintf(id, sizeof(id), "char%s%u", c->kind == QEMU_CHAR_CONSOLE ? "console" : "channel", i);
        if (addChardev(l, i, id) < 0 || arg(l, "-device") < 0)
            return -1;
        if (c->kind == QEMU_CHAR_CONSOLE) {
            if (argf(l, "virtconsole,chardev=%s,id=console%u", id, i) < 0)
                return -1;
        } else if (argf(l, "virtserialport,bus=virtio-serial0.0,nr=%u,chardev=%s,id=channel%u,"
                        "name=%s", ++channels, id, i, qemuDefStr(def, c->name)) < 0) {
            return -1;
        }
    }
    return 0;
}

static int addRoot(launch *l, const char *emulator)
{
    static const char *const top[] = { "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32" };
    const qemuDomainDef *def = l->def;
    virShimSpecBuf *s = l->spec;
    struct stat st;
    char target[PATH_MAX];

    if (virShimSpecAddMount(s, VIR_SHIM_MOUNT_BIND_RO, "/usr", "/usr") < 0)
        return -1;
    for (size_t i = 0; i < ARRAY_CARDINALITY(top); i++) {
        if (lstat(top[i], &st) < 0)
            continue;
        if (S_ISLNK(st.st_mode)) {
            ssize_t n = readlink(top[i], target, sizeof(target) - 1);
            if (n <= 0)
                continue;
            target[n] = '\0';
            if (virShimSpecAddMount(s, VIR_SHIM_MOUNT_SYMLINK, target, top[i]) < 0)
                return -1;
        } else if (S_ISDIR(st.st_mode) &&
                   virShimSpecAddMount(s, VIR_SHIM_MOUNT_BIND_RO, top[i], top[i]) < 0) {
            return -1;
        }
    }
    if (access("/etc/ld.so.cache", R_OK) == 0 &&
        virShimSpecAddMount(s, VIR_SHIM_MOUNT_BIND_RO, "/etc/ld.so.cache", "/etc/ld.so.cache") < 0)
        return -1;
    if (def->clockOffset == QEMU_CLOCK_LOCALTIME && access("/etc/localtime", R_OK) == 0 &&
        virShimSpecAddMount(s, VIR_SHIM_MOUNT_BIND_RO, "/etc/localtime", "/etc/localtime") < 0)
        return -1;
    for (uint32_t i = 0; i < def->nnets; i++) {
        /* User-mode networking forwards the guest's DNS to the host's. */
        if (def->nets[i].type == QEMU_NET_USER && access("/etc/resolv.conf", R_OK) == 0) {
            if (virShimSpecAddMount(s, VIR_SHIM_MOUNT_BIND_RO, "/etc/resolv.conf",
                                    "/etc/resolv.conf") < 0)
                return -1;
            break;
        }
    }
    const char *devs[] = { "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom" };
    for (size_t i = 0; i < ARRAY_CARDINALITY(devs); i++)
        if (access(devs[i], F_OK) == 0 &&
            virShimSpecAddMount(s, VIR_SHIM_MOUNT_DEV, devs[i], devs[i]) < 0)
            return -1;
    if (def->virtType == QEMU_VIRT_KVM &&
        virShimSpecAddMount(s, VIR_SHIM_MOUNT_DEV, "/dev/kvm", "/dev/kvm") < 0)
        return -1;
    if (l->pty && (virShimSpecAddMount(s, VIR_SHIM_MOUNT_DEV, "/dev/pts", "/dev/pts") < 0 ||
                   virShimSpecAddMount(s, VIR_SHIM_MOUNT_DEV, "/dev/ptmx", "/dev/ptmx") < 0))
        return -1;
    if (virShimSpecAddMount(s, VIR_SHIM_MOUNT_PROC, NULL, "/proc") < 0 ||
        virShimSpecAddMount(s, VIR_SHIM_MOUNT_TMPFS, NULL, "/tmp") < 0)
        return -1;
    /* An emulator outside /usr (?emulator=, <emulator>) is there too. */
    if (strncmp(emulator, "/usr/", 5) != 0 && bindIfThere(l, emulator) < 0)
        return -1;
    if (def->kernel && bindIfThere(l, qemuDefStr(def, def->kernel)) < 0)
        return -1;
    if (def->initrd && bindIfThere(l, qemuDefStr(def, def->initrd)) < 0)
        return -1;
    return 0;
}

/* Whether a non-root caller can have a user namespace (for its private
 * root): tried once. */
static bool usernsWorks(void)
{
    static int cached = -1;
    if (cached < 0)
        cached = access("/proc/self/ns/user", F_OK) == 0;
    return cached == 1;
}

virShimSpecBuf *qemuBuildLaunch(const qemuConfig *cfg, const qemuDomainDef *def,
                                const char *runDir, bool incoming)
{
    return qemuBuildLaunchTaps(cfg, def, runDir, incoming, NULL);
}

virShimSpecBuf *qemuBuildLaunchTaps(const qemuConfig *cfg, const qemuDomainDef *def,
                                    const char *runDir, bool incoming, const int *tapfds)
{
    launch l = { .cfg = cfg, .def = def, .runDir = runDir, .nextFd = QEMU_MONITOR_FD + 1 };
    const char *emulator;
    char uuid[VIR_UUID_STRING_BUFLEN];
    const char *s;

    if (qemuDomainDefSupported(cfg, def) < 0 || !(emulator = qemuEmulatorOf(cfg, def)))
        return NULL;
    if (!(l.spec = virShimSpecNew("qemu")))
        return NULL;
    virShimSpecSetQMP(l.spec, QEMU_MONITOR_FD, cfg->startTimeoutMs);
    virShimSpecSetTermTimeout(l.spec, cfg->stopTimeoutMs);
    if (cfg->setIds)
        virShimSpecSetIds(l.spec, cfg->uid, cfg->gid);
    virShimSpecSetFlags(l.spec, VIR_SHIM_SPEC_QMP | VIR_SHIM_SPEC_PDEATHSIG |
                        VIR_SHIM_SPEC_PRIVATE_ROOT |
                        (cfg->setIds ? VIR_SHIM_SPEC_SET_IDS : 0) |
                        (!cfg->privileged && geteuid() != 0 ? VIR_SHIM_SPEC_USERNS : 0));
    if (!cfg->privileged && geteuid() != 0 && !usernsWorks())
        virShimSpecSetFlags(l.spec, VIR_SHIM_SPEC_QMP | VIR_SHIM_SPEC_PDEATHSIG);
    /* A guest whose run state says it failed is stopped as crashed, unless
     * its definition asks to keep it (on_crash preserve) for a dump. */
    if (def->onCrash == QEMU_ACTION_DESTROY)
        virShimSpecSetCrashRunstates(l.spec, "internal-error,guest-panicked");
    if (virShimSpecAddEnv(l.spec, "PATH=/usr/bin:/bin") < 0 ||
        virShimSpecAddEnv(l.spec, "LC_ALL=C") < 0)
        goto error;

    virUUIDFormat(def->uuid, uuid);
    if (arg(&l, emulator) < 0 ||
        arg(&l, "-name") < 0 || argf(&l, "guest=%s,debug-threads=on", def->name) < 0 ||
        arg(&l, "-uuid") < 0 || arg(&l, uuid) < 0 ||
        arg(&l, "-S") < 0 || arg(&l, "-no-user-config") < 0 || arg(&l, "-nodefaults") < 0 ||
        arg(&l, "-display") < 0 || arg(&l, "none") < 0 ||
        arg(&l, "-sandbox") < 0 ||
        arg(&l, "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny") < 0 ||
        arg(&l, "-chardev") < 0 ||
        argf(&l, "socket,id=charmonitor,fd=%d,server=off", QEMU_MONITOR_FD) < 0 ||
        arg(&l, "-mon") < 0 || arg(&l, "chardev=charmonitor,id=monitor,mode=control") < 0)
        goto error;
    if (incoming && (arg(&l, "-incoming") < 0 || arg(&l, "defer") < 0))
        goto error;

    /* The machine. */
    char machine[256];
    s = qemuDefStr(def, def->machine);
    snprintf(machine, sizeof(machine), "%s%saccel=%s,usb=off,dump-guest-core=off%s%s%s%s%s",
             s ? s : "", s ? "," : "", def->virtType == QEMU_VIRT_KVM ? "kvm" : "tcg",
             (def->features & QEMU_FEATURE_ACPI) ? "" : ",acpi=off",
             (def->features & QEMU_FEATURE_VMPORT_ON) ? ",vmport=on" :
             (def->features & QEMU_FEATURE_VMPORT_OFF) ? ",vmport=off" : "",
             (def->features & QEMU_FEATURE_SMM_ON) ? ",smm=on" :
             (def->features & QEMU_FEATURE_SMM_OFF) ? ",smm=off" : "",
             (def->features & QEMU_FEATURE_HPET_OFF) ? ",hpet=off" : "", "");
    if (arg(&l, "-machine") < 0 || arg(&l, machine) < 0)
        goto error;
    if (def->cpuMode == QEMU_CPU_HOST_PASSTHROUGH || def->cpuMode == QEMU_CPU_HOST_MODEL) {
        if (arg(&l, "-cpu") < 0 || arg(&l, "host") < 0)
            goto error;
    } else if (def->cpuMode == QEMU_CPU_CUSTOM) {
        if (arg(&l, "-cpu") < 0 || arg(&l, qemuDefStr(def, def->cpuModel)) < 0)
            goto error;
    }
    if (arg(&l, "-m") < 0 || argf(&l, "size=%lluk", (unsigned long long)def->memoryKiB) < 0 ||
        arg(&l, "-smp") < 0)
        goto error;
    if (def->sockets) {
        if (argf(&l, "%u,maxcpus=%u,sockets=%u,cores=%u,threads=%u", def->vcpusCurrent,
                 def->vcpus, def->sockets, def->cores, def->threads) < 0)
            goto error;
    } else if (argf(&l, "%u,maxcpus=%u", def->vcpusCurrent, def->vcpus) < 0) {
        goto error;
    }
    if (arg(&l, "-rtc") < 0 ||
        argf(&l, "base=%s%s", def->clockOffset == QEMU_CLOCK_LOCALTIME ? "localtime" : "utc",
             (def->features & QEMU_FEATURE_RTC_CATCHUP) ? ",driftfix=slew" : "") < 0)
        goto error;
    if (def->onReboot == QEMU_ACTION_DESTROY && arg(&l, "-no-reboot") < 0)
        goto error;
    if (def->bootDevs[0] || def->bootMenu) {
        char order[QEMU_BOOT_MAX + 1] = "";
        static const char letters[] = { 0, 'c', 'd', 'n', 'a' };
        for (int i = 0; i < QEMU_BOOT_MAX && def->bootDevs[i]; i++)
            order[i] = letters[def->bootDevs[i]];
        if (arg(&l, "-boot") < 0 ||
            argf(&l, "%s%s%s", order[0] ? "order=" : "", order,
                 def->bootMenu ? (order[0] ? ",menu=on" : "menu=on") : "") < 0)
            goto error;
    } else if (arg(&l, "-boot") < 0 || arg(&l, "strict=on") < 0) {
        goto error;
    }
    if ((s = qemuDefStr(def, def->kernel)) && (arg(&l, "-kernel") < 0 || arg(&l, s) < 0))
        goto error;
    if ((s = qemuDefStr(def, def->initrd)) && (arg(&l, "-initrd") < 0 || arg(&l, s) < 0))
        goto error;
    if ((s = qemuDefStr(def, def->cmdline)) && (arg(&l, "-append") < 0 || arg(&l, s) < 0))
        goto error;

    /* Devices. */
    bool sata = false;
    for (uint32_t i = 0; i < def->ndisks; i++)
        sata |= def->disks[i].bus == QEMU_BUS_SATA;
    if (sata && !isQ35(def) && (arg(&l, "-device") < 0 || arg(&l, "ahci,id=sata0") < 0))
        goto error;
    if (def->usb != QEMU_USB_NONE &&
        (arg(&l, "-device") < 0 ||
         arg(&l, def->usb == QEMU_USB_QEMU_XHCI ? "qemu-xhci,id=usb" : "piix3-usb-uhci,id=usb") < 0))
        goto error;
    for (uint32_t i = 0; i < def->ndisks; i++)
        if (addDisk(&l, i) < 0)
            goto error;
    for (uint32_t i = 0; i < def->nnets; i++)
        if (addNet(&l, i, tapfds) < 0)
            goto error;
    if (addChars(&l) < 0)
        goto error;
    if (def->tablet && (arg(&l, "-device") < 0 || arg(&l, "usb-tablet,id=input0,bus=usb.0") < 0))
        goto error;
    if (def->balloon && (arg(&l, "-device") < 0 || arg(&l, "virtio-balloon-pci,id=balloon0") < 0))
        goto error;
    if (def->rng && (arg(&l, "-object") < 0 ||
                     arg(&l, "rng-random,id=objrng0,filename=/dev/urandom") < 0 ||
                     arg(&l, "-device") < 0 || arg(&l, "virtio-rng-pci,rng=objrng0,id=rng0") < 0))
        goto error;
    if (addRoot(&l, emulator) < 0)
        goto error;
    return l.spec;

 error:
    virShimSpecFree(l.spec);
    return NULL;
}
