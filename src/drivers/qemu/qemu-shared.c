/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu-shared.c: the check of a domain definition block, used by the
 * worker (to fail early with a clear message) and by the library (the
 * check that counts: the block came from a worker that read hostile XML,
 * or from a file).
 */
#include "util/internal.h"
#include "drivers/qemu/qemu-proto.h"
#include "util/virerror.h"
#include "util/virjsonflat.h"
#include "util/virpoll.h"
#include "util/virstring.h"
#include "util/virxmlkeep.h"

/* What the parser (qemu-xml-worker.c) keeps without interpreting, by
 * place; GetXMLDesc writes the top ones where libvirt writes them. */
const char *const qemuKeptTop[] = {
    "metadata", "resource", "features", "cpu", "clock", "pm", "seclabel", NULL
};
const char *const qemuKeptDevices[] = {
    "controller", "input", "memballoon", "rng", "video", NULL
};
const char *const qemuKeptDeviceChild[] = { "address", NULL };

const void *qemuDefKept(const qemuDomainDef *def, qemuKept k)
{
    if (!k.len || k.off >= def->poolLen || k.len > def->poolLen - k.off)
        return NULL;
    return def->pool + k.off;
}

const char *qemuDefStr(const qemuDomainDef *def, qemuStr s)
{
    if (!s || s > def->poolLen)
        return NULL;
    return def->pool + s - 1;
}

/* A string field: absent, or inside the pool and terminated there. */
static bool strOK(const qemuDomainDef *def, qemuStr s)
{
    if (!s)
        return true;
    if (s > def->poolLen)
        return false;
    return memchr(def->pool + s - 1, '\0', def->poolLen - (s - 1)) != NULL;
}

/* Text XML can hold (valid UTF-8: GetXMLDesc writes it as it is) without
 * control characters but tab and newline (titles, command lines, kept
 * XML). */
static bool textOK(const char *s, bool multiline)
{
    if (s && !virXMLTextValid(s))
        return false;
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == 0x7f || (c < 0x20 && !(multiline && (c == '\n' || c == '\t' || c == '\r'))))
            return false;
    }
    return true;
}

/* An absolute path without "..", "//" or control characters. */
static bool pathOK(const char *p)
{
    if (!p)
        return true;
    if (p[0] != '/' || strlen(p) >= 4096 || !textOK(p, false))
        return false;
    for (const char *c = p; *c; c++) {
        if (c[0] == '/' && (c[1] == '/' ||
                            (c[1] == '.' && c[2] == '.' && (c[3] == '/' || !c[3])) ||
                            (c[1] == '.' && (c[2] == '/' || !c[2]))))
            return false;
    }
    return true;
}

/* A short token: letters, digits and a few separators. */
static bool tokenOK(const char *s, size_t max)
{
    size_t n = 0;
    if (!s)
        return true;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return false;
    }
    return n > 0 && n < max;
}

/* Kept elements: inside the pool with a NUL after them, valid records
 * (util/virxmlkeep.c's check for untrusted ones: names, declared
 * prefixes, UTF-8 text, nesting, size) of the elements the parser keeps in
 * that place (@allowed) only: a second <devices> or an element that would
 * mean something to libvirt's grammar cannot come through. GetXMLDesc
 * writes them escaped. */
static bool keptOK(const qemuDomainDef *def, qemuKept k, const char *const *allowed)
{
    const char *why;

    if (!k.len)
        return k.off == 0;
    if (k.off >= def->poolLen || k.len >= def->poolLen - k.off || def->pool[k.off + k.len] != '\0')
        return false;
    return virXMLKeepCheck(def->pool + k.off, k.len, &why) == 0 &&
           !virXMLKeepOther(def->pool + k.off, k.len, allowed);
}

#define CHECK(cond, msg) do { if (!(cond)) { *why = (msg); return -1; } } while (0)

