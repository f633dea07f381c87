/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * objlist.h: the list of a driver's objects (domains, or networks), the
 * same for every driver (library side, in the client process; libvirt's
 * virDomainObjList). A driver embeds a virObjListItem first in its own
 * object and keeps its objects in a virObjList; the list gives:
 *  - lookup by name, by UUID and by ID (a running domain's), and a handle
 *    for the object found, with libvirt's errors when there is none
 *    (VIR_ERR_NO_DOMAIN / VIR_ERR_NO_NETWORK);
 *  - the lock-and-find of a handle's object (virObjListLockObject), the
 *    step every call on a domain or network starts with;
 *  - listing with libvirt's filters (virConnectListAllDomains /
 *    ListAllNetworks flags) into new handles, or a count;
 *  - the calls that only read an object under the lock, the same in every
 *    driver (GetState, GetID, IsActive, IsPersistent, GetJobInfo,
 *    AbortJob), through the driver's accessors (virObjListOps);
 *  - references: the list holds one on each object it lists, and
 *    virObjListCollect gives the caller its own references on a snapshot,
 *    so the caller may drop the lock between objects while others are
 *    removed (an object removed meanwhile stays valid, marked unlisted,
 *    until its last reference goes).
 *
 * Locking: the list is guarded by one mutex, given at init: the driver's
 * lock over its objects (the objects' own fields are the driver's to
 * guard; drivers guard them with the same lock). Calls marked "lock held"
 * need it held by the caller; the others take it themselves and must be
 * called without it. References are atomic: Ref/Unref need no lock.
 *
 * Errors: reported in the error domain the driver gives at init (its own,
 * as libvirt's drivers report lookups: VIR_FROM_TEST, VIR_FROM_QEMU...).
 * Allocation failures report VIR_ERR_NO_MEMORY. Tested by
 * tests/objlist-test.c.
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "driver.h"
#include "driverjob.h"

typedef enum {
    VIR_OBJ_LIST_DOMAINS,
    VIR_OBJ_LIST_NETWORKS,
} virObjListKind;

typedef struct virObjListItem virObjListItem;

/* Frees a whole object (the driver's struct that starts with the item)
 * once its last reference is gone. Called without the list's lock
 * held or with it, whichever call dropped the last reference. */
typedef void (*virObjListDispose)(virObjListItem *item);

/* The part of a driver's object the list reads; first in the object.
 * name and uuid are set by virObjListAdd and never change while the
 * object lives; id by the driver (lock held). */
struct virObjListItem {
    char *name;                       /* owned copy */
    unsigned char uuid[VIR_UUID_BUFLEN];
    int id;                           /* a running domain's ID; -1 otherwise */
    bool listed;                      /* in its list (lock held to read) */
    unsigned int refs;                /* atomic */
    virObjListDispose dispose;
};

/* What the list reads of a driver's object (lock held in each). */
typedef struct virObjListOps {
    virObjListDispose dispose;                          /* required */
    bool (*isActive)(const virObjListItem *item);       /* required */
    bool (*isPersistent)(const virObjListItem *item);   /* required */
    /* Domains: the state and its reason (virDomainState, libvirt's reasons). */
    void (*getState)(const virObjListItem *item, int *state, int *reason);
    /* The object's job slot (driverjob.h); NULL: its objects run no jobs. */
    virDriverJobSlot *(*jobSlot)(virObjListItem *item);
} virObjListOps;

typedef struct virObjList {
    pthread_mutex_t *lock;            /* the driver's lock (see above) */
    virObjListKind kind;
    int errDomain;                    /* the driver's VIR_FROM_* */
    const virObjListOps *ops;
    virObjListItem **items;
    size_t n;
} virObjList;

/* Set up an empty list of @kind guarded by @lock, whose objects the list
 * reads and frees through @ops (static: kept); its errors are reported in
 * @errDomain (VIR_FROM_*). Cannot fail. */
void virObjListInit(virObjList *list, virObjListKind kind, int errDomain,
                    pthread_mutex_t *lock, const virObjListOps *ops);
/* Remove every object (each is freed when no one else holds a reference)
 * and free the list's array. Lock held, or no other thread using the list
 * (a driver's teardown). The list can be used again afterwards. */
void virObjListClear(virObjList *list);

/* "domain" or "network". */
const char *virObjListKindName(const virObjList *list);

/* ---- changes (lock held) ---- */

/* Add @item (zeroed by the caller, first in a new object of the driver)
 * named @name with @uuid: the list holds the one reference the object
 * starts with; id is -1. Returns 0, or -1 with VIR_ERR_OPERATION_FAILED
 * when the name or the UUID is already listed ("domain 'x' already
 * exists"), or VIR_ERR_NO_MEMORY; on failure @item is untouched (the
 * caller still owns the object). */
int virObjListAdd(virObjList *list, virObjListItem *item, const char *name,
                  const unsigned char *uuid);
/* Take @item out of the list and drop the list's reference (the object is
 * freed now unless a collected reference remains). Nothing if @item is not
 * listed. */
void virObjListRemove(virObjList *list, virObjListItem *item);

/* ---- lookup (lock held) ---- */

/* The listed object with @name / @uuid / active with @id (id >= 0), or
 * NULL (nothing reported). The pointer is valid while the lock is held. */
virObjListItem *virObjListFindByName(virObjList *list, const char *name);
virObjListItem *virObjListFindByUUID(virObjList *list, const unsigned char *uuid);
virObjListItem *virObjListFindByID(virObjList *list, int id);
/* The object a definition named @name with @uuid replaces: *@found is the
 * listed object with @uuid (NULL: a new one). Returns 0, or -1 with
 * VIR_ERR_DOM_EXIST / VIR_ERR_NETWORK_EXIST when the name belongs to
 * another UUID ("domain 'x' already exists with UUID U") or the UUID to
 * another name ("a domain with UUID U already exists as 'y'"). */
int virObjListFindForDefine(virObjList *list, const char *name, const unsigned char *uuid,
                            virObjListItem **found);
/* How many objects are listed. */
size_t virObjListCount(const virObjList *list);

/* ---- lookup (takes the lock) ---- */

/* Lock the list and find the object of a handle by @uuid. Returns it with
 * the lock held; or NULL, the lock released, with VIR_ERR_NO_DOMAIN /
 * VIR_ERR_NO_NETWORK ("no domain 'NAME' (it was undefined)", @name being
 * the handle's). */
virObjListItem *virObjListLockObject(virObjList *list, const unsigned char *uuid,
                                     const char *name);

/* A new handle on @conn (a virDomainPtr or virNetworkPtr, after the list's
 * kind) for the object named @name, or with @uuid, or running with @id:
 * exactly one of @name / @uuid given (non-NULL); @id is used when both are
 * NULL. NULL with VIR_ERR_NO_DOMAIN / VIR_ERR_NO_NETWORK ("no domain named
 * 'x'", "no domain with UUID U", "no domain with ID N") or
 * VIR_ERR_NO_MEMORY. Thread-safe. */
void *virObjListLookup(virObjList *list, virConnectPtr conn, const char *name,
                       const unsigned char *uuid, int id);

/* ---- listing and iteration ---- */

/* Which objects a listing takes: @flags as given to the public call. */
typedef bool (*virObjListFilter)(const virObjListItem *item, unsigned int flags);

/* New handles on @conn for the listed objects @filter accepts (NULL:
 * libvirt's filter of ListAllDomains / ListAllNetworks on @flags, read
 * through the list's ops: virObjListMatchDomain / virObjListMatchNetwork),
 * in a NULL-terminated array the caller frees with its handles (@out NULL:
 * count only). Returns the count, or -1 (VIR_ERR_NO_MEMORY; nothing
 * returned). Thread-safe (takes the lock). */
int virObjListExport(virObjList *list, virConnectPtr conn, virObjListFilter filter,
                     unsigned int flags, void ***out);

/* A snapshot of the listed objects @filter accepts (NULL: all), each with a
 * new reference the caller drops with virObjListItemsRelease. Lock held or
 * not, as @locked says. Returns the count (*@out NULL when 0), or -1
 * (VIR_ERR_NO_MEMORY). */
int virObjListCollect(virObjList *list, bool locked, virObjListFilter filter,
                      unsigned int flags, virObjListItem ***out);
/* Drop the references of a collected array and free it. */
void virObjListItemsRelease(virObjListItem **items, int n);

/* One more reference on @item / drop one (the last frees the object). */
virObjListItem *virObjListItemRef(virObjListItem *item);
void virObjListItemUnref(virObjListItem *item);

/* ---- the calls that read one object (take the lock) ----
 *
 * Each finds the object of a handle (@uuid, @name) as virObjListLockObject
 * does (the same error when it is gone: -1), reads it, and releases the
 * lock. They are what a driver's slot of the same name returns. */

/* virDomainGetState: *@state, and *@reason unless NULL. 0 or -1. */
int virObjListGetState(virObjList *list, const unsigned char *uuid, const char *name,
                       int *state, int *reason);
/* virDomainGetID: the ID of an active domain, -1 otherwise (not an error
 * then, as libvirt's virDomainGetID returns (unsigned)-1). */
int virObjListGetID(virObjList *list, const unsigned char *uuid, const char *name);
/* virDomainIsActive / IsPersistent, virNetworkIsActive...: 1, 0, or -1. */
int virObjListIsActive(virObjList *list, const unsigned char *uuid, const char *name);
int virObjListIsPersistent(virObjList *list, const unsigned char *uuid, const char *name);
/* virDomainGetJobInfo / AbortJob on the object's job slot (see
 * virDriverJobSlotGetInfo / virDriverJobSlotAbort). 0 or -1. */
int virObjListGetJobInfo(virObjList *list, const unsigned char *uuid, const char *name,
                         virDomainJobInfoPtr info);
int virObjListAbortJob(virObjList *list, const unsigned char *uuid, const char *name);

/* ---- libvirt's list filters ---- */

/* The flags virConnectListAllDomains / ListAllNetworks know. */
#define VIR_OBJ_LIST_DOMAIN_FLAGS \
    (VIR_CONNECT_LIST_DOMAINS_ACTIVE | VIR_CONNECT_LIST_DOMAINS_INACTIVE | \
     VIR_CONNECT_LIST_DOMAINS_PERSISTENT | VIR_CONNECT_LIST_DOMAINS_TRANSIENT | \
     VIR_CONNECT_LIST_DOMAINS_RUNNING | VIR_CONNECT_LIST_DOMAINS_PAUSED | \
     VIR_CONNECT_LIST_DOMAINS_SHUTOFF | VIR_CONNECT_LIST_DOMAINS_OTHER)
#define VIR_OBJ_LIST_NETWORK_FLAGS \
    (VIR_CONNECT_LIST_NETWORKS_ACTIVE | VIR_CONNECT_LIST_NETWORKS_INACTIVE | \
     VIR_CONNECT_LIST_NETWORKS_PERSISTENT | VIR_CONNECT_LIST_NETWORKS_TRANSIENT)

/* Whether a domain that is @active, @persistent, in @state (virDomainState)
 * passes libvirt's filter @flags: within each group (active/inactive,
 * persistent/transient, running/paused/shutoff/other) one of the given
 * bits must match; a group with no bit given does not filter. */
bool virObjListMatchDomain(unsigned int flags, bool active, bool persistent, int state);
/* The same for a network (active/inactive, persistent/transient). */
bool virObjListMatchNetwork(unsigned int flags, bool active, bool persistent);
