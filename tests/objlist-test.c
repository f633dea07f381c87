/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * objlist-test.c: the list of a driver's objects (src/objlist.c): adding
 * and finding by name, UUID and ID, the clash checks of a definition, the
 * lock-and-find of a handle's object, lookups and listings into handles
 * with libvirt's errors and filters, and references that keep an object
 * removed meanwhile alive (also from several threads, for TSan).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "objlist.h"
#include "util/internal.h"
#include "util/viralloc.h"
#include "util/virerror.h"

typedef struct fakeObj {
    virObjListItem item;
    int value;
    bool active, persistent;
    int state, reason;
    virDriverJobSlot slot;
} fakeObj;

static int disposed;     /* objects freed (atomic: several threads) */

static void fakeDispose(virObjListItem *item)
{
    __atomic_add_fetch(&disposed, 1, __ATOMIC_RELAXED);
    free(item);
}

static bool fakeActive(const virObjListItem *item)
{
    return ((const fakeObj *)item)->active;
}

static bool fakePersistent(const virObjListItem *item)
{
    return ((const fakeObj *)item)->persistent;
}

static void fakeState(const virObjListItem *item, int *state, int *reason)
{
    *state = ((const fakeObj *)item)->state;
    *reason = ((const fakeObj *)item)->reason;
}

static virDriverJobSlot *fakeSlot(virObjListItem *item)
{
    return &((fakeObj *)item)->slot;
}

static const virObjListOps fakeOps = {
    .dispose = fakeDispose, .isActive = fakeActive, .isPersistent = fakePersistent,
    .getState = fakeState, .jobSlot = fakeSlot,
};
static const virObjListOps fakeNetOps = {
    .dispose = fakeDispose, .isActive = fakeActive, .isPersistent = fakePersistent,
};

static void uuidOf(unsigned char *uuid, int n)
{
    memset(uuid, 0, VIR_UUID_BUFLEN);
    uuid[0] = 0xa0;
    uuid[15] = (unsigned char)n;
}

/* A new object named "objN" with UUID N added to @l (lock held or not
 * shared). */
static fakeObj *addObj(virObjList *l, int n)
{
    fakeObj *o = calloc(1, sizeof(*o));
    char name[32];
    unsigned char uuid[VIR_UUID_BUFLEN];

    assert_non_null(o);
    snprintf(name, sizeof(name), "obj%d", n);
    uuidOf(uuid, n);
    o->value = n;
    assert_int_equal(virObjListAdd(l, &o->item, name, uuid), 0);
    return o;
}

static void expectError(int code, int domain, const char *msg)
{
    const virError *e = virGetLastError();

    assert_non_null(e);
    assert_int_equal(e->code, code);
    if (domain >= 0)
        assert_int_equal(e->domain, domain);
    if (msg)
        assert_string_equal(e->message, msg);
    virResetLastError();
}

