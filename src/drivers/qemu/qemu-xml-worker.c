/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu-xml-worker.c: domain XML for QEMU guests, parsed in a worker: the
 * only place where XML given to the qemu driver meets libxml2. The result
 * is a qemuDomainDef (qemu-proto.h) that the library checks again.
 *
 * The subset of libvirt's domain schema a QEMU guest uses (docs/QEMU-DRIVER.md
 * has the table). Three kinds of element:
 *   - modelled: read into the definition, and written back from it;
 *   - kept: changes nothing for us (<metadata>, <pm>, <resource>, PCI
 *     controllers, <address>, ps2 inputs...): kept as util/virxmlkeep.h
 *     records (never as XML text), which the library checks as untrusted
 *     and writes back escaped, never reading them as XML;
 *   - refused: anything we cannot give (graphics, sound, host devices,
 *     disk types, buses...) is an error naming it
 *     (VIR_ERR_CONFIG_UNSUPPORTED), never silently dropped.
 * <alias> elements are run-time names libvirt adds to live XML: dropped.
 */
#include <inttypes.h>
#include <stdio.h>
#include <sys/random.h>

#include <libxml/tree.h>

#include "util/internal.h"
#undef VIR_FROM_THIS   /* unit tests include this file with others */
#define VIR_FROM_THIS VIR_FROM_QEMU
#include "util/virerror.h"
#include "util/viralloc.h"
#include "util/virstring.h"
#include "util/virxml.h"
#include "util/virxmlcommon.h"
#include "util/virxmlkeep.h"
#include "drivers/qemu/qemu-worker.h"

#define XERR(...) virReportError(VIR_ERR_XML_ERROR, __VA_ARGS__)
#define UNSUP(...) virReportError(VIR_ERR_CONFIG_UNSUPPORTED, __VA_ARGS__)

/* ---- building the definition ---- */

typedef struct builder {
    virXMLCtx c;
    qemuDomainDef *def;
    size_t poolCap;
    virXMLKeep keptTop, keptDevices;
} builder;

static int addStr(builder *b, const char *s, qemuStr *out)
{
    size_t n = strlen(s) + 1;
    qemuDomainDef *d = b->def;

    if (d->poolLen + n > b->poolCap) {
        XERR("the domain definition is too large (more than %d bytes of names, paths "
             "and kept XML)", QEMU_DEF_MAX);
        return -1;
    }
    memcpy(d->pool + d->poolLen, s, n);
    *out = d->poolLen + 1;
    d->poolLen += (uint32_t)n;
    return 0;
}

static bool isAlias(xmlNodePtr n);

/* Run-time names libvirt adds (<alias>) are not part of a definition. */
static void stripAliases(xmlNodePtr n)
{
    for (xmlNodePtr k = n->children, next; k; k = next) {
        next = k->next;
        if (k->type != XML_ELEMENT_NODE)
            continue;
        if (isAlias(k)) {
            xmlUnlinkNode(k);
            xmlFreeNode(k);
        } else {
            stripAliases(k);
        }
    }
}

/* Keep element @n (without its aliases) into @into. */
static int keep(builder *b, virXMLKeep *into, xmlNodePtr n)
{
    stripAliases(n);
    return virXMLKeepAdd(&b->c, into, n);
}

/* The records of @kept into the pool (then a NUL), at @out; @kept is
 * emptied. */
static int keptDone(builder *b, virXMLKeep *kept, qemuKept *out)
{
    qemuDomainDef *d = b->def;
    int rc = 0;

    if (kept->len) {
        if (d->poolLen + kept->len + 1 > b->poolCap) {
            XERR("the domain definition is too large (more than %d bytes of names, paths "
                 "and kept elements)", QEMU_DEF_MAX);
            rc = -1;
        } else {
            out->off = d->poolLen;
            out->len = (uint32_t)kept->len;
            memcpy(d->pool + d->poolLen, kept->data, kept->len);
            d->pool[d->poolLen + kept->len] = '\0';
            d->poolLen += (uint32_t)kept->len + 1;
        }
    }
    virXMLKeepClear(kept);
    return rc;
}

/* ---- small readers ---- */

static char *nodeText(builder *b, xmlNodePtr n)
{
    return virXMLLeafText(&b->c, n);
}

/* Attribute @name of @n, one of @allowed (NULL-terminated); its index in
 * *out, or -1 when absent and @dflt < 0 means "required". */
static int attrChoice(builder *b, xmlNodePtr n, const char *name, const char *const *allowed,
                      int dflt, int *out, bool refuseUnknown)
{
    VIR_AUTOFREE(char *) v = virXMLAttr(n, name);
    char nb[64];

    (void)b;
    if (!v) {
        if (dflt < 0) {
            XERR("<%s> in domain XML needs the attribute '%s'",
                 virXMLNodeName(n, nb, sizeof(nb)), name);
            return -1;
        }
        *out = dflt;
        return 0;
    }
    for (int i = 0; allowed[i]; i++) {
        if (allowed[i][0] && STREQ(v, allowed[i])) {   /* "": a placeholder for index 0 */
            *out = i;
            return 0;
        }
    }
    if (refuseUnknown)
        UNSUP("unsupported %s '%.40s' of <%s> in domain XML", name, v,
              virXMLNodeName(n, nb, sizeof(nb)));
    else
        XERR("invalid %s '%.40s' of <%s> in domain XML", name, v,
             virXMLNodeName(n, nb, sizeof(nb)));
    return -1;
}

static int attrYesNo(builder *b, xmlNodePtr n, const char *name, const char *yes,
                     const char *no, int *out)
{
    const char *const vals[] = { no, yes, NULL };
    return attrChoice(b, n, name, vals, 0, out, false);
}

static int attrNumber(builder *b, xmlNodePtr n, const char *name, uint64_t max, uint64_t *out,
                      bool *present)
{
    VIR_AUTOFREE(char *) v = virXMLAttr(n, name);
    char nb[64];

    (void)b;
    *present = v != NULL;
    if (!v)
        return 0;
    if (virXMLParseU64(v, out) < 0 || *out > max) {
        XERR("invalid %s '%.40s' of <%s> in domain XML", name, v,
             virXMLNodeName(n, nb, sizeof(nb)));
        return -1;
    }
    return 0;
}

/* An absolute path: kept as given, checked later with the whole def. */
static int pathAttr(builder *b, xmlNodePtr n, const char *name, qemuStr *out, bool required)
{
    VIR_AUTOFREE(char *) v = virXMLAttr(n, name);
    char nb[64];

    if (!v || !*v) {
        if (required) {
            XERR("<%s> in domain XML needs a path in '%s'", virXMLNodeName(n, nb, sizeof(nb)),
                 name);
            return -1;
        }
        return 0;
    }
    if (v[0] != '/') {
        XERR("the path '%.80s' of <%s> in domain XML is not absolute", v,
             virXMLNodeName(n, nb, sizeof(nb)));
        return -1;
    }
    return addStr(b, v, out);
}

/* An element with attributes @attrs (NULL-terminated, or NULL) and no
 * children but comments and blanks. */
static int emptyWith(builder *b, xmlNodePtr n, const char *const *attrs)
{
    return virXMLCheckAttrs(&b->c, n, attrs) < 0 || virXMLCheckEmpty(&b->c, n) < 0 ? -1 : 0;
}

