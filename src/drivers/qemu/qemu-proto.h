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
 * 0 is "absent"), and of the records of elements kept without
 * interpretation (qemuKept: util/virxmlkeep.h's encoding, each followed by
 * a NUL). Everything in it is checked before use: sizes, enum values,
 * terminated strings inside the pool, names and paths, kept records as
 * untrusted (virXMLKeepCheck, and only the elements the parser keeps
 * there).
 *
 * Included by both halves; includes nothing of supervisor/ or worker/.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/virshim.h"

#define QEMU_DEF_MAGIC        0x44515356u   /* "VSQD" */
#define QEMU_DEF_VERSION      2u    /* 2: kept elements as records */
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
#define QEMU_OP_DOMAIN_SAVE   "qemu.domain.save"    /* QEMU's migration stream -> image */
#define QEMU_OP_DOMAIN_RESTORE "qemu.domain.restore" /* image, verified -> QEMU's -incoming */
#define QEMU_OP_DOMAIN_DUMP   "qemu.domain.dump"    /* QEMU's ELF core, through a pipe, to a file */
#define QEMU_OP_DOMAIN_TAPS   "qemu.domain.taps"    /* guests' taps on their bridges */

typedef uint32_t qemuStr;   /* offset in the pool + 1; 0: absent */

/* Kept elements: @len bytes of util/virxmlkeep.h records at offset @off of
 * the pool (a NUL follows them); @len 0: none. */
typedef struct qemuKept {
    uint32_t off;
    uint32_t len;
} qemuKept;

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
    qemuKept extra;           /* kept child elements (<address>) */
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
    qemuKept extra;           /* kept child elements (<address>) */
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
    qemuKept extra;           /* kept child elements (<address>) */
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
    qemuKept extraTop;        /* kept top-level elements: qemuKeptTop */
    qemuKept extraDevices;    /* kept device elements: qemuKeptDevices */
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

/* ---- the save image (docs/QEMU-DRIVER.md, "Save images") ----
 *
 *   qemuImageHeader, then xmlLen bytes of domain XML, zero padding up to
 *   headerLen (a multiple of 4096); then records: a qemuImageChunk and its
 *   len bytes of QEMU's migration stream (DATA), ..., and one END record
 *   (len 0) whose hash covers the totals. Every hash is XXH64; a DATA
 *   record's is seeded with seed + its index, so a record moved, dropped
 *   or taken from another image does not verify. The header's own hash
 *   covers it (hash field 0) and the XML. Little-endian, as the host. */
#define QEMU_IMAGE_MAGIC      "VSUPQIMG"
#define QEMU_IMAGE_VERSION    1u
#define QEMU_IMAGE_ALIGN      4096u
#define QEMU_IMAGE_CHUNK      (1024u * 1024u)   /* largest DATA payload */
#define QEMU_CHUNK_DATA       0x41544144u       /* "DATA" */
#define QEMU_CHUNK_END        0x21444e45u       /* "END!" */

typedef struct qemuImageHeader {
    char     magic[8];        /* QEMU_IMAGE_MAGIC, no NUL */
    uint32_t version;         /* QEMU_IMAGE_VERSION */
    uint32_t headerLen;       /* bytes before the first record */
    uint32_t xmlLen;          /* bytes of XML after this struct (no NUL) */
    uint32_t chunkMax;        /* QEMU_IMAGE_CHUNK */
    uint64_t memoryBytes;     /* the guest's memory */
    uint64_t streamBytes;     /* QEMU's stream in all */
    uint64_t chunks;          /* DATA records */
    uint8_t  uuid[16];
    char     name[QEMU_NAME_MAX];
    uint32_t wasRunning;      /* 1: the guest ran when saved (restore resumes it) */
    uint32_t complete;        /* 1: the totals above are final */
    uint64_t seed;            /* per image, random */
    uint64_t hash;            /* XXH64(header with hash 0, then the XML), seed 0 */
} qemuImageHeader;