static void testAddFind(void **s)
{
    (void)s;
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    virObjList l;
    unsigned char uuid[VIR_UUID_BUFLEN];
    virObjListItem *found = NULL;
    char str[VIR_UUID_STRING_BUFLEN], want[160];

    disposed = 0;
    virObjListInit(&l, VIR_OBJ_LIST_DOMAINS, VIR_FROM_TEST, &lock, &fakeOps);
    fakeObj *a = addObj(&l, 1), *b = addObj(&l, 2);
    assert_int_equal(virObjListCount(&l), 2);
    assert_int_equal(a->item.id, -1);
    assert_true(a->item.listed);

    assert_ptr_equal(virObjListFindByName(&l, "obj2"), &b->item);
    assert_null(virObjListFindByName(&l, "obj3"));
    uuidOf(uuid, 1);
    assert_ptr_equal(virObjListFindByUUID(&l, uuid), &a->item);
    uuidOf(uuid, 3);
    assert_null(virObjListFindByUUID(&l, uuid));
    /* IDs: only an active object is found by its ID; -1 finds nothing. */
    assert_null(virObjListFindByID(&l, -1));
    b->item.id = 7;
    assert_null(virObjListFindByID(&l, 7));
    b->active = true;
    assert_ptr_equal(virObjListFindByID(&l, 7), &b->item);
    assert_null(virObjListFindByID(&l, 1));

    /* The name and UUID are the list's own copies. */
    char name[8] = "obj9";
    fakeObj *c = calloc(1, sizeof(*c));
    uuidOf(uuid, 9);
    assert_int_equal(virObjListAdd(&l, &c->item, name, uuid), 0);
    strcpy(name, "zzz");
    memset(uuid, 0, sizeof(uuid));
    assert_ptr_equal(virObjListFindByName(&l, "obj9"), &c->item);

    /* A second object with a listed name or UUID is refused; the caller
     * still owns it. */
    fakeObj *dup = calloc(1, sizeof(*dup));
    uuidOf(uuid, 5);
    assert_int_equal(virObjListAdd(&l, &dup->item, "obj1", uuid), -1);
    expectError(VIR_ERR_OPERATION_FAILED, VIR_FROM_TEST, NULL);
    uuidOf(uuid, 2);
    assert_int_equal(virObjListAdd(&l, &dup->item, "other", uuid), -1);
    expectError(VIR_ERR_OPERATION_FAILED, VIR_FROM_TEST, NULL);
    assert_null(dup->item.name);
    free(dup);
    assert_int_equal(virObjListCount(&l), 3);

    /* What a definition replaces, and the clashes it may not make. */
    uuidOf(uuid, 1);
    assert_int_equal(virObjListFindForDefine(&l, "obj1", uuid, &found), 0);
    assert_ptr_equal(found, &a->item);
    uuidOf(uuid, 4);
    assert_int_equal(virObjListFindForDefine(&l, "new", uuid, &found), 0);
    assert_null(found);
    assert_int_equal(virObjListFindForDefine(&l, "obj1", uuid, &found), -1);
    virUUIDFormat(a->item.uuid, str);
    snprintf(want, sizeof(want), "domain 'obj1' already exists with UUID %s", str);
    expectError(VIR_ERR_DOM_EXIST, VIR_FROM_TEST, want);
    uuidOf(uuid, 2);
    assert_int_equal(virObjListFindForDefine(&l, "renamed", uuid, &found), -1);
    virUUIDFormat(uuid, str);
    snprintf(want, sizeof(want), "a domain with UUID %s already exists as 'obj2'", str);
    expectError(VIR_ERR_DOM_EXIST, VIR_FROM_TEST, want);

    virObjList nets;
    virObjListInit(&nets, VIR_OBJ_LIST_NETWORKS, VIR_FROM_NETWORK, &lock, &fakeOps);
    addObj(&nets, 1);
    uuidOf(uuid, 2);
    assert_int_equal(virObjListFindForDefine(&nets, "obj1", uuid, &found), -1);
    expectError(VIR_ERR_NETWORK_EXIST, VIR_FROM_NETWORK, NULL);

    /* Removal keeps the others' order; Clear frees every object. */
    virObjListRemove(&l, &a->item);
    assert_int_equal(disposed, 1);
    assert_int_equal(virObjListCount(&l), 2);
    assert_ptr_equal(l.items[0], &b->item);
    assert_ptr_equal(l.items[1], &c->item);
    virObjListClear(&l);
    virObjListClear(&nets);
    assert_int_equal(disposed, 4);
    assert_int_equal(virObjListCount(&l), 0);
    /* Usable again after Clear. */
    addObj(&l, 1);
    virObjListClear(&l);
    assert_int_equal(disposed, 5);
}