/* <boot order='N'/> of a device (@what: "a disk"), N from 1 to 255. */
static int parseBootOrder(builder *b, xmlNodePtr n, const char *what, uint8_t *out)
{
    static const char *const attrs[] = { "order", NULL };
    uint64_t order;
    bool present;

    if (emptyWith(b, n, attrs) < 0 || attrNumber(b, n, "order", 255, &order, &present) < 0)
        return -1;
    if (!present || !order) {
        XERR("<boot> of %s in domain XML needs an order from 1", what);
        return -1;
    }
    *out = (uint8_t)order;
    return 0;
}

static bool isAlias(xmlNodePtr n)
{
    return virXMLIsPlain(n, "alias");
}

/* From @k on, the first child of a device that its parser reads: blanks
 * and comments skipped, <alias> dropped, <address> kept into @extra. NULL
 * at the end, or NULL with *@err = -1 and an error reported. */
static xmlNodePtr deviceChildFrom(builder *b, xmlNodePtr k, virXMLKeep *extra, int *err)
{
    for (; k; k = k->next) {
        int rc = virXMLNotElement(&b->c, k);
        if (rc < 0 || (rc == 0 && virXMLIsPlain(k, "address") && keep(b, extra, k) < 0)) {
            *err = -1;
            return NULL;
        }
        if (rc == 0 && !isAlias(k) && !virXMLIsPlain(k, "address"))
            return k;
    }
    return NULL;
}

static void refuseDevice(xmlNodePtr n, const char *what)
{
    char nb[64];
    UNSUP("unsupported element <%s> in %s in domain XML", virXMLNodeName(n, nb, sizeof(nb)),
          what);
}

/* ---- <os> ---- */

static int parseOS(builder *b, xmlNodePtr os)
{
    static const char *const osAttrs[] = { "firmware", NULL };
    static const char *const typeAttrs[] = { "arch", "machine", NULL };
    static const char *const bootDevs[] = { "", "hd", "cdrom", "network", "fd", NULL };
    qemuDomainDef *d = b->def;
    VIR_AUTOFREE(char *) fw = NULL;
    size_t nboot = 0;
    bool seenType = false;

    if (virXMLCheckAttrs(&b->c, os, osAttrs) < 0)
        return -1;
    if ((fw = virXMLAttr(os, "firmware")) && STRNEQ(fw, "bios")) {
        UNSUP("unsupported firmware '%.32s' in domain XML (only bios)", fw);
        return -1;
    }
    int err = 0;
    for (xmlNodePtr n = virXMLFirstElement(&b->c, os, &err); n;
         n = virXMLNextElement(&b->c, n, &err)) {
        if (virXMLIsPlain(n, "type")) {
            VIR_AUTOFREE(char *) t = NULL;
            VIR_AUTOFREE(char *) arch = NULL;
            VIR_AUTOFREE(char *) machine = NULL;
            if (seenType) {
                XERR("%s", "<os><type> appears more than once in domain XML");
                return -1;
            }
            seenType = true;
            if (virXMLCheckAttrs(&b->c, n, typeAttrs) < 0 || !(t = nodeText(b, n)))
                return -1;
            if (STRNEQ(t, "hvm")) {
                UNSUP("unsupported OS type '%.32s' in domain XML (only hvm)", t);
                return -1;
            }
            if ((arch = virXMLAttr(n, "arch"))) {
                if (STRNEQ(arch, "x86_64")) {
                    UNSUP("unsupported architecture '%.32s' in domain XML (only x86_64)", arch);
                    return -1;
                }
                if (addStr(b, arch, &d->arch) < 0)
                    return -1;
            }
            if ((machine = virXMLAttr(n, "machine")) && addStr(b, machine, &d->machine) < 0)
                return -1;
        } else if (virXMLIsPlain(n, "kernel") || virXMLIsPlain(n, "initrd")) {
            VIR_AUTOFREE(char *) p = NULL;
            if (virXMLCheckAttrs(&b->c, n, NULL) < 0 || !(p = nodeText(b, n)))
                return -1;
            if (p[0] != '/') {
                XERR("the %s path '%.80s' in domain XML is not absolute",
                     (const char *)n->name, p);
                return -1;
            }
            if (addStr(b, p, virXMLIsPlain(n, "kernel") ? &d->kernel : &d->initrd) < 0)
                return -1;
        } else if (virXMLIsPlain(n, "cmdline")) {
            VIR_AUTOFREE(char *) t = NULL;
            if (virXMLCheckAttrs(&b->c, n, NULL) < 0 || !(t = nodeText(b, n)))
                return -1;
            if (*t && addStr(b, t, &d->cmdline) < 0)
                return -1;
        } else if (virXMLIsPlain(n, "boot")) {
            static const char *const bootAttrs[] = { "dev", NULL };
            int dev;
            if (emptyWith(b, n, bootAttrs) < 0 ||
                attrChoice(b, n, "dev", bootDevs, -1, &dev, false) < 0)
                return -1;
            if (dev == 0 || nboot == QEMU_BOOT_MAX) {
                XERR("%s", "invalid or too many <boot dev=...> in domain XML");
                return -1;
            }
            d->bootDevs[nboot++] = (uint8_t)dev;
        } else if (virXMLIsPlain(n, "bootmenu")) {
            static const char *const bmAttrs[] = { "enable", "timeout", NULL };
            int on;
            if (emptyWith(b, n, bmAttrs) < 0 ||
                attrYesNo(b, n, "enable", "yes", "no", &on) < 0)
                return -1;
            d->bootMenu = (uint8_t)on;
        } else {
            refuseDevice(n, "<os>");
            return -1;
        }
    }
    if (err < 0)
        return -1;
    if (!seenType) {
        XERR("%s", "domain XML has no <os><type>hvm</type></os>");
        return -1;
    }
    return 0;
}

/* ---- <features>, <cpu>, <clock>, lifecycle ---- */

static int parseFeatures(builder *b, xmlNodePtr f)
{
    qemuDomainDef *d = b->def;

    if (virXMLCheckAttrs(&b->c, f, NULL) < 0)
        return -1;
    int err = 0;
    for (xmlNodePtr n = virXMLFirstElement(&b->c, f, &err); n;
         n = virXMLNextElement(&b->c, n, &err)) {
        if (virXMLIsPlain(n, "acpi") || virXMLIsPlain(n, "pae")) {
            if (emptyWith(b, n, NULL) < 0)
                return -1;
            d->features |= virXMLIsPlain(n, "acpi") ? QEMU_FEATURE_ACPI : QEMU_FEATURE_PAE;
        } else if (virXMLIsPlain(n, "apic")) {
            static const char *const apicAttrs[] = { "eoi", NULL };
            if (emptyWith(b, n, apicAttrs) < 0)
                return -1;
            d->features |= QEMU_FEATURE_APIC;
        } else if (virXMLIsPlain(n, "vmport") || virXMLIsPlain(n, "smm")) {
            static const char *const stAttrs[] = { "state", NULL };
            bool vmport = virXMLIsPlain(n, "vmport");
            int on;
            if (emptyWith(b, n, stAttrs) < 0 ||
                attrYesNo(b, n, "state", "on", "off", &on) < 0)
                return -1;
            if (vmport)
                d->features |= on ? QEMU_FEATURE_VMPORT_ON : QEMU_FEATURE_VMPORT_OFF;
            else
                d->features |= on ? QEMU_FEATURE_SMM_ON : QEMU_FEATURE_SMM_OFF;
        } else {
            refuseDevice(n, "<features>");
            return -1;
        }
    }
    if (err < 0)
        return -1;
    return keep(b, &b->keptTop, f);
}