typedef struct qemuImageChunk {
    uint32_t type;            /* QEMU_CHUNK_DATA or QEMU_CHUNK_END */
    uint32_t len;             /* payload bytes (END: 0) */
    uint64_t hash;            /* DATA: XXH64(payload, seed + index);
                                 END: XXH64({streamBytes, chunks}, seed + chunks) */
} qemuImageChunk;
_Static_assert(sizeof(qemuImageHeader) == 152, "the image header is part of the format");
_Static_assert(sizeof(qemuImageChunk) == 16, "the record header is part of the format");

/* Parameters of qemu.domain.save: this, then xmlLen bytes of XML.
 * Resources: "shim" (a connection to the guest's shim), "pipe" (the read
 * end of the pipe QEMU writes into), "qemu" (its write end, for getfd),
 * "output" (the image, unnamed until the commit). */
typedef struct qemuSaveParams {
    uint32_t magic;           /* QEMU_SAVE_MAGIC */
    uint32_t monitorTimeoutMs;
    uint64_t bandwidthBps;    /* 0: none */
    uint64_t memoryBytes;
    uint8_t  uuid[16];
    char     name[QEMU_NAME_MAX];
    uint32_t xmlLen;
    uint32_t reserved;
} qemuSaveParams;
#define QEMU_SAVE_MAGIC 0x56515356u  /* "VSQV" */

/* The save worker's result: what the commit checks against the file. */
typedef struct qemuSaveResult {
    uint32_t magic;           /* QEMU_SAVE_MAGIC */
    uint32_t wasRunning;
    uint64_t streamBytes;
    uint64_t imageBytes;
} qemuSaveResult;

/* Parameters of qemu.domain.restore. Resources: "shim" (the socket on
 * which the subscribed connection to the new guest's shim is handed over,
 * see qemuRestoreHandoff), "image"
 * (the image, read-only), "pipe" (the write end of the pipe QEMU reads),
 * "qemu" (its read end, for getfd). */
typedef struct qemuRestoreParams {
    uint32_t magic;           /* QEMU_RESTORE_MAGIC */
    uint32_t monitorTimeoutMs;
    uint64_t bandwidthBps;
    qemuImageHeader header;   /* as the library checked it */
    char     name[QEMU_NAME_MAX];
    char     path[1024];      /* the image's path, for messages (may be truncated) */
} qemuRestoreParams;
#define QEMU_RESTORE_MAGIC 0x52515356u  /* "VSQR" */
/* A restore's worker starts before the new guest does, so that its first
 * records are checked and fed (and shown) at once: its "shim" resource is
 * then a socket (SOCK_SEQPACKET) on which the library sends one
 * qemuRestoreHandoff once the guest's shim runs: code 0 with the
 * subscribed connection to the shim (SCM_RIGHTS), or the error code and
 * message of a start that failed. The socket closed without a message
 * means the start was given up. */
typedef struct qemuRestoreHandoff {
    int32_t code;             /* 0, or the virErrorNumber of the failed start */
    char    message[512];     /* its message, NUL-terminated */
} qemuRestoreHandoff;
/* Parameters of qemu.domain.dump; resources "shim" (a connection to the
 * guest's shim) and "output" (the unnamed file of the core). */
typedef struct qemuDumpParams {
    uint32_t magic;           /* QEMU_DUMP_MAGIC */
    uint32_t monitorTimeoutMs;
    uint32_t flags;           /* virDomainCoreDumpFlags */
    uint32_t reserved;
    uint64_t maxBps;          /* the worker reads QEMU's stream at most this fast; 0: no cap */
    char     name[QEMU_NAME_MAX];
} qemuDumpParams;
#define QEMU_DUMP_MAGIC 0x44515356u  /* "VSQD" */

/* Parameters of qemu.domain.taps: one entry per tap; resource i is a
 * descriptor of /dev/net/tun (opened by the library) that becomes tap i. */