static void testReferences(void **s)
{
    (void)s;
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    virObjList l;
    virObjListItem **items = NULL;

    disposed = 0;
    virObjListInit(&l, VIR_OBJ_LIST_DOMAINS, VIR_FROM_QEMU, &lock, &fakeOps);
    for (int i = 1; i <= 4; i++)
        addObj(&l, i);

    /* A snapshot holds its objects: one removed meanwhile stays valid,
     * marked unlisted, until the snapshot is released. */
    int n = virObjListCollect(&l, false, NULL, 0, &items);
    assert_int_equal(n, 4);
    pthread_mutex_lock(&lock);
    virObjListRemove(&l, items[1]);
    virObjListRemove(&l, items[1]);            /* not listed any more: nothing */
    pthread_mutex_unlock(&lock);
    assert_int_equal(disposed, 0);
    assert_false(items[1]->listed);
    assert_string_equal(items[1]->name, "obj2");
    assert_int_equal(((fakeObj *)items[1])->value, 2);
    virObjListItemsRelease(items, n);
    assert_int_equal(disposed, 1);

    /* Ref / Unref by hand. */
    virObjListItem *it = virObjListItemRef(l.items[0]);
    virObjListClear(&l);
    assert_int_equal(disposed, 3);
    assert_string_equal(it->name, "obj1");
    virObjListItemUnref(it);
    assert_int_equal(disposed, 4);
    virObjListItemUnref(NULL);

    /* An empty snapshot. */
    items = (virObjListItem **)&l;
    assert_int_equal(virObjListCollect(&l, false, NULL, 0, &items), 0);
    assert_null(items);
    virObjListItemsRelease(NULL, 0);
}

static bool evenOnly(const virObjListItem *item, unsigned int flags)
{
    return ((const fakeObj *)item)->value % 2 == (int)flags;
}

static void testLockAndLookup(void **s)
{
    (void)s;
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    virObjList doms, nets;
    unsigned char uuid[VIR_UUID_BUFLEN];
    virConnectPtr conn = virConnectOpen("test:///default");

    assert_non_null(conn);
    disposed = 0;
    virObjListInit(&doms, VIR_OBJ_LIST_DOMAINS, VIR_FROM_QEMU, &lock, &fakeOps);
    virObjListInit(&nets, VIR_OBJ_LIST_NETWORKS, VIR_FROM_TEST, &lock, &fakeNetOps);
    for (int i = 1; i <= 5; i++)
        addObj(&doms, i);
    addObj(&nets, 1);
    ((fakeObj *)doms.items[2])->item.id = 3;
    ((fakeObj *)doms.items[2])->active = true;

    /* The lock-and-find of a handle's object: held on success only. */
    uuidOf(uuid, 2);
    virObjListItem *it = virObjListLockObject(&doms, uuid, "obj2");
    assert_non_null(it);
    assert_int_equal(pthread_mutex_trylock(&lock), EBUSY);
    pthread_mutex_unlock(&lock);
    uuidOf(uuid, 9);
    assert_null(virObjListLockObject(&doms, uuid, "gone"));
    expectError(VIR_ERR_NO_DOMAIN, VIR_FROM_QEMU, "no domain 'gone' (it was undefined)");
    assert_int_equal(pthread_mutex_trylock(&lock), 0);
    pthread_mutex_unlock(&lock);
    assert_null(virObjListLockObject(&nets, uuid, "n"));
    expectError(VIR_ERR_NO_NETWORK, VIR_FROM_TEST, "no network 'n' (it was undefined)");

    /* Lookups give new handles, or libvirt's errors. */
    virDomainPtr d = virObjListLookup(&doms, conn, "obj4", NULL, -1);
    assert_non_null(d);
    assert_string_equal(virDomainGetName(d), "obj4");
    virDomainFree(d);
    uuidOf(uuid, 5);
    d = virObjListLookup(&doms, conn, NULL, uuid, -1);
    assert_non_null(d);
    assert_string_equal(virDomainGetName(d), "obj5");
    virDomainFree(d);
    d = virObjListLookup(&doms, conn, NULL, NULL, 3);
    assert_non_null(d);
    assert_string_equal(virDomainGetName(d), "obj3");
    virDomainFree(d);
    assert_null(virObjListLookup(&doms, conn, "nope", NULL, -1));
    expectError(VIR_ERR_NO_DOMAIN, VIR_FROM_QEMU, "no domain named 'nope'");
    assert_null(virObjListLookup(&doms, conn, NULL, NULL, 4));
    expectError(VIR_ERR_NO_DOMAIN, VIR_FROM_QEMU, "no domain with ID 4");
    assert_null(virObjListLookup(&doms, conn, NULL, NULL, -1));
    expectError(VIR_ERR_NO_DOMAIN, VIR_FROM_QEMU, "no domain with ID -1");
    uuidOf(uuid, 9);
    char str[VIR_UUID_STRING_BUFLEN], want[96];
    virUUIDFormat(uuid, str);
    snprintf(want, sizeof(want), "no domain with UUID %s", str);
    assert_null(virObjListLookup(&doms, conn, NULL, uuid, -1));
    expectError(VIR_ERR_NO_DOMAIN, VIR_FROM_QEMU, want);
    virNetworkPtr n = virObjListLookup(&nets, conn, "obj1", NULL, -1);
    assert_non_null(n);
    assert_string_equal(virNetworkGetName(n), "obj1");
    virNetworkFree(n);
    assert_null(virObjListLookup(&nets, conn, "obj2", NULL, -1));
    expectError(VIR_ERR_NO_NETWORK, VIR_FROM_TEST, "no network named 'obj2'");

    /* Listings: filtered, in order, or only counted. */
    virDomainPtr *list = NULL;
    assert_int_equal(virObjListExport(&doms, conn, evenOnly, 0, (void ***)&list), 2);
    assert_string_equal(virDomainGetName(list[0]), "obj2");
    assert_string_equal(virDomainGetName(list[1]), "obj4");
    assert_null(list[2]);
    for (int i = 0; list[i]; i++)
        virDomainFree(list[i]);
    free(list);
    assert_int_equal(virObjListExport(&doms, conn, evenOnly, 1, NULL), 3);
    assert_int_equal(virObjListExport(&doms, conn, NULL, 0, NULL), 5);
    /* No filter given: libvirt's, read through the ops. */
    ((fakeObj *)doms.items[0])->persistent = true;
    assert_int_equal(virObjListExport(&doms, conn, NULL, VIR_CONNECT_LIST_DOMAINS_ACTIVE,
                                      NULL), 1);
    assert_int_equal(virObjListExport(&doms, conn, NULL,
                                      VIR_CONNECT_LIST_DOMAINS_INACTIVE |
                                      VIR_CONNECT_LIST_DOMAINS_TRANSIENT, NULL), 3);
    ((fakeObj *)nets.items[0])->active = true;
    assert_int_equal(virObjListExport(&nets, conn, NULL, VIR_CONNECT_LIST_NETWORKS_ACTIVE,
                                      NULL), 1);
    assert_int_equal(virObjListExport(&nets, conn, NULL,
                                      VIR_CONNECT_LIST_NETWORKS_PERSISTENT, NULL), 0);
    virNetworkPtr *nl = NULL;
    assert_int_equal(virObjListExport(&nets, conn, NULL, 0, (void ***)&nl), 1);
    assert_string_equal(virNetworkGetName(nl[0]), "obj1");
    virNetworkFree(nl[0]);
    free(nl);

    virObjListClear(&doms);
    virObjListClear(&nets);
    assert_int_equal(disposed, 6);
    assert_int_equal(virConnectClose(conn), 0);
}