static int parseCPU(builder *b, xmlNodePtr cpu)
{
    static const char *const cpuAttrs[] = { "mode", "match", "check", "migratable", NULL };
    static const char *const modes[] = { "custom", "host-passthrough", "host-model",
                                         "maximum", NULL };
    qemuDomainDef *d = b->def;
    int mode;
    bool haveModel = false;

    if (virXMLCheckAttrs(&b->c, cpu, cpuAttrs) < 0 ||
        attrChoice(b, cpu, "mode", modes, 0, &mode, true) < 0)
        return -1;
    if (mode == 3) {
        UNSUP("%s", "unsupported CPU mode 'maximum' in domain XML");
        return -1;
    }
    d->cpuMode = mode == 1 ? QEMU_CPU_HOST_PASSTHROUGH : mode == 2 ? QEMU_CPU_HOST_MODEL
                                                                   : QEMU_CPU_DEFAULT;
    int err = 0;
    for (xmlNodePtr n = virXMLFirstElement(&b->c, cpu, &err); n;
         n = virXMLNextElement(&b->c, n, &err)) {
        if (virXMLIsPlain(n, "model")) {
            static const char *const modelAttrs[] = { "fallback", "vendor_id", NULL };
            VIR_AUTOFREE(char *) m = NULL;
            if (virXMLCheckAttrs(&b->c, n, modelAttrs) < 0 || !(m = nodeText(b, n)))
                return -1;
            if (*m && mode == 0) {
                if (addStr(b, m, &d->cpuModel) < 0)
                    return -1;
                d->cpuMode = QEMU_CPU_CUSTOM;
                haveModel = true;
            }
        } else if (virXMLIsPlain(n, "topology")) {
            static const char *const topoAttrs[] = { "sockets", "dies", "cores", "threads", NULL };
            uint64_t v[4] = { 0 };
            bool present;
            for (int i = 0; i < 4; i++) {
                if (virXMLCheckAttrs(&b->c, n, topoAttrs) < 0 ||
                    attrNumber(b, n, topoAttrs[i], QEMU_VCPUS_MAX, &v[i], &present) < 0)
                    return -1;
                if (!present && i != 1) {
                    XERR("<topology> in domain XML needs '%s'", topoAttrs[i]);
                    return -1;
                }
            }
            if (v[1] > 1) {
                UNSUP("%s", "unsupported CPU topology with more than one die in domain XML");
                return -1;
            }
            d->sockets = (uint32_t)v[0];
            d->cores = (uint32_t)v[2];
            d->threads = (uint32_t)v[3];
        } else {
            refuseDevice(n, "<cpu>");
            return -1;
        }
    }
    if (err < 0)
        return -1;
    (void)haveModel;
    /* Echoed as given (check, migratable, fallback change nothing here). */
    return keep(b, &b->keptTop, cpu);
}

static int parseClock(builder *b, xmlNodePtr clk)
{
    static const char *const clockAttrs[] = { "offset", NULL };
    static const char *const offsets[] = { "utc", "localtime", NULL };
    static const char *const timerAttrs[] = { "name", "present", "tickpolicy", NULL };
    static const char *const timers[] = { "rtc", "pit", "hpet", "kvmclock", "tsc", NULL };
    qemuDomainDef *d = b->def;
    int off;

    if (virXMLCheckAttrs(&b->c, clk, clockAttrs) < 0 ||
        attrChoice(b, clk, "offset", offsets, 0, &off, true) < 0)
        return -1;
    d->clockOffset = (uint8_t)off;
    for (xmlNodePtr n = clk->children; n; n = n->next) {
        VIR_AUTOFREE(char *) present = NULL;
        VIR_AUTOFREE(char *) tick = NULL;
        int rc, which;
        if ((rc = virXMLNotElement(&b->c, n)) != 0) {
            if (rc < 0)
                return -1;
            continue;
        }
        if (!virXMLIsPlain(n, "timer")) {
            refuseDevice(n, "<clock>");
            return -1;
        }
        if (emptyWith(b, n, timerAttrs) < 0 ||
            attrChoice(b, n, "name", timers, -1, &which, true) < 0)
            return -1;
        present = virXMLAttr(n, "present");
        tick = virXMLAttr(n, "tickpolicy");
        if (present && STRNEQ(present, "yes") && STRNEQ(present, "no")) {
            XERR("invalid present '%.32s' of <timer> in domain XML", present);
            return -1;
        }
        if (tick && STRNEQ(tick, "delay") && STRNEQ(tick, "catchup") && STRNEQ(tick, "merge") &&
            STRNEQ(tick, "discard")) {
            XERR("invalid tickpolicy '%.32s' of <timer> in domain XML", tick);
            return -1;
        }
        if (which == 2 && present && STREQ(present, "no"))
            d->features |= QEMU_FEATURE_HPET_OFF;
        if (which == 0 && tick && STREQ(tick, "catchup"))
            d->features |= QEMU_FEATURE_RTC_CATCHUP;
        /* The other timers and policies keep QEMU's defaults, which are
         * what libvirt asks for them on x86. */
    }
    return keep(b, &b->keptTop, clk);
}

static int parsePM(builder *b, xmlNodePtr pm)
{
    static const char *const attrs[] = { "enabled", NULL };

    if (virXMLCheckAttrs(&b->c, pm, NULL) < 0)
        return -1;
    for (xmlNodePtr n = pm->children; n; n = n->next) {
        VIR_AUTOFREE(char *) en = NULL;
        int rc;
        if ((rc = virXMLNotElement(&b->c, n)) != 0) {
            if (rc < 0)
                return -1;
            continue;
        }
        if ((!virXMLIsPlain(n, "suspend-to-mem") && !virXMLIsPlain(n, "suspend-to-disk"))) {
            refuseDevice(n, "<pm>");
            return -1;
        }
        if (emptyWith(b, n, attrs) < 0)
            return -1;
        /* Guest suspend is not offered: only its refusal changes nothing. */
        if ((en = virXMLAttr(n, "enabled")) && STRNEQ(en, "no")) {
            UNSUP("unsupported <%s enabled='%.8s'> in domain XML (guest suspend is not "
                  "offered)", (const char *)n->name, en);
            return -1;
        }
    }
    return keep(b, &b->keptTop, pm);
}

/* ---- devices ---- */

static const char *const diskBuses[] = { "", "virtio", "ide", "sata", NULL };

