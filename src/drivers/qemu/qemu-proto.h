/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu-proto.h: what passes between the qemu driver's halves: the domain
 * definition a worker makes of domain XML (qemu-xml-worker.c) and the
 * library checks (qemuDomainDefCheck) and keeps, and the parameters of
 * the driver's job ops. The trusted side never reads XML: it checks this
 * record, builds QEMU's command line from it (qemu_command.c) and writes
 * XML back from it (qemu_conf.c).
 *
 * A definition is one block: the fixed qemuDomainDef, then a pool of
 * NUL-terminated strings that its qemuStr fields point into (offset + 1;
 * 0 is "absent"). Everything in it is checked before use: sizes, enum
 * values, terminated strings inside the pool, names and paths.
 *
 * Included by both halves; includes nothing of supervisor/ or worker/.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QEMU_DEF_MAGIC        0x44515356u   /* "VSQD" */
#define QEMU_DEF_VERSION      1u
#define QEMU_DEF_MAX          (60 * 1024)   /* the whole block; fits a job result */
#define QEMU_XML_MAX          (256 * 1024)  /* bytes of XML accepted */
#define QEMU_NAME_MAX         64            /* with NUL; virNameCheck's rule */
#define QEMU_DISKS_MAX        16
#define QEMU_NETS_MAX         8
#define QEMU_CHARS_MAX        8             /* serials, consoles, channels */
#define QEMU_BOOT_MAX         4
#define QEMU_MEMORY_MIN_KIB   (16ull * 1024)
#define QEMU_MEMORY_MAX_KIB   (1024ull * 1024 * 1024)  /* 1 TiB */
#define QEMU_VCPUS_MAX        255

/* Op names: virSupOp (library) and VIR_WORKER_OP_REGISTER (worker). */
#define QEMU_OP_DOMAIN_PARSE  "qemu.domain.parse"   /* domain XML -> qemuDomainDef */
#define QEMU_OP_DOMAIN_START  "qemu.domain.start"   /* follow a start through the shim */

typedef uint32_t qemuStr;   /* offset in the pool + 1; 0: absent */

typedef enum { QEMU_VIRT_QEMU = 1, QEMU_VIRT_KVM = 2 } qemuVirtType;

typedef enum {
    QEMU_FEATURE_ACPI = 1 << 0,
    QEMU_FEATURE_APIC = 1 << 1,
    QEMU_FEATURE_PAE = 1 << 2,
    QEMU_FEATURE_VMPORT_ON = 1 << 3,   /* <vmport state='on'/> */
    QEMU_FEATURE_VMPORT_OFF = 1 << 4,  /* <vmport state='off'/> */
    QEMU_FEATURE_SMM_ON = 1 << 5,
    QEMU_FEATURE_SMM_OFF = 1 << 6,
    QEMU_FEATURE_HPET_OFF = 1 << 7,    /* <clock><timer name='hpet' present='no'/> */
    QEMU_FEATURE_RTC_CATCHUP = 1 << 8, /* <timer name='rtc' tickpolicy='catchup'/> */
} qemuFeature;

typedef enum {
    QEMU_ACTION_DESTROY = 1,
    QEMU_ACTION_RESTART = 2,
    QEMU_ACTION_PRESERVE = 3,
} qemuLifecycleAction;

typedef enum {
    QEMU_CPU_DEFAULT = 0,
    QEMU_CPU_HOST_PASSTHROUGH = 1,
    QEMU_CPU_HOST_MODEL = 2,
    QEMU_CPU_CUSTOM = 3,               /* cpuModel */
} qemuCPUMode;

typedef enum { QEMU_CLOCK_UTC = 0, QEMU_CLOCK_LOCALTIME = 1 } qemuClockOffset;

typedef enum {
    QEMU_BOOT_HD = 1, QEMU_BOOT_CDROM = 2, QEMU_BOOT_NETWORK = 3, QEMU_BOOT_FD = 4,
} qemuBootDev;