int qemuDomainDefCheck(const qemuDomainDef *def, size_t len, const char **why)
{
    CHECK(len >= sizeof(*def), "the definition is truncated");
    CHECK(def->magic == QEMU_DEF_MAGIC && def->version == QEMU_DEF_VERSION,
          "the definition has a bad magic or version");
    CHECK(def->size == len && def->size == sizeof(*def) + def->poolLen && len <= QEMU_DEF_MAX,
          "the definition has a bad size");
    CHECK(def->poolLen == 0 || def->pool[def->poolLen - 1] == '\0',
          "the definition's string pool is not terminated");
    CHECK(memchr(def->name, '\0', sizeof(def->name)), "the name is not terminated");
    if (virNameCheck(def->name, sizeof(def->name), why) < 0)
        return -1;
    CHECK(def->virtType == QEMU_VIRT_QEMU || def->virtType == QEMU_VIRT_KVM,
          "the domain type is not qemu or kvm");
    CHECK(def->cpuMode <= QEMU_CPU_CUSTOM, "the CPU mode is out of range");
    CHECK(def->cpuMode != QEMU_CPU_CUSTOM || def->cpuModel, "a custom CPU needs a model");
    CHECK(def->clockOffset <= QEMU_CLOCK_LOCALTIME, "the clock offset is out of range");
    CHECK(def->onPoweroff >= QEMU_ACTION_DESTROY && def->onPoweroff <= QEMU_ACTION_PRESERVE &&
          def->onReboot >= QEMU_ACTION_DESTROY && def->onReboot <= QEMU_ACTION_PRESERVE &&
          def->onCrash >= QEMU_ACTION_DESTROY && def->onCrash <= QEMU_ACTION_PRESERVE,
          "a lifecycle action is out of range");
    for (size_t i = 0; i < QEMU_BOOT_MAX; i++)
        CHECK(def->bootDevs[i] <= QEMU_BOOT_FD, "a boot device is out of range");
    CHECK(def->usb <= QEMU_USB_PIIX3_UHCI && def->tablet <= 1 && def->balloon <= 1 &&
          def->rng <= 1 && def->bootMenu <= 1, "a device flag is out of range");
    CHECK(!def->tablet || def->usb != QEMU_USB_NONE, "a USB tablet needs a USB controller");
    CHECK(def->features < (QEMU_FEATURE_RTC_CATCHUP << 1), "unknown features");
    CHECK(def->vcpus >= 1 && def->vcpus <= QEMU_VCPUS_MAX, "the vCPU count is out of range");
    CHECK(def->vcpusCurrent >= 1 && def->vcpusCurrent <= def->vcpus,
          "the current vCPU count is out of range");
    if (def->sockets || def->cores || def->threads) {
        CHECK(def->sockets && def->cores && def->threads &&
              (uint64_t)def->sockets * def->cores * def->threads == def->vcpus,
              "the CPU topology does not multiply to the vCPU count");
    }
    CHECK(def->memoryKiB >= QEMU_MEMORY_MIN_KIB && def->memoryKiB <= QEMU_MEMORY_MAX_KIB,
          "the memory size is out of range");
    CHECK(def->currentMemoryKiB >= 1 && def->currentMemoryKiB <= def->memoryKiB,
          "the current memory is out of range");

    const qemuStr strs[] = { def->arch, def->machine, def->kernel, def->initrd, def->cmdline,
                             def->emulator, def->cpuModel, def->title, def->description };
    for (size_t i = 0; i < ARRAY_CARDINALITY(strs); i++)
        CHECK(strOK(def, strs[i]), "a string is outside the definition");
    CHECK(!def->arch || STREQ(qemuDefStr(def, def->arch), "x86_64"),
          "the architecture is not x86_64");
    CHECK(tokenOK(qemuDefStr(def, def->machine), 64), "the machine type is malformed");
    CHECK(tokenOK(qemuDefStr(def, def->cpuModel), 64), "the CPU model is malformed");
    CHECK(pathOK(qemuDefStr(def, def->kernel)) && pathOK(qemuDefStr(def, def->initrd)) &&
          pathOK(qemuDefStr(def, def->emulator)),
          "a kernel, initrd or emulator path is not a clean absolute path");
    CHECK(textOK(qemuDefStr(def, def->cmdline), false), "the kernel command line is not text");
    CHECK(textOK(qemuDefStr(def, def->title), false) &&
          textOK(qemuDefStr(def, def->description), true), "the title or description is not text");
    CHECK(keptOK(def, def->extraTop, qemuKeptTop) &&
          keptOK(def, def->extraDevices, qemuKeptDevices),
          "kept elements are malformed or not of those kept there");
    CHECK(!def->initrd || def->kernel, "an initrd needs a kernel");
    CHECK(!def->cmdline || def->kernel, "a kernel command line needs a kernel");

    CHECK(def->ndisks <= QEMU_DISKS_MAX && def->nnets <= QEMU_NETS_MAX &&
          def->nchars <= QEMU_CHARS_MAX, "too many devices");
    bool perDeviceBoot = false;
    for (uint32_t i = 0; i < def->ndisks; i++) {
        const qemuDiskDef *d = &def->disks[i];
        CHECK(d->device >= QEMU_DISK_DISK && d->device <= QEMU_DISK_CDROM &&
              d->bus >= QEMU_BUS_VIRTIO && d->bus <= QEMU_BUS_SATA &&
              d->format >= QEMU_FORMAT_RAW && d->format <= QEMU_FORMAT_QCOW2 &&
              d->readonly <= 1 && d->shareable <= 1 && d->cache <= QEMU_CACHE_UNSAFE &&
              d->discard <= QEMU_DISCARD_IGNORE, "a disk field is out of range");
        CHECK(strOK(def, d->source) && strOK(def, d->target) && strOK(def, d->serial),
              "a disk string is outside the definition");
        CHECK(pathOK(qemuDefStr(def, d->source)), "a disk path is not a clean absolute path");
        CHECK(d->source || d->device == QEMU_DISK_CDROM, "a disk has no source");
        CHECK(d->target && tokenOK(qemuDefStr(def, d->target), 32), "a disk target is malformed");
        CHECK(!d->serial || tokenOK(qemuDefStr(def, d->serial), 64), "a disk serial is malformed");
        CHECK(d->device != QEMU_DISK_CDROM || d->bus != QEMU_BUS_VIRTIO,
              "a CD-ROM cannot be on the virtio bus");
        CHECK(keptOK(def, d->extra, qemuKeptDeviceChild),
              "a device's kept elements are malformed or not of those kept there");
        for (uint32_t j = 0; j < i; j++)
            CHECK(STRNEQ(qemuDefStr(def, def->disks[j].target), qemuDefStr(def, d->target)),
                  "two disks have the same target");
        perDeviceBoot |= d->bootIndex != 0;
    }
    for (uint32_t i = 0; i < def->nnets; i++) {
        const qemuNetDef *n = &def->nets[i];
        CHECK(n->type >= QEMU_NET_USER && n->type <= QEMU_NET_BRIDGE &&
              n->model >= QEMU_NIC_VIRTIO && n->model <= QEMU_NIC_RTL8139 &&
              n->romOff <= 1 && n->linkDown <= 1 && n->mtu <= 65535,
              "an interface field is out of range");
        CHECK(strOK(def, n->source) && strOK(def, n->ifname),
              "an interface string is outside the definition");
        CHECK(n->type == QEMU_NET_USER || (n->source && tokenOK(qemuDefStr(def, n->source), 64)),
              "a network or bridge interface has no valid source");
        CHECK(n->type != QEMU_NET_USER || !n->source, "a user-mode interface has a source");
        CHECK(!n->ifname || tokenOK(qemuDefStr(def, n->ifname), 16), "an interface target is malformed");
        CHECK(!(n->mac[0] & 1), "an interface MAC address is a multicast address");
        CHECK(keptOK(def, n->extra, qemuKeptDeviceChild),
              "a device's kept elements are malformed or not of those kept there");
        perDeviceBoot |= n->bootIndex != 0;
    }
    CHECK(!perDeviceBoot || !def->bootDevs[0],
          "per-device boot order and <os><boot dev=...> cannot be mixed");
    for (uint32_t i = 0; i < def->nchars; i++) {
        const qemuCharDef *c = &def->chars[i];
        CHECK(c->kind >= QEMU_CHAR_SERIAL && c->kind <= QEMU_CHAR_CHANNEL &&
              c->type >= QEMU_CHARDEV_PTY && c->type <= QEMU_CHARDEV_NULL &&
              c->target >= QEMU_CHARTARGET_ISA_SERIAL && c->target <= QEMU_CHARTARGET_VIRTIO &&
              c->port < 4 && c->listen <= 1 && c->append <= 1,
              "a serial, console or channel field is out of range");
        CHECK(strOK(def, c->path) && strOK(def, c->name),
              "a character device string is outside the definition");
        /* A listening unix channel (the guest agent's) may leave its
         * path to the driver: a socket in the guest's run directory. */
        CHECK(c->type == QEMU_CHARDEV_FILE || c->type == QEMU_CHARDEV_UNIX
              ? c->path != 0 || (c->kind == QEMU_CHAR_CHANNEL && c->listen)
              : c->path == 0,
              "a file or unix character device needs a path (and only those; a listening "
              "channel may leave it to the driver)");
        CHECK(pathOK(qemuDefStr(def, c->path)), "a character device path is not a clean absolute path");
        CHECK(c->kind != QEMU_CHAR_CHANNEL ||
              (c->target == QEMU_CHARTARGET_VIRTIO && c->name &&
               tokenOK(qemuDefStr(def, c->name), 64)),
              "a channel needs a virtio target with a name");
        CHECK(c->kind != QEMU_CHAR_SERIAL || c->target == QEMU_CHARTARGET_ISA_SERIAL,
              "a serial port must be an ISA serial port");
        CHECK(keptOK(def, c->extra, qemuKeptDeviceChild),
              "a device's kept elements are malformed or not of those kept there");
    }
    return 0;
}