static int parseDisk(builder *b, xmlNodePtr n)
{
    static const char *const diskAttrs[] = { "type", "device", "snapshot", NULL };
    static const char *const types[] = { "file", NULL };
    static const char *const devices[] = { "", "disk", "cdrom", NULL };
    qemuDomainDef *d = b->def;
    qemuDiskDef *disk;
    virXMLKeep extra = VIR_XML_KEEP_INIT;
    int err = 0;
    int type, dev, rc = -1;
    VIR_AUTOFREE(char *) typeName = NULL;

    if (d->ndisks == QEMU_DISKS_MAX) {
        UNSUP("more than %d disks in domain XML", QEMU_DISKS_MAX);
        return -1;
    }
    disk = &d->disks[d->ndisks];
    if (virXMLCheckAttrs(&b->c, n, diskAttrs) < 0)
        return -1;
    typeName = virXMLAttr(n, "type");
    if (typeName && STRNEQ(typeName, "file")) {
        UNSUP("unsupported disk type '%.32s' in domain XML (only file)", typeName);
        return -1;
    }
    if (attrChoice(b, n, "type", types, 0, &type, true) < 0 ||
        attrChoice(b, n, "device", devices, 1, &dev, true) < 0)
        return -1;
    disk->device = (uint8_t)dev;
    disk->format = QEMU_FORMAT_RAW;
    for (xmlNodePtr k = deviceChildFrom(b, n->children, &extra, &err); k;
         k = deviceChildFrom(b, k->next, &extra, &err)) {
        if (virXMLIsPlain(k, "driver")) {
            static const char *const drvAttrs[] = { "name", "type", "cache", "discard", "io",
                                                    NULL };
            static const char *const fmts[] = { "", "raw", "qcow2", NULL };
            static const char *const caches[] = { "default", "none", "writethrough",
                                                  "writeback", "directsync", "unsafe", NULL };
            static const char *const discards[] = { "", "unmap", "ignore", NULL };
            static const char *const ios[] = { "threads", "native", "io_uring", NULL };
            VIR_AUTOFREE(char *) name = NULL;
            int f, cch, dis, io;
            if (emptyWith(b, k, drvAttrs) < 0)
                goto out;
            if ((name = virXMLAttr(k, "name")) && STRNEQ(name, "qemu")) {
                UNSUP("unsupported disk driver '%.32s' in domain XML (only qemu)", name);
                goto out;
            }
            if (attrChoice(b, k, "type", fmts, 1, &f, true) < 0 ||
                attrChoice(b, k, "cache", caches, 0, &cch, true) < 0 ||
                attrChoice(b, k, "discard", discards, 0, &dis, true) < 0 ||
                attrChoice(b, k, "io", ios, 0, &io, true) < 0)
                goto out;
            disk->format = (uint8_t)f;
            disk->cache = (uint8_t)cch;
            disk->discard = (uint8_t)dis;
        } else if (virXMLIsPlain(k, "source")) {
            static const char *const srcAttrs[] = { "file", "index", NULL };
            if (emptyWith(b, k, srcAttrs) < 0 ||
                pathAttr(b, k, "file", &disk->source, false) < 0)
                goto out;
        } else if (virXMLIsPlain(k, "backingStore")) {
            /* libvirt prints an empty one for "no backing file". */
            if (k->properties || xmlFirstElementChild(k)) {
                UNSUP("%s", "unsupported disk backing chain (<backingStore> with a source) "
                      "in domain XML");
                goto out;
            }
        } else if (virXMLIsPlain(k, "target")) {
            static const char *const tgtAttrs[] = { "dev", "bus", "tray", NULL };
            VIR_AUTOFREE(char *) dv = NULL;
            VIR_AUTOFREE(char *) bus = NULL;
            int busIdx;
            if (emptyWith(b, k, tgtAttrs) < 0)
                goto out;
            if (!(dv = virXMLAttr(k, "dev")) || !*dv) {
                XERR("%s", "<disk><target> in domain XML needs 'dev'");
                goto out;
            }
            if (addStr(b, dv, &disk->target) < 0)
                goto out;
            if ((bus = virXMLAttr(k, "bus"))) {
                if (attrChoice(b, k, "bus", diskBuses, 0, &busIdx, true) < 0)
                    goto out;
            } else {
                /* libvirt's default: from the name's prefix. */
                busIdx = !strncmp(dv, "vd", 2) ? QEMU_BUS_VIRTIO :
                         !strncmp(dv, "hd", 2) ? QEMU_BUS_IDE :
                         !strncmp(dv, "sd", 2) ? QEMU_BUS_SATA : 0;
                if (!busIdx) {
                    UNSUP("unsupported disk target '%.32s' without a bus in domain XML", dv);
                    goto out;
                }
            }
            disk->bus = (uint8_t)busIdx;
        } else if (virXMLIsPlain(k, "readonly") || virXMLIsPlain(k, "shareable")) {
            if (emptyWith(b, k, NULL) < 0)
                goto out;
            if (virXMLIsPlain(k, "readonly"))
                disk->readonly = 1;
            else
                disk->shareable = 1;
        } else if (virXMLIsPlain(k, "serial")) {
            VIR_AUTOFREE(char *) s = NULL;
            if (virXMLCheckAttrs(&b->c, k, NULL) < 0 || !(s = nodeText(b, k)) ||
                addStr(b, s, &disk->serial) < 0)
                goto out;
        } else if (virXMLIsPlain(k, "boot")) {
            if (parseBootOrder(b, k, "a disk", &disk->bootIndex) < 0)
                goto out;
        } else {
            refuseDevice(k, "<disk>");
            goto out;
        }
    }
    if (err < 0)
        goto out;
    if (!disk->target) {
        XERR("%s", "a <disk> in domain XML has no <target dev=...>");
        goto out;
    }
    if (dev == QEMU_DISK_CDROM)
        disk->readonly = 1;
    if (!disk->source && dev != QEMU_DISK_CDROM) {
        XERR("the disk '%s' in domain XML has no <source file=...>",
             qemuDefStr(d, disk->target));
        goto out;
    }
    if (dev == QEMU_DISK_CDROM && disk->bus == QEMU_BUS_VIRTIO) {
        UNSUP("%s", "unsupported CD-ROM on the virtio bus in domain XML");
        goto out;
    }
    if (keptDone(b, &extra, &disk->extra) < 0)
        goto out;
    d->ndisks++;
    rc = 0;
 out:
    virXMLKeepClear(&extra);
    return rc;
}

static int parseMAC(const char *s, uint8_t mac[6])
{
    unsigned v[6];
    char end;
    if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
               &end) != 6 || strlen(s) != 17)
        return -1;
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)v[i];
    return 0;
}