typedef enum { QEMU_DISK_DISK = 1, QEMU_DISK_CDROM = 2 } qemuDiskDevice;
typedef enum { QEMU_BUS_VIRTIO = 1, QEMU_BUS_IDE = 2, QEMU_BUS_SATA = 3 } qemuDiskBus;
typedef enum { QEMU_FORMAT_RAW = 1, QEMU_FORMAT_QCOW2 = 2 } qemuDiskFormat;
typedef enum {
    QEMU_CACHE_DEFAULT = 0, QEMU_CACHE_NONE, QEMU_CACHE_WRITETHROUGH, QEMU_CACHE_WRITEBACK,
    QEMU_CACHE_DIRECTSYNC, QEMU_CACHE_UNSAFE,
} qemuDiskCache;
typedef enum { QEMU_DISCARD_DEFAULT = 0, QEMU_DISCARD_UNMAP, QEMU_DISCARD_IGNORE } qemuDiskDiscard;

typedef struct qemuDiskDef {
    uint8_t device;           /* qemuDiskDevice */
    uint8_t bus;              /* qemuDiskBus */
    uint8_t format;           /* qemuDiskFormat */
    uint8_t readonly;
    uint8_t shareable;
    uint8_t cache;            /* qemuDiskCache */
    uint8_t discard;          /* qemuDiskDiscard */
    uint8_t bootIndex;        /* <boot order='N'/>; 0: none */
    qemuStr source;           /* the image's path; absent: an empty CD-ROM drive */
    qemuStr target;           /* "vda", "sda", "hdc" */
    qemuStr serial;
    qemuStr extra;            /* kept child elements (<address>, ...), as XML */
} qemuDiskDef;

typedef enum { QEMU_NET_USER = 1, QEMU_NET_NETWORK = 2, QEMU_NET_BRIDGE = 3 } qemuNetType;
typedef enum {
    QEMU_NIC_VIRTIO = 1, QEMU_NIC_E1000 = 2, QEMU_NIC_E1000E = 3, QEMU_NIC_RTL8139 = 4,
} qemuNicModel;

typedef struct qemuNetDef {
    uint8_t type;             /* qemuNetType */
    uint8_t model;            /* qemuNicModel */
    uint8_t romOff;           /* <rom enabled='no'/> or <rom bar='off'/> */
    uint8_t linkDown;         /* <link state='down'/> */
    uint8_t mac[6];
    uint8_t bootIndex;
    uint8_t reserved;
    uint32_t mtu;             /* 0: default */
    qemuStr source;           /* network or bridge name */
    qemuStr ifname;           /* <target dev='...'/> */
    qemuStr extra;
} qemuNetDef;

typedef enum { QEMU_CHAR_SERIAL = 1, QEMU_CHAR_CONSOLE = 2, QEMU_CHAR_CHANNEL = 3 } qemuCharKind;
typedef enum {
    QEMU_CHARDEV_PTY = 1, QEMU_CHARDEV_FILE = 2, QEMU_CHARDEV_UNIX = 3, QEMU_CHARDEV_NULL = 4,
} qemuCharType;
typedef enum {
    QEMU_CHARTARGET_ISA_SERIAL = 1,   /* serial; console target type='serial' */
    QEMU_CHARTARGET_VIRTIO = 2,       /* console type='virtio'; channel type='virtio' */
} qemuCharTarget;

typedef struct qemuCharDef {
    uint8_t kind;             /* qemuCharKind */
    uint8_t type;             /* qemuCharType */
    uint8_t target;           /* qemuCharTarget */
    uint8_t port;             /* serial / console port (0..3) */
    uint8_t listen;           /* unix: mode='bind' (we listen) vs 'connect' */
    uint8_t append;           /* file: append='on' */
    uint8_t reserved[2];
    qemuStr path;             /* file or socket path */
    qemuStr name;             /* channel: target name ("org.qemu.guest_agent.0") */
    qemuStr extra;
} qemuCharDef;

