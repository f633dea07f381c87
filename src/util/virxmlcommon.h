/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virxmlcommon.h: the elements libvirt's domain and network grammars have
 * in common, read one way for every driver's parser (the test driver's
 * domain and network grammar, the qemu driver's domain grammar, the
 * network driver's network grammar), in whichever process parses:
 *
 *   <name>, <uuid>, <title>, <description>, <metadata>       both grammars
 *   <memory>, <currentMemory>, <vcpu>,
 *   <on_poweroff>, <on_reboot>, <on_crash>                   domains
 *
 * A parser hands each child of its root to virXMLCommonRead; what the
 * call reads (the element's grammar: attributes, text, units, numbers,
 * once only) is the same for every driver, what a driver accepts of it
 * (a lifecycle action it can honour, current memory below memory...)
 * stays the driver's, decided on the values read. Elements kept without
 * interpretation (<metadata>, or a driver's own choice) are kept by the
 * caller with util/virxmlkeep.h. The untrusted-input rules are
 * util/virxml.c's: the document comes from virXMLReadUntrusted.
 *
 * Errors are reported as util/virxml.h says, naming @c->what.
 * Thread-safety: no state; a virXMLCommon is used by one thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "util/virxml.h"

#define VIR_XML_COMMON_NAME_MAX 64     /* bytes of a name, with its NUL */

/* What virXMLCommonRead read (bit 1 << element in virXMLCommon.seen). */
typedef enum {
    VIR_XML_COMMON_NONE = 0,          /* not one of the common elements */
    VIR_XML_COMMON_NAME,
    VIR_XML_COMMON_UUID,
    VIR_XML_COMMON_TITLE,
    VIR_XML_COMMON_DESCRIPTION,
    VIR_XML_COMMON_METADATA,
    VIR_XML_COMMON_MEMORY,
    VIR_XML_COMMON_CURRENT_MEMORY,
    VIR_XML_COMMON_VCPU,
    VIR_XML_COMMON_ON_POWEROFF,
    VIR_XML_COMMON_ON_REBOOT,
    VIR_XML_COMMON_ON_CRASH,
} virXMLCommonElement;

/* libvirt's lifecycle actions (<on_crash> alone has the coredump ones). */
typedef enum {
    VIR_XML_ACTION_NONE = 0,          /* element absent */
    VIR_XML_ACTION_DESTROY,
    VIR_XML_ACTION_RESTART,
    VIR_XML_ACTION_PRESERVE,
    VIR_XML_ACTION_RENAME_RESTART,
    VIR_XML_ACTION_COREDUMP_DESTROY,
    VIR_XML_ACTION_COREDUMP_RESTART,
} virXMLLifecycleAction;

/* A driver's ranges for the values read. */
typedef struct virXMLCommonRules {
    bool domain;                      /* a domain: its elements too; else a network */
    size_t nameMax;                   /* buffer for a name, with its NUL (<= the max above) */
    /* the name's rule (virNameCheck when NULL); 0, or -1 with @why set */
    int (*nameCheck)(const char *name, size_t max, const char **why);
    uint64_t memoryMinKiB, memoryMaxKiB;
    uint32_t vcpusMax;
} virXMLCommonRules;

typedef struct virXMLCommon {
    uint32_t seen;                    /* 1 << virXMLCommonElement of each one read */
    char name[VIR_XML_COMMON_NAME_MAX];
    uint8_t uuid[16];                 /* random (v4) after virXMLCommonDone if not given */
    char *title, *description;        /* owned; NULL when absent */
    uint64_t memoryKiB;               /* rounded up to KiB */
    uint64_t currentMemoryKiB;        /* memoryKiB after virXMLCommonDone if not given */
    uint32_t vcpus, vcpusCurrent;     /* 1 after virXMLCommonDone if not given */
    uint8_t onPoweroff, onReboot, onCrash;   /* virXMLLifecycleAction */
} virXMLCommon;
#define VIR_XML_COMMON_INIT { 0 }

/* Read child @n of the root when it is one of the common elements of the
 * grammar @r names (each at most once). Returns the element read (> 0),
 * VIR_XML_COMMON_NONE when @n is not one of them (nothing reported), or
 * -1 with an error reported: an unknown attribute, child elements, a
 * value that is not valid (a name by @r->nameCheck, a UUID, a memory size
 * and unit, a vCPU count, a one-line title, a lifecycle action), a value
 * out of @r's range, vCPU pinning (cpuset=: CONFIG_UNSUPPORTED). */
int virXMLCommonRead(const virXMLCtx *c, xmlNodePtr n, const virXMLCommonRules *r,
                     virXMLCommon *out);

/* After the children: <name> is required, and <memory> for a domain; a
 * missing <uuid> is made up; current memory and vCPUs default to the
 * maximum and may not exceed it. Returns 0, or -1 with an error. */
int virXMLCommonDone(const virXMLCtx *c, const virXMLCommonRules *r, virXMLCommon *out);

/* Free what @out holds. */
void virXMLCommonClear(virXMLCommon *out);

/* An IPv4 address in dotted-quad form into host order. Returns 0, or -1
 * (nothing reported). */
int virXMLParseIPv4(const char *s, uint32_t *out);

/* A network's <ip [family='ipv4'] address='A' (prefix='N' | netmask='M')>,
 * as libvirt's network grammar has it in both drivers: the address (not
 * 0.0.0.0) and the prefix length from either form, from @minPrefix to
 * @maxPrefix; *@netmaskForm tells which form was given, *@familyGiven
 * whether family= was. Its other attributes and children are the
 * caller's. Returns 0, or -1 with an error naming the value (another
 * family, a bad address, both or neither form, a prefix out of range, a
 * netmask that is not contiguous). */
int virXMLReadIPv4Net(const virXMLCtx *c, xmlNodePtr ip, unsigned int minPrefix,
                      unsigned int maxPrefix, uint32_t *addr, uint32_t *prefix,
                      bool *netmaskForm, bool *familyGiven);

/* libvirt's name of @action ("destroy", "rename-restart"...), "" if none. */
const char *virXMLLifecycleActionName(unsigned int action);