static int parseInterface(builder *b, xmlNodePtr n)
{
    static const char *const ifAttrs[] = { "type", NULL };
    static const char *const types[] = { "", "user", "network", "bridge", NULL };
    qemuDomainDef *d = b->def;
    qemuNetDef *net;
    virXMLKeep extra = VIR_XML_KEEP_INIT;
    int err = 0;
    bool haveMAC = false;
    int type, rc = -1;
    VIR_AUTOFREE(char *) typeName = NULL;

    if (d->nnets == QEMU_NETS_MAX) {
        UNSUP("more than %d interfaces in domain XML", QEMU_NETS_MAX);
        return -1;
    }
    net = &d->nets[d->nnets];
    if (virXMLCheckAttrs(&b->c, n, ifAttrs) < 0)
        return -1;
    if (!(typeName = virXMLAttr(n, "type"))) {
        XERR("%s", "<interface> in domain XML needs a type");
        return -1;
    }
    if (attrChoice(b, n, "type", types, -1, &type, true) < 0)
        return -1;
    net->type = (uint8_t)type;
    net->model = QEMU_NIC_VIRTIO;
    for (xmlNodePtr k = deviceChildFrom(b, n->children, &extra, &err); k;
         k = deviceChildFrom(b, k->next, &extra, &err)) {
        if (virXMLIsPlain(k, "mac")) {
            static const char *const macAttrs[] = { "address", NULL };
            VIR_AUTOFREE(char *) a = NULL;
            if (emptyWith(b, k, macAttrs) < 0)
                goto out;
            if (!(a = virXMLAttr(k, "address")) || parseMAC(a, net->mac) < 0 || (net->mac[0] & 1)) {
                XERR("invalid MAC address '%.32s' in domain XML", a ? a : "");
                goto out;
            }
            haveMAC = true;
        } else if (virXMLIsPlain(k, "source")) {
            static const char *const srcAttrs[] = { "network", "bridge", "portgroup", "portid",
                                                    NULL };
            const char *want = type == QEMU_NET_NETWORK ? "network" : "bridge";
            VIR_AUTOFREE(char *) s = NULL;
            VIR_AUTOFREE(char *) pg = NULL;
            if (emptyWith(b, k, srcAttrs) < 0)
                goto out;
            if ((pg = virXMLAttr(k, "portgroup"))) {
                UNSUP("%s", "unsupported interface portgroup in domain XML");
                goto out;
            }
            if (type == QEMU_NET_USER) {
                refuseDevice(k, "a user-mode <interface>");
                goto out;
            }
            if (!(s = virXMLAttr(k, want)) || !*s) {
                XERR("<interface type='%s'> in domain XML needs <source %s=...>", typeName, want);
                goto out;
            }
            if (addStr(b, s, &net->source) < 0)
                goto out;
        } else if (virXMLIsPlain(k, "model")) {
            static const char *const modelAttrs[] = { "type", NULL };
            static const char *const models[] = { "", "virtio", "e1000", "e1000e", "rtl8139",
                                                  NULL };
            int m;
            if (emptyWith(b, k, modelAttrs) < 0 ||
                attrChoice(b, k, "type", models, -1, &m, true) < 0)
                goto out;
            net->model = (uint8_t)m;
        } else if (virXMLIsPlain(k, "target")) {
            static const char *const tgtAttrs[] = { "dev", "managed", NULL };
            VIR_AUTOFREE(char *) dv = NULL;
            if (emptyWith(b, k, tgtAttrs) < 0)
                goto out;
            if ((dv = virXMLAttr(k, "dev")) && *dv && addStr(b, dv, &net->ifname) < 0)
                goto out;
        } else if (virXMLIsPlain(k, "rom")) {
            static const char *const romAttrs[] = { "bar", "enabled", NULL };
            VIR_AUTOFREE(char *) bar = NULL;
            VIR_AUTOFREE(char *) en = NULL;
            if (emptyWith(b, k, romAttrs) < 0)
                goto out;
            bar = virXMLAttr(k, "bar");
            en = virXMLAttr(k, "enabled");
            if ((bar && STRNEQ(bar, "on") && STRNEQ(bar, "off")) ||
                (en && STRNEQ(en, "yes") && STRNEQ(en, "no"))) {
                XERR("%s", "invalid <rom> of an interface in domain XML");
                goto out;
            }
            net->romOff = (bar && STREQ(bar, "off")) || (en && STREQ(en, "no"));
        } else if (virXMLIsPlain(k, "link")) {
            static const char *const linkAttrs[] = { "state", NULL };
            static const char *const states[] = { "up", "down", NULL };
            int st;
            if (emptyWith(b, k, linkAttrs) < 0 ||
                attrChoice(b, k, "state", states, 0, &st, false) < 0)
                goto out;
            net->linkDown = st == 1;
        } else if (virXMLIsPlain(k, "mtu")) {
            static const char *const mtuAttrs[] = { "size", NULL };
            uint64_t v;
            bool present;
            if (emptyWith(b, k, mtuAttrs) < 0 ||
                attrNumber(b, k, "size", 65535, &v, &present) < 0)
                goto out;
            if (!present || v < 68) {
                XERR("%s", "invalid <mtu size=...> of an interface in domain XML");
                goto out;
            }
            net->mtu = (uint32_t)v;
        } else if (virXMLIsPlain(k, "boot")) {
            if (parseBootOrder(b, k, "an interface", &net->bootIndex) < 0)
                goto out;
        } else {
            refuseDevice(k, "<interface>");
            goto out;
        }
    }
    if (err < 0)
        goto out;
    if (type != QEMU_NET_USER && !net->source) {
        XERR("<interface type='%s'> in domain XML has no <source>", typeName);
        goto out;
    }
    if (!haveMAC) {
        /* libvirt's rule: a random address in QEMU's prefix, kept in the
         * definition so the guest sees the same one at every start. */
        uint8_t r[3];
        if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
            virReportSystemError(errno, "%s", "cannot generate a MAC address");
            goto out;
        }
        net->mac[0] = 0x52;
        net->mac[1] = 0x54;
        net->mac[2] = 0x00;
        memcpy(net->mac + 3, r, 3);
    }
    if (keptDone(b, &extra, &net->extra) < 0)
        goto out;
    d->nnets++;
    rc = 0;
 out:
    virXMLKeepClear(&extra);
    return rc;
}