typedef struct qemuTapEntry {
    char     bridge[16];      /* the bridge to attach to */
    char     ifname[16];      /* the tap's name; "" for vnetN */
    uint8_t  mac[6];          /* the guest's MAC (the tap gets it with 0xfe first) */
    uint8_t  reserved[2];
} qemuTapEntry;

typedef struct qemuTapParams {
    uint32_t magic;           /* QEMU_TAPS_MAGIC */
    uint32_t ntaps;           /* 1..QEMU_NETS_MAX */
    qemuTapEntry taps[QEMU_NETS_MAX];
} qemuTapParams;
#define QEMU_TAPS_MAGIC 0x50545156u   /* "VQTP" */

/* ---- qemu-shared.c: both halves ---- */

/* XXH64 of @len bytes at @data with @seed (the xxHash specification). */
uint64_t qemuHash64(const void *data, size_t len, uint64_t seed);

/* The header's own hash (its hash field taken as 0), over it and @xml. */
uint64_t qemuImageHeaderHash(const qemuImageHeader *h, const char *xml);

/* Check an image header read from a file of @fileBytes bytes (0: size
 * unknown) with its XML (@xml, h->xmlLen bytes): magic, version, sizes,
 * name, completeness, the hash. Returns 0, or -1 with @why set to a
 * static English reason. */
int qemuImageHeaderCheck(const qemuImageHeader *h, const char *xml, uint64_t fileBytes,
                         const char **why);

/* The size of a complete image with header @h. */
uint64_t qemuImageBytes(const qemuImageHeader *h);

/* Resume a guest that a save stopped, once QEMU has let go of it: a
 * migration that failed or was cancelled is reported as such before QEMU's
 * migration thread hands the run state back, and until then QEMU refuses
 * 'cont' ("Migration is not finalized yet") and would leave the guest
 * paused for good. Asks the shim on @shim (a connection of the caller's)
 * for the run state until the guest runs, 'cont' when QEMU can take it,
 * for at most @timeoutMs. Returns 0 when the guest runs, -1 with an error
 * reported (QEMU refused for another reason, exited, or the time ran out).
 * @in is the caller's receive buffer. Thread-safe for distinct @shim. */
int qemuResumeAfterMigration(int shim, unsigned int timeoutMs, virShimIncoming *in);

/* Whether QEMU's migration, whose query-migrate status is @status, has
 * ended (completed, failed, cancelled, or none at all). */
bool qemuMigrationOver(const char *status);

/* Report, as this thread's error, how QEMU ended during @during ("start-up",
 * "the core dump"), from its shim's record @st: killed by a signal, stopped
 * (the guest destroyed), its monitor failed, the guest crashed, or exited
 * with a status; a record without the end says only that QEMU ended.
 * Always returns -1. Thread-safe. */
int qemuEndReport(const virShimStatus *st, const char *during);

/* The string at @s in @def's pool, or NULL if absent. @def must have
 * passed qemuDomainDefCheck (or be under construction by the parser). */
const char *qemuDefStr(const qemuDomainDef *def, qemuStr s);

/* The elements a definition may keep, by place (NULL-terminated): at the
 * top (<metadata>, <features>...), in <devices> (controllers, ps2
 * inputs...), in a disk, interface or character device (<address>). The
 * parser keeps nothing else; the check refuses anything else. */
extern const char *const qemuKeptTop[];
extern const char *const qemuKeptDevices[];
extern const char *const qemuKeptDeviceChild[];

/* The records of @k in @def's pool (NULL if none). @def must have passed
 * qemuDomainDefCheck (or be under construction by the parser). */
const void *qemuDefKept(const qemuDomainDef *def, qemuKept k);

/* Check a definition block of @len bytes that came from a worker or a
 * file: magic, version, sizes, every qemuStr inside the pool and
 * terminated, enums in range, the name, absolute clean paths, counts.
 * Returns 0, or -1 with @why set to a static English reason. */
int qemuDomainDefCheck(const qemuDomainDef *def, size_t len, const char **why);
