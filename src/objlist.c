/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * objlist.c: the list of a driver's objects, the same for every driver
 * (see objlist.h).
 */
#include <stdio.h>
#include <string.h>

#include "objlist.h"
#include "util/internal.h"
#include "util/viralloc.h"
#include "util/virstring.h"

#define VIR_FROM_THIS (list->errDomain)
#include "util/virerror.h"

void virObjListInit(virObjList *list, virObjListKind kind, int errDomain,
                    pthread_mutex_t *lock, const virObjListOps *ops)
{
    memset(list, 0, sizeof(*list));
    list->kind = kind;
    list->errDomain = errDomain;
    list->lock = lock;
    list->ops = ops;
}

const char *virObjListKindName(const virObjList *list)
{
    return list->kind == VIR_OBJ_LIST_DOMAINS ? "domain" : "network";
}

static int noObjectCode(const virObjList *list)
{
    return list->kind == VIR_OBJ_LIST_DOMAINS ? VIR_ERR_NO_DOMAIN : VIR_ERR_NO_NETWORK;
}

/* ---- references ---- */

virObjListItem *virObjListItemRef(virObjListItem *item)
{
    __atomic_add_fetch(&item->refs, 1, __ATOMIC_RELAXED);
    return item;
}

void virObjListItemUnref(virObjListItem *item)
{
    if (!item || __atomic_sub_fetch(&item->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    free(item->name);
    item->name = NULL;
    item->dispose(item);
}

void virObjListItemsRelease(virObjListItem **items, int n)
{
    for (int i = 0; items && i < n; i++)
        virObjListItemUnref(items[i]);
    free(items);
}

/* ---- changes ---- */

int virObjListAdd(virObjList *list, virObjListItem *item, const char *name,
                  const unsigned char *uuid)
{
    virObjListItem **items;
    char *copy;

    if (virObjListFindByName(list, name) || virObjListFindByUUID(list, uuid)) {
        virReportError(VIR_ERR_OPERATION_FAILED, "%s '%s' already exists",
                       virObjListKindName(list), name);
        return -1;
    }
    if (!(copy = virStrdup(name)))
        return -1;
    if (!(items = virReallocN(list->items, list->n + 1, sizeof(*items)))) {
        free(copy);
        return -1;
    }
    list->items = items;
    item->name = copy;
    memcpy(item->uuid, uuid, VIR_UUID_BUFLEN);
    item->id = -1;
    item->listed = true;
    item->refs = 1;
    item->dispose = list->ops->dispose;
    list->items[list->n++] = item;
    return 0;
}

void virObjListRemove(virObjList *list, virObjListItem *item)
{
    for (size_t i = 0; i < list->n; i++) {
        if (list->items[i] == item) {
            /* Order is kept: listings show objects in the order they came. */
            memmove(&list->items[i], &list->items[i + 1],
                    (list->n - i - 1) * sizeof(*list->items));
            list->n--;
            item->listed = false;
            virObjListItemUnref(item);
            return;
        }
    }
}

void virObjListClear(virObjList *list)
{
    while (list->n > 0)
        virObjListRemove(list, list->items[list->n - 1]);
    free(list->items);
    list->items = NULL;
}

/* ---- lookup ---- */

virObjListItem *virObjListFindByName(virObjList *list, const char *name)
{
    for (size_t i = 0; i < list->n; i++)
        if (STREQ(list->items[i]->name, name))
            return list->items[i];
    return NULL;
}

virObjListItem *virObjListFindByUUID(virObjList *list, const unsigned char *uuid)
{
    for (size_t i = 0; i < list->n; i++)
        if (!memcmp(list->items[i]->uuid, uuid, VIR_UUID_BUFLEN))
            return list->items[i];
    return NULL;
}

virObjListItem *virObjListFindByID(virObjList *list, int id)
{
    if (id < 0)
        return NULL;
    for (size_t i = 0; i < list->n; i++)
        if (list->items[i]->id == id && list->ops->isActive(list->items[i]))
            return list->items[i];
    return NULL;
}

size_t virObjListCount(const virObjList *list)
{
    return list->n;
}

int virObjListFindForDefine(virObjList *list, const char *name, const unsigned char *uuid,
                            virObjListItem **found)
{
    virObjListItem *obj = virObjListFindByUUID(list, uuid);
    virObjListItem *byName = virObjListFindByName(list, name);
    int code = list->kind == VIR_OBJ_LIST_DOMAINS ? VIR_ERR_DOM_EXIST : VIR_ERR_NETWORK_EXIST;
    char str[VIR_UUID_STRING_BUFLEN];

    if (byName && byName != obj) {
        virUUIDFormat(byName->uuid, str);
        virReportError(code, "%s '%s' already exists with UUID %s",
                       virObjListKindName(list), name, str);
        return -1;
    }
    if (obj && STRNEQ(obj->name, name)) {
        virUUIDFormat(uuid, str);
        virReportError(code, "a %s with UUID %s already exists as '%s'",
                       virObjListKindName(list), str, obj->name);
        return -1;
    }
    *found = obj;
    return 0;
}

virObjListItem *virObjListLockObject(virObjList *list, const unsigned char *uuid,
                                     const char *name)
{
    virObjListItem *obj;

    pthread_mutex_lock(list->lock);
    if (!(obj = virObjListFindByUUID(list, uuid))) {
        pthread_mutex_unlock(list->lock);
        virReportError(noObjectCode(list), "no %s '%s' (it was undefined)",
                       virObjListKindName(list), name);
    }
    return obj;
}

/* A new handle for @item (lock held), or NULL with VIR_ERR_NO_MEMORY. */
static void *handleNew(virObjList *list, virConnectPtr conn, const virObjListItem *item)
{
    void *h;

    if (list->kind == VIR_OBJ_LIST_DOMAINS)
        h = virGetDomain(conn, item->name, item->uuid);
    else
        h = virGetNetwork(conn, item->name, item->uuid);
    if (!h)
        virReportOOMError();
    return h;
}

static void handleFree(virObjList *list, void *h)
{
    if (list->kind == VIR_OBJ_LIST_DOMAINS)
        virDomainFree(h);
    else
        virNetworkFree(h);
}

void *virObjListLookup(virObjList *list, virConnectPtr conn, const char *name,
                       const unsigned char *uuid, int id)
{
    virObjListItem *obj;
    void *h = NULL;
    char str[VIR_UUID_STRING_BUFLEN];

    pthread_mutex_lock(list->lock);
    if (name)
        obj = virObjListFindByName(list, name);
    else if (uuid)
        obj = virObjListFindByUUID(list, uuid);
    else
        obj = virObjListFindByID(list, id);
    if (obj)
        h = handleNew(list, conn, obj);
    pthread_mutex_unlock(list->lock);
    if (obj)
        return h;
    if (name) {
        virReportError(noObjectCode(list), "no %s named '%.64s'",
                       virObjListKindName(list), name);
    } else if (uuid) {
        virUUIDFormat(uuid, str);
        virReportError(noObjectCode(list), "no %s with UUID %s",
                       virObjListKindName(list), str);
    } else {
        virReportError(noObjectCode(list), "no %s with ID %d",
                       virObjListKindName(list), id);
    }
    return NULL;
}

/* ---- listing ---- */

static bool libvirtFilter(const virObjList *list, const virObjListItem *item,
                          unsigned int flags)
{
    bool active = list->ops->isActive(item), persistent = list->ops->isPersistent(item);
    int state = 0, reason = 0;

    if (list->kind == VIR_OBJ_LIST_NETWORKS)
        return virObjListMatchNetwork(flags, active, persistent);
    if (list->ops->getState)
        list->ops->getState(item, &state, &reason);
    return virObjListMatchDomain(flags, active, persistent, state);
}

int virObjListExport(virObjList *list, virConnectPtr conn, virObjListFilter filter,
                     unsigned int flags, void ***out)
{
    void **handles = NULL;
    int n = 0;

    pthread_mutex_lock(list->lock);
    if (out && !(handles = virAllocN(list->n + 1, sizeof(*handles))))
        goto error;
    for (size_t i = 0; i < list->n; i++) {
        if (filter ? !filter(list->items[i], flags) : !libvirtFilter(list, list->items[i], flags))
            continue;
        if (handles && !(handles[n] = handleNew(list, conn, list->items[i])))
            goto error;
        n++;
    }
    pthread_mutex_unlock(list->lock);
    if (out)
        *out = handles;
    return n;

 error:
    pthread_mutex_unlock(list->lock);
    for (int i = 0; handles && i < n; i++)
        handleFree(list, handles[i]);
    free(handles);
    return -1;
}

int virObjListCollect(virObjList *list, bool locked, virObjListFilter filter,
                      unsigned int flags, virObjListItem ***out)
{
    virObjListItem **items = NULL;
    int n = 0;

    if (!locked)
        pthread_mutex_lock(list->lock);
    if (list->n && !(items = virAllocN(list->n, sizeof(*items)))) {
        n = -1;
    } else {
        for (size_t i = 0; i < list->n; i++)
            if (!filter || filter(list->items[i], flags))
                items[n++] = virObjListItemRef(list->items[i]);
    }
    if (!locked)
        pthread_mutex_unlock(list->lock);
    if (n <= 0) {
        free(items);
        items = NULL;
    }
    *out = items;
    return n;
}

/* ---- the calls that read one object ---- */

int virObjListGetState(virObjList *list, const unsigned char *uuid, const char *name,
                       int *state, int *reason)
{
    virObjListItem *obj = virObjListLockObject(list, uuid, name);
    int r = 0;

    if (!obj)
        return -1;
    *state = VIR_DOMAIN_NOSTATE;
    if (list->ops->getState)
        list->ops->getState(obj, state, &r);
    pthread_mutex_unlock(list->lock);
    if (reason)
        *reason = r;
    return 0;
}

int virObjListGetID(virObjList *list, const unsigned char *uuid, const char *name)
{
    virObjListItem *obj = virObjListLockObject(list, uuid, name);
    int id;

    if (!obj)
        return -1;
    id = list->ops->isActive(obj) ? obj->id : -1;
    pthread_mutex_unlock(list->lock);
    return id;
}

/* One flag of the object (@persistent, else active): 1, 0, -1 reported. */
static int readFlag(virObjList *list, const unsigned char *uuid, const char *name,
                    bool persistent)
{
    virObjListItem *obj = virObjListLockObject(list, uuid, name);
    bool v;

    if (!obj)
        return -1;
    v = persistent ? list->ops->isPersistent(obj) : list->ops->isActive(obj);
    pthread_mutex_unlock(list->lock);
    return v ? 1 : 0;
}

int virObjListIsActive(virObjList *list, const unsigned char *uuid, const char *name)
{
    return readFlag(list, uuid, name, false);
}

int virObjListIsPersistent(virObjList *list, const unsigned char *uuid, const char *name)
{
    return readFlag(list, uuid, name, true);
}

/* The job slot of the object of a handle, the lock held; NULL reported
 * (the lock released) when the object is gone. */
static virDriverJobSlot *lockSlot(virObjList *list, const unsigned char *uuid,
                                  const char *name, virObjListItem **obj)
{
    if (!(*obj = virObjListLockObject(list, uuid, name)))
        return NULL;
    if (!list->ops->jobSlot) {
        pthread_mutex_unlock(list->lock);
        virReportError(VIR_ERR_NO_SUPPORT, "%ss of this driver run no jobs",
                       virObjListKindName(list));
        return NULL;
    }
    return list->ops->jobSlot(*obj);
}

int virObjListGetJobInfo(virObjList *list, const unsigned char *uuid, const char *name,
                         virDomainJobInfoPtr info)
{
    virObjListItem *obj;
    virDriverJobSlot *slot = lockSlot(list, uuid, name, &obj);
    int ret;

    if (!slot)
        return -1;
    /* Under the lock: the job is not destroyed before its done step has
     * released the slot, which takes this lock. */
    ret = virDriverJobSlotGetInfo(slot, info);
    pthread_mutex_unlock(list->lock);
    return ret;
}

int virObjListAbortJob(virObjList *list, const unsigned char *uuid, const char *name)
{
    virObjListItem *obj;
    virDriverJobSlot *slot = lockSlot(list, uuid, name, &obj);
    int ret;

    if (!slot)
        return -1;
    ret = virDriverJobSlotAbort(slot, virObjListKindName(list), obj->name);
    pthread_mutex_unlock(list->lock);
    return ret;
}

/* ---- libvirt's list filters ---- */

/* Within the group @bits of @flags, whether @yes (or @no) is set for @value. */
static bool groupMatch(unsigned int flags, unsigned int yes, unsigned int no, bool value)
{
    if (!(flags & (yes | no)))
        return true;
    return (flags & yes && value) || (flags & no && !value);
}

bool virObjListMatchDomain(unsigned int flags, bool active, bool persistent, int state)
{
    if (!groupMatch(flags, VIR_CONNECT_LIST_DOMAINS_ACTIVE,
                    VIR_CONNECT_LIST_DOMAINS_INACTIVE, active) ||
        !groupMatch(flags, VIR_CONNECT_LIST_DOMAINS_PERSISTENT,
                    VIR_CONNECT_LIST_DOMAINS_TRANSIENT, persistent))
        return false;
    if (!(flags & (VIR_CONNECT_LIST_DOMAINS_RUNNING | VIR_CONNECT_LIST_DOMAINS_PAUSED |
                   VIR_CONNECT_LIST_DOMAINS_SHUTOFF | VIR_CONNECT_LIST_DOMAINS_OTHER)))
        return true;
    return (flags & VIR_CONNECT_LIST_DOMAINS_RUNNING && state == VIR_DOMAIN_RUNNING) ||
           (flags & VIR_CONNECT_LIST_DOMAINS_PAUSED && state == VIR_DOMAIN_PAUSED) ||
           (flags & VIR_CONNECT_LIST_DOMAINS_SHUTOFF && state == VIR_DOMAIN_SHUTOFF) ||
           (flags & VIR_CONNECT_LIST_DOMAINS_OTHER && state != VIR_DOMAIN_RUNNING &&
            state != VIR_DOMAIN_PAUSED && state != VIR_DOMAIN_SHUTOFF);
}

bool virObjListMatchNetwork(unsigned int flags, bool active, bool persistent)
{
    return groupMatch(flags, VIR_CONNECT_LIST_NETWORKS_ACTIVE,
                      VIR_CONNECT_LIST_NETWORKS_INACTIVE, active) &&
           groupMatch(flags, VIR_CONNECT_LIST_NETWORKS_PERSISTENT,
                      VIR_CONNECT_LIST_NETWORKS_TRANSIENT, persistent);
}