/* <serial>, <console>, <channel> */
static int parseChar(builder *b, xmlNodePtr n, int kind)
{
    static const char *const charAttrs[] = { "type", "tty", NULL };
    static const char *const types[] = { "", "pty", "file", "unix", "null", NULL };
    qemuDomainDef *d = b->def;
    qemuCharDef *ch;
    virXMLKeep extra = VIR_XML_KEEP_INIT;
    int err = 0;
    int type, rc = -1;
    bool haveTarget = false;
    VIR_AUTOFREE(char *) typeName = NULL;

    if (d->nchars == QEMU_CHARS_MAX) {
        UNSUP("more than %d serial ports, consoles and channels in domain XML",
              QEMU_CHARS_MAX);
        return -1;
    }
    ch = &d->chars[d->nchars];
    ch->kind = (uint8_t)kind;
    ch->target = kind == QEMU_CHAR_CHANNEL ? QEMU_CHARTARGET_VIRTIO : QEMU_CHARTARGET_ISA_SERIAL;
    if (virXMLCheckAttrs(&b->c, n, charAttrs) < 0)
        return -1;
    typeName = virXMLAttr(n, "type");
    if (attrChoice(b, n, "type", types, 1, &type, true) < 0)
        return -1;
    ch->type = (uint8_t)type;
    if (kind == QEMU_CHAR_CHANNEL && type != QEMU_CHARDEV_UNIX) {
        UNSUP("unsupported channel type '%.32s' in domain XML (only unix)",
              typeName ? typeName : "");
        return -1;
    }
    ch->listen = 1;
    for (xmlNodePtr k = deviceChildFrom(b, n->children, &extra, &err); k;
         k = deviceChildFrom(b, k->next, &extra, &err)) {
        int r;
        if (virXMLIsPlain(k, "source")) {
            static const char *const srcAttrs[] = { "path", "mode", "append", NULL };
            VIR_AUTOFREE(char *) mode = NULL;
            VIR_AUTOFREE(char *) app = NULL;
            if (emptyWith(b, k, srcAttrs) < 0)
                goto out;
            if (type == QEMU_CHARDEV_PTY || type == QEMU_CHARDEV_NULL)
                continue;   /* a pty's path is the run-time one */
            if (pathAttr(b, k, "path", &ch->path, kind != QEMU_CHAR_CHANNEL) < 0)
                goto out;
            if ((mode = virXMLAttr(k, "mode"))) {
                if (type != QEMU_CHARDEV_UNIX ||
                    (STRNEQ(mode, "bind") && STRNEQ(mode, "connect"))) {
                    XERR("invalid source mode '%.32s' in domain XML", mode);
                    goto out;
                }
                ch->listen = STREQ(mode, "bind");
            }
            if ((app = virXMLAttr(k, "append"))) {
                if (type != QEMU_CHARDEV_FILE || (STRNEQ(app, "on") && STRNEQ(app, "off"))) {
                    XERR("invalid source append '%.32s' in domain XML", app);
                    goto out;
                }
                ch->append = STREQ(app, "on");
            }
        } else if (virXMLIsPlain(k, "target")) {
            static const char *const tgtAttrs[] = { "type", "port", "name", "state", NULL };
            VIR_AUTOFREE(char *) tt = NULL;
            VIR_AUTOFREE(char *) name = NULL;
            uint64_t port = 0;
            bool present;
            haveTarget = true;
            if (virXMLCheckAttrs(&b->c, k, tgtAttrs) < 0 ||
                attrNumber(b, k, "port", 3, &port, &present) < 0)
                goto out;
            ch->port = (uint8_t)port;
            tt = virXMLAttr(k, "type");
            if (kind == QEMU_CHAR_SERIAL && tt && STRNEQ(tt, "isa-serial")) {
                UNSUP("unsupported serial target type '%.32s' in domain XML (only isa-serial)", tt);
                goto out;
            }
            if (kind == QEMU_CHAR_CONSOLE) {
                if (!tt || STREQ(tt, "serial"))
                    ch->target = QEMU_CHARTARGET_ISA_SERIAL;
                else if (STREQ(tt, "virtio"))
                    ch->target = QEMU_CHARTARGET_VIRTIO;
                else {
                    UNSUP("unsupported console target type '%.32s' in domain XML", tt);
                    goto out;
                }
            }
            if (kind == QEMU_CHAR_CHANNEL) {
                if (!tt || STRNEQ(tt, "virtio")) {
                    UNSUP("unsupported channel target type '%.32s' in domain XML (only virtio)",
                          tt ? tt : "");
                    goto out;
                }
                if (!(name = virXMLAttr(k, "name")) || !*name) {
                    XERR("%s", "a virtio channel in domain XML needs a target name");
                    goto out;
                }
                if (addStr(b, name, &ch->name) < 0)
                    goto out;
            }
            /* <model name='isa-serial'/> only restates the target type. */
            for (xmlNodePtr m = k->children; m; m = m->next) {
                if ((r = virXMLNotElement(&b->c, m)) != 0) {
                    if (r < 0)
                        goto out;
                    continue;
                }
                static const char *const modelAttrs[] = { "name", NULL };
                VIR_AUTOFREE(char *) mn = NULL;
                if (!virXMLIsPlain(m, "model") || emptyWith(b, m, modelAttrs) < 0 || !(mn = virXMLAttr(m, "name")) ||
                    STRNEQ(mn, "isa-serial")) {
                    if (virXMLIsPlain(m, "model") && mn)
                        UNSUP("unsupported serial model '%.32s' in domain XML", mn);
                    else if (!virXMLIsPlain(m, "model"))
                        refuseDevice(m, "<target>");
                    goto out;
                }
            }
        } else {
            refuseDevice(k, (const char *)n->name);
            goto out;
        }
    }
    if (err < 0)
        goto out;
    if (kind == QEMU_CHAR_CHANNEL && !haveTarget) {
        XERR("%s", "a <channel> in domain XML needs a <target type='virtio' name=...>");
        goto out;
    }
    if ((type == QEMU_CHARDEV_FILE || (type == QEMU_CHARDEV_UNIX && kind != QEMU_CHAR_CHANNEL)) &&
        !ch->path) {
        XERR("a %s of type '%s' in domain XML needs a <source path=...>", (const char *)n->name,
             typeName ? typeName : "");
        goto out;
    }
    if (type == QEMU_CHARDEV_UNIX && !ch->path && !ch->listen) {
        /* Without a path the driver makes one in the guest's run
         * directory, and only QEMU's end can listen there. */
        XERR("a <%s> in connect mode in domain XML needs a <source path=...>",
             (const char *)n->name);
        goto out;
    }
    if (keptDone(b, &extra, &ch->extra) < 0)
        goto out;
    d->nchars++;
    rc = 0;
 out:
    virXMLKeepClear(&extra);
    return rc;
}

/* Devices that are kept as they are, after a look at what they ask for. */
static int parseController(builder *b, xmlNodePtr n)
{
    VIR_AUTOFREE(char *) type = virXMLAttr(n, "type");
    VIR_AUTOFREE(char *) model = virXMLAttr(n, "model");
    qemuDomainDef *d = b->def;

    if (!type) {
        XERR("%s", "a <controller> in domain XML needs a type");
        return -1;
    }
    if (STREQ(type, "usb")) {
        if (!model || STREQ(model, "qemu-xhci") || STREQ(model, "nec-xhci"))
            d->usb = QEMU_USB_QEMU_XHCI;
        else if (STREQ(model, "piix3-uhci"))
            d->usb = QEMU_USB_PIIX3_UHCI;
        else if (STREQ(model, "none"))
            d->usb = QEMU_USB_NONE;
        else {
            UNSUP("unsupported USB controller model '%.32s' in domain XML", model);
            return -1;
        }
    } else if (STREQ(type, "scsi")) {
        if (model && STRNEQ(model, "virtio-scsi")) {
            UNSUP("unsupported SCSI controller model '%.32s' in domain XML", model);
            return -1;
        }
    } else if (STRNEQ(type, "pci") && STRNEQ(type, "sata") && STRNEQ(type, "ide") &&
               STRNEQ(type, "virtio-serial")) {
        UNSUP("unsupported controller type '%.32s' in domain XML", type);
        return -1;
    }
    /* PCI, SATA, IDE and virtio-serial controllers are made by QEMU's
     * machine or by us as the devices need them: kept as written. */
    return keep(b, &b->keptDevices, n);
}

static int parseInput(builder *b, xmlNodePtr n)
{
    VIR_AUTOFREE(char *) type = virXMLAttr(n, "type");
    VIR_AUTOFREE(char *) bus = virXMLAttr(n, "bus");

    if (type && (STREQ(type, "mouse") || STREQ(type, "keyboard")) && bus && STREQ(bus, "ps2"))
        return keep(b, &b->keptDevices, n);   /* the machine has them */
    if (type && STREQ(type, "tablet") && bus && STREQ(bus, "usb")) {
        b->def->tablet = 1;
        return keep(b, &b->keptDevices, n);
    }
    UNSUP("unsupported input device '%.32s' on bus '%.32s' in domain XML",
          type ? type : "", bus ? bus : "");
    return -1;
}

static int parseBalloon(builder *b, xmlNodePtr n)
{
    VIR_AUTOFREE(char *) model = virXMLAttr(n, "model");

    if (!model || (STRNEQ(model, "virtio") && STRNEQ(model, "none"))) {
        UNSUP("unsupported memory balloon model '%.32s' in domain XML", model ? model : "");
        return -1;
    }
    b->def->balloon = STREQ(model, "virtio");
    return keep(b, &b->keptDevices, n);
}