/* ---- the save image ---- */

#define P1 11400714785074694791ULL
#define P2 14029467366897019727ULL
#define P3 1609587929392839161ULL
#define P4 9650029242287828579ULL
#define P5 2870177450012600261ULL

static inline uint64_t rotl64(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static inline uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline uint64_t xxRound(uint64_t acc, uint64_t in)
{
    acc += in * P2;
    acc = rotl64(acc, 31);
    return acc * P1;
}

static inline uint64_t xxMerge(uint64_t acc, uint64_t v)
{
    acc ^= xxRound(0, v);
    return acc * P1 + P4;
}

uint64_t qemuHash64(const void *data, size_t len, uint64_t seed)
{
    const uint8_t *p = data, *end = p + len;
    uint64_t h;

    if (len >= 32) {
        const uint8_t *limit = end - 32;
        uint64_t v1 = seed + P1 + P2, v2 = seed + P2, v3 = seed, v4 = seed - P1;
        do {
            v1 = xxRound(v1, rd64(p));
            v2 = xxRound(v2, rd64(p + 8));
            v3 = xxRound(v3, rd64(p + 16));
            v4 = xxRound(v4, rd64(p + 24));
            p += 32;
        } while (p <= limit);
        h = rotl64(v1, 1) + rotl64(v2, 7) + rotl64(v3, 12) + rotl64(v4, 18);
        h = xxMerge(h, v1);
        h = xxMerge(h, v2);
        h = xxMerge(h, v3);
        h = xxMerge(h, v4);
    } else {
        h = seed + P5;
    }
    h += (uint64_t)len;
    while (p + 8 <= end) {
        h ^= xxRound(0, rd64(p));
        h = rotl64(h, 27) * P1 + P4;
        p += 8;
    }
    if (p + 4 <= end) {
        h ^= (uint64_t)rd32(p) * P1;
        h = rotl64(h, 23) * P2 + P3;
        p += 4;
    }
    while (p < end) {
        h ^= (*p++) * P5;
        h = rotl64(h, 11) * P1;
    }
    h ^= h >> 33;
    h *= P2;
    h ^= h >> 29;
    h *= P3;
    h ^= h >> 32;
    return h;
}

uint64_t qemuImageHeaderHash(const qemuImageHeader *h, const char *xml)
{
    qemuImageHeader c = *h;
    c.hash = 0;
    return qemuHash64(xml, h->xmlLen, qemuHash64(&c, sizeof(c), 0));
}

uint64_t qemuImageBytes(const qemuImageHeader *h)
{
    return (uint64_t)h->headerLen + (h->chunks + 1) * sizeof(qemuImageChunk) + h->streamBytes;
}

int qemuImageHeaderCheck(const qemuImageHeader *h, const char *xml, uint64_t fileBytes,
                         const char **why)
{
    if (memcmp(h->magic, QEMU_IMAGE_MAGIC, sizeof(h->magic)) != 0) {
        *why = "it is not a save image of the qemu driver";
        return -1;
    }
    if (h->version != QEMU_IMAGE_VERSION) {
        *why = "its format version is not one this build reads";
        return -1;
    }
    if (h->xmlLen == 0 || h->xmlLen > QEMU_XML_MAX || h->headerLen % QEMU_IMAGE_ALIGN ||
        h->headerLen < sizeof(*h) + h->xmlLen || h->headerLen > sizeof(*h) + QEMU_XML_MAX +
        QEMU_IMAGE_ALIGN || h->chunkMax != QEMU_IMAGE_CHUNK) {
        *why = "its header has impossible sizes";
        return -1;
    }
    if (!memchr(h->name, '\0', sizeof(h->name)) || !h->name[0]) {
        *why = "its header names no domain";
        return -1;
    }
    if (h->memoryBytes < QEMU_MEMORY_MIN_KIB * 1024 || h->memoryBytes > QEMU_MEMORY_MAX_KIB * 1024 ||
        h->memoryBytes % 1024) {
        *why = "its header gives an impossible memory size";
        return -1;
    }
    if (h->wasRunning > 1 || h->complete != 1) {
        *why = "it was never completed (the save did not finish)";
        return -1;
    }
    if (h->chunks > h->streamBytes || h->chunks > (1ULL << 40) ||
        h->streamBytes > (1ULL << 50) ||
        h->streamBytes > h->chunks * (uint64_t)QEMU_IMAGE_CHUNK) {
        *why = "its header gives impossible totals";
        return -1;
    }
    if (qemuImageHeaderHash(h, xml) != h->hash) {
        *why = "its header does not match its checksum";
        return -1;
    }
    if (fileBytes && fileBytes != qemuImageBytes(h)) {
        *why = fileBytes < qemuImageBytes(h) ? "it is truncated" : "it has data past its end";
        return -1;
    }
    return 0;
}

bool qemuMigrationOver(const char *status)
{
    return STREQ(status, "completed") || STREQ(status, "failed") ||
           STREQ(status, "cancelled") || STREQ(status, "none") || !status[0];
}

int qemuEndReport(const virShimStatus *st, const char *during)
{
    if (st->child_state != VIR_SHIM_CHILD_EXITED) {
        virReportError(VIR_ERR_OPERATION_FAILED, "QEMU ended during %s (its shim recorded "
                       "no end)", during);
        return -1;
    }
    switch (st->exit_reason) {
    case VIR_SHIM_EXIT_SETUP:
        virReportError(VIR_ERR_OPERATION_FAILED, "cannot start QEMU: %s", st->message);
        break;
    case VIR_SHIM_EXIT_MONITOR:
        virReportError(VIR_ERR_OPERATION_FAILED, "QEMU's monitor failed during %s: %s", during,
                       st->message);
        break;
    case VIR_SHIM_EXIT_CRASHED:
        virReportError(VIR_ERR_OPERATION_FAILED, "the guest failed during %s: %s", during,
                       st->message);
        break;
    case VIR_SHIM_EXIT_STOPPED:
        virReportError(VIR_ERR_OPERATION_FAILED, "QEMU was stopped during %s (the guest was "
                       "destroyed)", during);
        break;
    case VIR_SHIM_EXIT_KILLED:
        virReportError(VIR_ERR_OPERATION_FAILED, "QEMU was killed by signal %d during %s%s%s",
                       st->exit_status, during, st->message[0] ? ": " : "", st->message);
        break;
    default:
        if (st->message[0])
            virReportError(VIR_ERR_OPERATION_FAILED, "QEMU exited during %s (status %d): %s",
                           during, st->exit_status, st->message);
        else
            virReportError(VIR_ERR_OPERATION_FAILED, "QEMU exited during %s (status %d) "
                           "without saying why", during, st->exit_status);
    }
    return -1;
}

int qemuResumeAfterMigration(int shim, unsigned int timeoutMs, virShimIncoming *in)
{
    long long until = virTimeMonoMs() + timeoutMs;
    char status[32];

    for (;;) {
        bool running = false;

        if (virShimQMP(shim, "query-status", NULL, NULL, 0, (int)timeoutMs, NULL, NULL, in) < 0)
            return -1;
        (void)virJSONFlatGetBool(in->data, in->datalen, "running", &running);
        status[0] = '\0';
        (void)virJSONFlatGet(in->data, in->datalen, "status", status, sizeof(status));
        if (running)
            return 0;
        if (STRNEQ(status, "finish-migrate")) {
            if (virShimQMP(shim, "cont", NULL, NULL, 0, (int)timeoutMs, NULL, NULL, in) == 0)
                return 0;
            /* Refused: for good, unless the migration took the guest back
             * between our look and our 'cont'. */
            if (virShimQMP(shim, "query-status", NULL, NULL, 0, (int)timeoutMs, NULL, NULL,
                           in) < 0)
                return -1;
            status[0] = '\0';
            (void)virJSONFlatGet(in->data, in->datalen, "status", status, sizeof(status));
            if (STRNEQ(status, "finish-migrate"))
                return -1;
            virResetLastError();
        }
        if (virTimeMonoMs() > until) {
            virReportError(VIR_ERR_OPERATION_TIMEOUT, "QEMU did not give the guest back "
                           "within %u ms of the end of its migration (run state '%s')",
                           timeoutMs, status);
            return -1;
        }
        (void)virPollNoIntr(NULL, 0, 2);
    }
}