/* The calls that read one object under the lock. */
static void testReadCalls(void **s)
{
    (void)s;
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    virObjList doms, nets;
    unsigned char uuid[VIR_UUID_BUFLEN], gone[VIR_UUID_BUFLEN];
    int state = -5, reason = -5;
    virDomainJobInfo info;

    disposed = 0;
    virObjListInit(&doms, VIR_OBJ_LIST_DOMAINS, VIR_FROM_QEMU, &lock, &fakeOps);
    virObjListInit(&nets, VIR_OBJ_LIST_NETWORKS, VIR_FROM_NETWORK, &lock, &fakeNetOps);
    fakeObj *a = addObj(&doms, 1);
    addObj(&nets, 1);
    uuidOf(uuid, 1);
    uuidOf(gone, 2);
    a->state = VIR_DOMAIN_PAUSED;
    a->reason = VIR_DOMAIN_PAUSED_USER;
    a->item.id = 4;

    assert_int_equal(virObjListGetState(&doms, uuid, "obj1", &state, &reason), 0);
    assert_int_equal(state, VIR_DOMAIN_PAUSED);
    assert_int_equal(reason, VIR_DOMAIN_PAUSED_USER);
    assert_int_equal(virObjListGetState(&doms, uuid, "obj1", &state, NULL), 0);
    assert_int_equal(virObjListGetState(&doms, gone, "x", &state, &reason), -1);
    expectError(VIR_ERR_NO_DOMAIN, VIR_FROM_QEMU, "no domain 'x' (it was undefined)");

    /* An inactive domain has no ID (and it is no error). */
    assert_int_equal(virObjListGetID(&doms, uuid, "obj1"), -1);
    assert_null(virGetLastError());
    assert_int_equal(virObjListIsActive(&doms, uuid, "obj1"), 0);
    a->active = true;
    assert_int_equal(virObjListGetID(&doms, uuid, "obj1"), 4);
    assert_int_equal(virObjListIsActive(&doms, uuid, "obj1"), 1);
    assert_int_equal(virObjListIsPersistent(&doms, uuid, "obj1"), 0);
    a->persistent = true;
    assert_int_equal(virObjListIsPersistent(&doms, uuid, "obj1"), 1);
    assert_int_equal(virObjListGetID(&doms, gone, "x"), -1);
    expectError(VIR_ERR_NO_DOMAIN, VIR_FROM_QEMU, NULL);
    assert_int_equal(virObjListIsActive(&doms, gone, "x"), -1);
    expectError(VIR_ERR_NO_DOMAIN, VIR_FROM_QEMU, NULL);
    assert_int_equal(virObjListIsPersistent(&nets, gone, "n"), -1);
    expectError(VIR_ERR_NO_NETWORK, VIR_FROM_NETWORK, "no network 'n' (it was undefined)");
    assert_int_equal(virObjListIsActive(&nets, uuid, "obj1"), 0);

    /* The job slot: no job, then one starting. */
    assert_int_equal(virObjListGetJobInfo(&doms, uuid, "obj1", &info), 0);
    assert_int_equal(info.type, VIR_DOMAIN_JOB_NONE);
    assert_int_equal(virObjListAbortJob(&doms, uuid, "obj1"), -1);
    expectError(VIR_ERR_OPERATION_INVALID, -1, "domain 'obj1' has no active job");
    uint64_t token;
    assert_int_equal(virDriverJobSlotTake(&a->slot, "x.save", "domain", "obj1", &token), 0);
    assert_int_equal(virObjListGetJobInfo(&doms, uuid, "obj1", &info), 0);
    assert_int_equal(info.type, VIR_DOMAIN_JOB_BOUNDED);
    assert_true(virDriverJobSlotRelease(&a->slot, token));
    assert_int_equal(virObjListGetJobInfo(&doms, gone, "x", &info), -1);
    expectError(VIR_ERR_NO_DOMAIN, VIR_FROM_QEMU, NULL);
    /* Objects without job slots. */
    assert_int_equal(virObjListAbortJob(&nets, uuid, "obj1"), -1);
    expectError(VIR_ERR_NO_SUPPORT, VIR_FROM_NETWORK, NULL);
    /* Every failure released the lock. */
    assert_int_equal(pthread_mutex_trylock(&lock), 0);
    pthread_mutex_unlock(&lock);

    virObjListClear(&doms);
    virObjListClear(&nets);
    assert_int_equal(disposed, 2);
}