static int parseRNG(builder *b, xmlNodePtr n)
{
    VIR_AUTOFREE(char *) model = virXMLAttr(n, "model");

    if (!model || STRNEQ(model, "virtio")) {
        UNSUP("unsupported RNG model '%.32s' in domain XML", model ? model : "");
        return -1;
    }
    int err = 0;
    for (xmlNodePtr k = virXMLFirstElement(&b->c, n, &err); k;
         k = virXMLNextElement(&b->c, k, &err)) {
        if (virXMLIsPlain(k, "backend")) {
            VIR_AUTOFREE(char *) bm = virXMLAttr(k, "model");
            VIR_AUTOFREE(char *) path = nodeText(b, k);
            if (!path)
                return -1;
            if (!bm || STRNEQ(bm, "random") ||
                (STRNEQ(path, "/dev/urandom") && STRNEQ(path, "/dev/random"))) {
                UNSUP("%s", "unsupported RNG backend in domain XML (only random from "
                      "/dev/urandom or /dev/random)");
                return -1;
            }
        } else if (!virXMLIsPlain(k, "address") && !isAlias(k) && !virXMLIsPlain(k, "rate")) {
            refuseDevice(k, "<rng>");
            return -1;
        }
    }
    if (err < 0)
        return -1;
    b->def->rng = 1;
    return keep(b, &b->keptDevices, n);
}

static int parseVideo(builder *b, xmlNodePtr n)
{
    for (xmlNodePtr k = n->children; k; k = k->next) {
        if (k->type != XML_ELEMENT_NODE || !virXMLIsPlain(k, "model"))
            continue;
        VIR_AUTOFREE(char *) t = virXMLAttr(k, "type");
        if (t && STREQ(t, "none"))
            return keep(b, &b->keptDevices, n);
        UNSUP("unsupported video model '%.32s' in domain XML (only none: guests are "
              "headless)", t ? t : "");
        return -1;
    }
    UNSUP("%s", "unsupported <video> without a model in domain XML");
    return -1;
}

static int parseDevices(builder *b, xmlNodePtr devs)
{
    qemuDomainDef *d = b->def;
    bool seenEmulator = false;

    if (virXMLCheckAttrs(&b->c, devs, NULL) < 0)
        return -1;
    int err = 0;
    for (xmlNodePtr n = virXMLFirstElement(&b->c, devs, &err); n;
         n = virXMLNextElement(&b->c, n, &err)) {
        int rc;
        if (virXMLIsPlain(n, "emulator")) {
            VIR_AUTOFREE(char *) p = NULL;
            if (seenEmulator || virXMLCheckAttrs(&b->c, n, NULL) < 0 || !(p = nodeText(b, n)))
                return seenEmulator ? (XERR("%s", "<emulator> appears twice in domain XML"), -1)
                                    : -1;
            seenEmulator = true;
            if (p[0] != '/') {
                XERR("the emulator path '%.80s' in domain XML is not absolute", p);
                return -1;
            }
            rc = addStr(b, p, &d->emulator);
        } else if (virXMLIsPlain(n, "disk")) {
            rc = parseDisk(b, n);
        } else if (virXMLIsPlain(n, "interface")) {
            rc = parseInterface(b, n);
        } else if (virXMLIsPlain(n, "serial")) {
            rc = parseChar(b, n, QEMU_CHAR_SERIAL);
        } else if (virXMLIsPlain(n, "console")) {
            rc = parseChar(b, n, QEMU_CHAR_CONSOLE);
        } else if (virXMLIsPlain(n, "channel")) {
            rc = parseChar(b, n, QEMU_CHAR_CHANNEL);
        } else if (virXMLIsPlain(n, "controller")) {
            rc = parseController(b, n);
        } else if (virXMLIsPlain(n, "input")) {
            rc = parseInput(b, n);
        } else if (virXMLIsPlain(n, "memballoon")) {
            rc = parseBalloon(b, n);
        } else if (virXMLIsPlain(n, "rng")) {
            rc = parseRNG(b, n);
        } else if (virXMLIsPlain(n, "video")) {
            rc = parseVideo(b, n);
        } else {
            /* graphics, sound, audio, hostdev, redirdev, smartcard,
             * filesystem, watchdog, panic, tpm, shmem, memory, iommu,
             * vsock, parallel, hub, lease, ...: we cannot give them. */
            char nb[64];
            UNSUP("unsupported device <%s> in domain XML", virXMLNodeName(n, nb, sizeof(nb)));
            rc = -1;
        }
        if (rc < 0)
            return -1;
    }
    if (err < 0)
        return -1;
    /* Serial consoles point at a serial port: one is made if missing. */
    return 0;
}

/* ---- the root ---- */

enum {
    SEEN_OS = 1 << 0, SEEN_FEATURES = 1 << 1, SEEN_CPU = 1 << 2, SEEN_CLOCK = 1 << 3,
    SEEN_DEVICES = 1 << 4, SEEN_PM = 1 << 5,
};

static const virXMLCommonRules domainRules = {
    .domain = true, .nameMax = QEMU_NAME_MAX,
    .memoryMinKiB = QEMU_MEMORY_MIN_KIB, .memoryMaxKiB = QEMU_MEMORY_MAX_KIB,
    .vcpusMax = QEMU_VCPUS_MAX,
};

/* A lifecycle action read by virXMLCommonRead, if QEMU's guests can do it. */
static int lifecycleAction(const char *elem, uint8_t action, bool allowRestart,
                           bool allowPreserve, uint8_t *out)
{
    switch (action) {
    case VIR_XML_ACTION_NONE:
        return 0;
    case VIR_XML_ACTION_DESTROY:
        *out = QEMU_ACTION_DESTROY;
        return 0;
    case VIR_XML_ACTION_RESTART:
        if (!allowRestart)
            break;
        *out = QEMU_ACTION_RESTART;
        return 0;
    case VIR_XML_ACTION_PRESERVE:
        if (!allowPreserve)
            break;
        *out = QEMU_ACTION_PRESERVE;
        return 0;
    }
    UNSUP("unsupported action '%s' of <%s> in domain XML", virXMLLifecycleActionName(action),
          elem);
    return -1;
}

/* The common elements read into the definition. */
static int commonInto(builder *b, virXMLCommon *cm)
{
    qemuDomainDef *d = b->def;

    virStrcpyTrunc(d->name, sizeof(d->name), cm->name);
    memcpy(d->uuid, cm->uuid, sizeof(d->uuid));
    d->memoryKiB = cm->memoryKiB;
    d->currentMemoryKiB = cm->currentMemoryKiB;
    d->vcpus = cm->vcpus;
    d->vcpusCurrent = cm->vcpusCurrent;
    if ((cm->title && addStr(b, cm->title, &d->title) < 0) ||
        (cm->description && addStr(b, cm->description, &d->description) < 0))
        return -1;
    if (lifecycleAction("on_poweroff", cm->onPoweroff, false, false, &d->onPoweroff) < 0 ||
        lifecycleAction("on_reboot", cm->onReboot, true, false, &d->onReboot) < 0 ||
        lifecycleAction("on_crash", cm->onCrash, false, true, &d->onCrash) < 0)
        return -1;
    if (d->currentMemoryKiB != d->memoryKiB) {
        UNSUP("%s", "unsupported current memory below the memory in domain XML (the "
              "balloon is not driven)");
        return -1;
    }
    return 0;
}