typedef enum { QEMU_USB_NONE = 0, QEMU_USB_QEMU_XHCI = 1, QEMU_USB_PIIX3_UHCI = 2 } qemuUSBModel;

typedef struct qemuDomainDef {
    uint32_t magic;           /* QEMU_DEF_MAGIC */
    uint32_t version;         /* QEMU_DEF_VERSION */
    uint32_t size;            /* the whole block: sizeof(qemuDomainDef) + poolLen */
    uint32_t poolLen;
    char     name[QEMU_NAME_MAX];
    uint8_t  uuid[16];
    uint8_t  virtType;        /* qemuVirtType */
    uint8_t  cpuMode;         /* qemuCPUMode */
    uint8_t  clockOffset;     /* qemuClockOffset */
    uint8_t  onPoweroff, onReboot, onCrash;   /* qemuLifecycleAction */
    uint8_t  bootDevs[QEMU_BOOT_MAX];          /* qemuBootDev, 0-terminated */
    uint8_t  bootMenu;
    uint8_t  usb;             /* qemuUSBModel of the USB controller */
    uint8_t  tablet;          /* <input type='tablet' bus='usb'/> */
    uint8_t  balloon;         /* <memballoon model='virtio'/> */
    uint8_t  rng;             /* <rng model='virtio'> from /dev/urandom */
    uint8_t  reserved[3];
    uint32_t features;        /* qemuFeature */
    uint32_t vcpus;           /* maximum */
    uint32_t vcpusCurrent;
    uint32_t sockets, cores, threads;  /* 0: not given */
    uint64_t memoryKiB;
    uint64_t currentMemoryKiB;
    qemuStr  arch;            /* "x86_64" */
    qemuStr  machine;         /* "pc-q35-7.2"; absent: QEMU's default */
    qemuStr  kernel, initrd, cmdline;
    qemuStr  emulator;
    qemuStr  cpuModel;
    qemuStr  title, description;
    qemuStr  extraTop;        /* kept top-level elements (<metadata>, <pm>, ...) as XML */
    qemuStr  extraDevices;    /* kept device elements (controllers, ps2 inputs, ...) */
    uint32_t ndisks, nnets, nchars;
    qemuDiskDef disks[QEMU_DISKS_MAX];
    qemuNetDef  nets[QEMU_NETS_MAX];
    qemuCharDef chars[QEMU_CHARS_MAX];
    char     pool[];          /* poolLen bytes */
} qemuDomainDef;

/* Parameters of qemu.domain.parse: this header, then xmllen bytes of XML. */
typedef struct qemuParseParams {
    uint32_t magic;           /* QEMU_PARSE_MAGIC */
    uint32_t xmllen;
} qemuParseParams;
#define QEMU_PARSE_MAGIC 0x50515356u  /* "VSQP" */

/* Parameters of qemu.domain.start; resource 0 is a connection to the
 * guest's shim. */
typedef struct qemuStartParams {
    uint32_t magic;           /* QEMU_START_MAGIC */
    uint32_t monitorTimeoutMs;/* for `cont` */
    char     name[QEMU_NAME_MAX];
} qemuStartParams;
#define QEMU_START_MAGIC 0x53515356u  /* "VSQS" */

/* ---- qemu-shared.c: both halves ---- */

/* The string at @s in @def's pool, or NULL if absent. @def must have
 * passed qemuDomainDefCheck (or be under construction by the parser). */
const char *qemuDefStr(const qemuDomainDef *def, qemuStr s);

/* Check a definition block of @len bytes that came from a worker or a
 * file: magic, version, sizes, every qemuStr inside the pool and
 * terminated, enums in range, the name, absolute clean paths, counts.
 * Returns 0, or -1 with @why set to a static English reason. */
int qemuDomainDefCheck(const qemuDomainDef *def, size_t len, const char **why);