static void testFilters(void **s)
{
    (void)s;
    const unsigned int act = VIR_CONNECT_LIST_DOMAINS_ACTIVE;
    const unsigned int inact = VIR_CONNECT_LIST_DOMAINS_INACTIVE;
    const unsigned int pers = VIR_CONNECT_LIST_DOMAINS_PERSISTENT;
    const unsigned int trans = VIR_CONNECT_LIST_DOMAINS_TRANSIENT;

    /* No flag: everything. */
    assert_true(virObjListMatchDomain(0, false, false, VIR_DOMAIN_SHUTOFF));
    /* Within a group, one given bit must match; groups combine. */
    assert_true(virObjListMatchDomain(act, true, false, VIR_DOMAIN_RUNNING));
    assert_false(virObjListMatchDomain(act, false, true, VIR_DOMAIN_SHUTOFF));
    assert_true(virObjListMatchDomain(act | inact, false, true, VIR_DOMAIN_SHUTOFF));
    assert_false(virObjListMatchDomain(act | trans, true, true, VIR_DOMAIN_RUNNING));
    assert_true(virObjListMatchDomain(act | pers, true, true, VIR_DOMAIN_PAUSED));
    assert_true(virObjListMatchDomain(VIR_CONNECT_LIST_DOMAINS_PAUSED, true, true,
                                      VIR_DOMAIN_PAUSED));
    assert_false(virObjListMatchDomain(VIR_CONNECT_LIST_DOMAINS_PAUSED, true, true,
                                       VIR_DOMAIN_RUNNING));
    assert_true(virObjListMatchDomain(VIR_CONNECT_LIST_DOMAINS_SHUTOFF, false, true,
                                      VIR_DOMAIN_SHUTOFF));
    assert_true(virObjListMatchDomain(VIR_CONNECT_LIST_DOMAINS_OTHER, true, true,
                                      VIR_DOMAIN_PMSUSPENDED));
    assert_false(virObjListMatchDomain(VIR_CONNECT_LIST_DOMAINS_OTHER, true, true,
                                       VIR_DOMAIN_RUNNING));
    assert_true(virObjListMatchDomain(VIR_CONNECT_LIST_DOMAINS_RUNNING |
                                      VIR_CONNECT_LIST_DOMAINS_SHUTOFF, false, false,
                                      VIR_DOMAIN_SHUTOFF));

    assert_true(virObjListMatchNetwork(0, false, false));
    assert_true(virObjListMatchNetwork(VIR_CONNECT_LIST_NETWORKS_ACTIVE, true, false));
    assert_false(virObjListMatchNetwork(VIR_CONNECT_LIST_NETWORKS_ACTIVE, false, false));
    assert_false(virObjListMatchNetwork(VIR_CONNECT_LIST_NETWORKS_INACTIVE |
                                        VIR_CONNECT_LIST_NETWORKS_PERSISTENT, false, false));
    assert_true(virObjListMatchNetwork(VIR_CONNECT_LIST_NETWORKS_INACTIVE |
                                       VIR_CONNECT_LIST_NETWORKS_TRANSIENT, false, false));
}