static int parseRoot(builder *b, xmlNodePtr root, virXMLCommon *cm)
{
    static const char *const rootAttrs[] = { "type", "id", NULL };
    qemuDomainDef *d = b->def;
    VIR_AUTOFREE(char *) type = NULL;
    uint32_t seen = 0;
    xmlNodePtr n;
    int err = 0;

    if (virXMLCheckAttrs(&b->c, root, rootAttrs) < 0)
        return -1;
    if (!(type = virXMLAttr(root, "type"))) {
        XERR("%s", "domain XML needs type='qemu' or type='kvm'");
        return -1;
    }
    if (STREQ(type, "qemu"))
        d->virtType = QEMU_VIRT_QEMU;
    else if (STREQ(type, "kvm"))
        d->virtType = QEMU_VIRT_KVM;
    else {
        UNSUP("unsupported domain type '%.32s' for QEMU (expected qemu or kvm)", type);
        return -1;
    }
    for (n = virXMLFirstElement(&b->c, root, &err); n; n = virXMLNextElement(&b->c, n, &err)) {
        int rc;
        char nb[64];
        if (n->ns) {
            UNSUP("unsupported element <%s> in domain XML (only <metadata> may hold other "
                  "namespaces)", virXMLNodeName(n, nb, sizeof(nb)));
            return -1;
        }
        if ((rc = virXMLCommonRead(&b->c, n, &domainRules, cm)) != VIR_XML_COMMON_NONE) {
            if (rc < 0)
                return -1;
            if (rc == VIR_XML_COMMON_METADATA && keep(b, &b->keptTop, n) < 0)
                return -1;
            continue;
        }
        if (virXMLIsPlain(n, "os")) {
            rc = virXMLOnce(&b->c, n, &seen, SEEN_OS) < 0 ? -1 : parseOS(b, n);
        } else if (virXMLIsPlain(n, "features")) {
            rc = virXMLOnce(&b->c, n, &seen, SEEN_FEATURES) < 0 ? -1 : parseFeatures(b, n);
        } else if (virXMLIsPlain(n, "cpu")) {
            rc = virXMLOnce(&b->c, n, &seen, SEEN_CPU) < 0 ? -1 : parseCPU(b, n);
        } else if (virXMLIsPlain(n, "clock")) {
            rc = virXMLOnce(&b->c, n, &seen, SEEN_CLOCK) < 0 ? -1 : parseClock(b, n);
        } else if (virXMLIsPlain(n, "pm")) {
            rc = virXMLOnce(&b->c, n, &seen, SEEN_PM) < 0 ? -1 : parsePM(b, n);
        } else if (virXMLIsPlain(n, "resource") || virXMLIsPlain(n, "seclabel")) {
            /* cgroup placement and security labels are libvirt's: our
             * confinement of QEMU (its own user, private root, sandbox)
             * applies whatever they say. */
            rc = keep(b, &b->keptTop, n);
        } else if (virXMLIsPlain(n, "devices")) {
            rc = virXMLOnce(&b->c, n, &seen, SEEN_DEVICES) < 0 ? -1 : parseDevices(b, n);
        } else {
            /* memoryBacking, cputune, numatune, iothreads, sysinfo,
             * idmap, genid, keywrap, ...: each asks for something we do
             * not do. */
            virXMLUnsupportedElement(&b->c, n);
            rc = -1;
        }
        if (rc < 0)
            return -1;
    }
    if (err < 0 || virXMLCommonDone(&b->c, &domainRules, cm) < 0)
        return -1;
    if (!(seen & SEEN_OS)) {
        XERR("%s", "domain XML has no <os>");
        return -1;
    }
    if (commonInto(b, cm) < 0)
        return -1;
    if (d->sockets && (uint64_t)d->sockets * d->cores * d->threads != d->vcpus) {
        XERR("the CPU topology in domain XML (%u sockets x %u cores x %u threads) does not "
             "give the %u vCPUs", d->sockets, d->cores, d->threads, d->vcpus);
        return -1;
    }
    return 0;
}

int qemuDomainParseXML(const char *xml, size_t len, qemuDomainDef **out)
{
    builder b = { .c = { "domain" } };
    virXMLCommon cm = VIR_XML_COMMON_INIT;
    xmlDocPtr doc;
    const char *why;
    int rc;

    if (!(doc = virXMLReadUntrusted(&b.c, xml, len, QEMU_XML_MAX, "domain")))
        return -1;
    if (!(b.def = virAllocN(QEMU_DEF_MAX, 1))) {
        xmlFreeDoc(doc);
        return -1;
    }
    b.poolCap = QEMU_DEF_MAX - sizeof(qemuDomainDef);
    b.def->magic = QEMU_DEF_MAGIC;
    b.def->version = QEMU_DEF_VERSION;
    b.def->vcpus = b.def->vcpusCurrent = 1;
    b.def->onPoweroff = b.def->onCrash = QEMU_ACTION_DESTROY;
    b.def->onReboot = QEMU_ACTION_RESTART;
    rc = parseRoot(&b, xmlDocGetRootElement(doc), &cm);
    virXMLCommonClear(&cm);
    xmlFreeDoc(doc);
    if (rc == 0)
        rc = keptDone(&b, &b.keptTop, &b.def->extraTop);
    if (rc == 0)
        rc = keptDone(&b, &b.keptDevices, &b.def->extraDevices);
    virXMLKeepClear(&b.keptTop);
    virXMLKeepClear(&b.keptDevices);
    if (rc < 0) {
        free(b.def);
        return -1;
    }
    b.def->size = (uint32_t)(sizeof(qemuDomainDef) + b.def->poolLen);
    /* What the library will check, checked here first for a clear message. */
    if (qemuDomainDefCheck(b.def, b.def->size, &why) < 0) {
        XERR("invalid domain definition: %s", why);
        free(b.def);
        return -1;
    }
    *out = b.def;
    return 0;
}

/* ---- the op ---- */

static void qemuParseRun(virWorkerJobPtr job, const void *params, size_t len)
{
    qemuParseParams p;
    qemuDomainDef *def = NULL;

    virWorkerJobInitialize(job, 0);
    virWorkerJobSetPhase(job, "validating");
    if (len < sizeof(p)) {
        virWorkerJobFinishFailure(job, VIR_ERR_INTERNAL_ERROR, "%s", "invalid parse parameters");
        return;
    }
    memcpy(&p, params, sizeof(p));
    if (p.magic != QEMU_PARSE_MAGIC || p.xmllen != len - sizeof(p)) {
        virWorkerJobFinishFailure(job, VIR_ERR_INTERNAL_ERROR, "%s", "invalid parse parameters");
        return;
    }
    if (qemuDomainParseXML((const char *)params + sizeof(p), p.xmllen, &def) < 0) {
        virWorkerJobFinishError(job);
        return;
    }
    if (virWorkerJobSetResult(job, def, def->size) < 0) {
        free(def);
        virWorkerJobFinishFailure(job, VIR_ERR_INTERNAL_ERROR, "%s",
                                  "cannot attach the definition to the job");
        return;
    }
    free(def);
    virWorkerJobUpdateRel(job, 0, 0, 100);
    virWorkerJobFinishSuccess(job);
}

VIR_WORKER_OP_REGISTER(qemuParseOp, QEMU_OP_DOMAIN_PARSE, qemuParseRun);