/* ---- threads: snapshots taken and walked while objects come and go ---- */

#define ROUNDS 2000

typedef struct threadCtx {
    virObjList *list;
    pthread_mutex_t *lock;
    int seen;
} threadCtx;

static void *walker(void *opaque)
{
    threadCtx *t = opaque;

    for (int r = 0; r < ROUNDS; r++) {
        virObjListItem **items = NULL;
        int n = virObjListCollect(t->list, false, NULL, 0, &items);
        if (n < 0)
            return NULL;
        /* The lock is not held: the snapshot's objects stay valid. */
        for (int i = 0; i < n; i++)
            t->seen += ((fakeObj *)items[i])->value > 0;
        virObjListItemsRelease(items, n);
    }
    return NULL;
}

static void testThreads(void **s)
{
    (void)s;
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    virObjList l;
    threadCtx t = { .list = &l, .lock = &lock };
    pthread_t th;

    disposed = 0;
    virObjListInit(&l, VIR_OBJ_LIST_DOMAINS, VIR_FROM_TEST, &lock, &fakeOps);
    assert_int_equal(pthread_create(&th, NULL, walker, &t), 0);
    for (int r = 0; r < ROUNDS; r++) {
        pthread_mutex_lock(&lock);
        addObj(&l, r % 200 + 1);
        if (l.n > 3)
            virObjListRemove(&l, l.items[0]);
        pthread_mutex_unlock(&lock);
    }
    pthread_join(th, NULL);
    pthread_mutex_lock(&lock);
    virObjListClear(&l);
    pthread_mutex_unlock(&lock);
    assert_int_equal(__atomic_load_n(&disposed, __ATOMIC_RELAXED), ROUNDS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testAddFind),
        cmocka_unit_test(testReferences),
        cmocka_unit_test(testLockAndLookup),
        cmocka_unit_test(testReadCalls),
        cmocka_unit_test(testFilters),
        cmocka_unit_test(testThreads),
    };
    virErrorSetQuiet(true);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
