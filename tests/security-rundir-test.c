/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * security-rundir-test.c: the run directory and the segment files under
 * hostile conditions a malicious local user can arrange: the run directory
 * replaced by a symlink, owned by someone else, writable by others, not a
 * directory; the segment's name taken in advance (file, symlink); a
 * reader pointed at a symlink or a FIFO. And who may read a segment: a
 * user in its group can, anyone else gets a permission error that says so.
 * Root only (it changes owners and ids); skipped otherwise.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <grp.h>

#include "jobtest.h"
#include "shm/segment.h"

static char base[64];

static int setup(void **s)
{
    (void)s;
    strcpy(base, "/tmp/virtsup-rundir-XXXXXX");
    return mkdtemp(base) ? 0 : -1;
}

static int teardown(void **s)
{
    (void)s;
    testRemoveDir(base);
    unsetenv("VIRTSUP_RUNDIR");
    return 0;
}

static void useRunDir(const char *path)
{
    setenv("VIRTSUP_RUNDIR", path, 1);
}

/* virShmRunDir(true) fails, and its message contains @what. */
static void runDirRefused(const char *what)
{
    char *d = virShmRunDir(true);
    if (d)
        fail_msg("run directory %s accepted; expected a refusal (%s)", d, what);
    if (!strstr(virGetLastErrorMessage(), what))
        fail_msg("refusal says '%s', expected it to mention '%s'",
                 virGetLastErrorMessage(), what);
}

static void testRunDirHostile(void **s)
{
    (void)s;
    char real[128], link[128], path[128];

    /* Fresh: created 0750, ours. */
    snprintf(path, sizeof(path), "%s/fresh", base);
    useRunDir(path);
    char *d = virShmRunDir(true);
    assert_non_null(d);
    struct stat sb;
    assert_int_equal(lstat(path, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    assert_int_equal(sb.st_mode & 07777, 0750);
    assert_int_equal(sb.st_uid, geteuid());
    free(d);

    /* Replaced by a symlink to a directory we own. */
    snprintf(real, sizeof(real), "%s/real", base);
    snprintf(link, sizeof(link), "%s/link", base);
    assert_int_equal(mkdir(real, 0750), 0);
    assert_int_equal(symlink(real, link), 0);
    useRunDir(link);
    runDirRefused("symbolic link");

    /* Owned by another user. */
    snprintf(path, sizeof(path), "%s/theirs", base);
    assert_int_equal(mkdir(path, 0750), 0);
    assert_int_equal(chown(path, 65534, 65534), 0);
    useRunDir(path);
    runDirRefused("owned by uid 65534");

    /* Writable by others (a planted name could be swapped under us). */
    snprintf(path, sizeof(path), "%s/open", base);
    assert_int_equal(mkdir(path, 0750), 0);
    assert_int_equal(chmod(path, 0777), 0);
    useRunDir(path);
    runDirRefused("writable by group or others");

    /* Not a directory. */
    snprintf(path, sizeof(path), "%s/file", base);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    close(fd);
    useRunDir(path);
    runDirRefused("not a directory");
}

static void segmentPath(const char *dir, char *out, size_t len)
{
    snprintf(out, len, "%s/%d-%" PRIu64 ".seg", dir, (int)getpid(),
             virShmProcStartTime(getpid()));
}

static void testSegmentNameTaken(void **s)
{
    (void)s;
    char dir[128], seg[256], victim[128];
    snprintf(dir, sizeof(dir), "%s/segs", base);
    assert_int_equal(mkdir(dir, 0750), 0);
    segmentPath(dir, seg, sizeof(seg));

    /* A symlink planted under the name: not followed, the victim intact. */
    snprintf(victim, sizeof(victim), "%s/victim", base);
    int fd = open(victim, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "keep", 4), 4);
    close(fd);
    assert_int_equal(symlink(victim, seg), 0);
    assert_null(virShmSegmentCreate(dir, 4));
    assert_non_null(strstr(virGetLastErrorMessage(), "File exists"));
    struct stat sb;
    assert_int_equal(stat(victim, &sb), 0);
    assert_int_equal(sb.st_size, 4);
    assert_int_equal(sb.st_mode & 07777, 0644);
    /* A reader pointed at the symlink refuses it too. */
    assert_null(virShmSegmentOpen(seg));
    assert_non_null(strstr(virGetLastErrorMessage(), "Too many levels of symbolic links"));
    assert_int_equal(unlink(seg), 0);

    /* A file another user created under the name: left alone. */
    fd = open(seg, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    assert_true(fd >= 0);
    assert_int_equal(fchown(fd, 65534, 65534), 0);
    close(fd);
    assert_null(virShmSegmentCreate(dir, 4));
    assert_int_equal(lstat(seg, &sb), 0);
    assert_int_equal(sb.st_uid, 65534);
    assert_int_equal(sb.st_size, 0);
    assert_int_equal(unlink(seg), 0);

    /* A FIFO: a reader does not hang in open, and says what is wrong. */
    assert_int_equal(mkfifo(seg, 0644), 0);
    assert_null(virShmSegmentOpen(seg));
    assert_non_null(strstr(virGetLastErrorMessage(), "not a regular file"));
    assert_int_equal(unlink(seg), 0);

    /* And with the name free: a regular file, ours, 0640, whatever the umask. */
    mode_t old = umask(077);
    virShmSegment *sg = virShmSegmentCreate(dir, 4);
    umask(old);
    assert_non_null(sg);
    assert_int_equal(lstat(seg, &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
    assert_int_equal(sb.st_mode & 07777, 0640);
    assert_int_equal(sb.st_uid, geteuid());
    virShmSegmentDestroy(sg);
    assert_int_equal(access(seg, F_OK), -1);
}

/* In a child: become uid/gid 65534 with @group as the only supplementary
 * group (or none), open @seg; exit 0 if opened, 1 if refused with EACCES
 * and a message naming the file and the reason, 2 otherwise. */
static int openAs(const char *seg, gid_t group, bool withGroup)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (setgroups(withGroup ? 1 : 0, &group) < 0 || setresgid(65534, 65534, 65534) < 0 ||
            setresuid(65534, 65534, 65534) < 0)
            _exit(3);
        virShmSegment *sg = virShmSegmentOpen(seg);
        if (sg) {
            virShmSegmentClose(sg);
            _exit(0);
        }
        const char *m = virGetLastErrorMessage();
        _exit(strstr(m, seg) && strstr(m, "Permission denied") ? 1 : 2);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static void testSegmentGroupReaders(void **s)
{
    (void)s;
    char dir[128], seg[256];
    snprintf(dir, sizeof(dir), "%s/shared", base);
    /* The run directory as root makes it (0750), in a parent the others
     * can traverse. */
    assert_int_equal(chmod(base, 0755), 0);
    useRunDir(dir);
    char *d = virShmRunDir(true);
    assert_non_null(d);
    virShmSegment *sg = virShmSegmentCreate(d, 4);
    assert_non_null(sg);
    segmentPath(d, seg, sizeof(seg));
    struct stat sb;
    assert_int_equal(stat(seg, &sb), 0);

    assert_int_equal(openAs(seg, sb.st_gid, true), 0);   /* in the group: reads */
    assert_int_equal(openAs(seg, sb.st_gid, false), 1);  /* others: EACCES, said */

    virShmSegmentDestroy(sg);
    free(d);
    chmod(base, 0700);
}

int main(void)
{
    if (geteuid() != 0) {
        fprintf(stderr, "security-rundir-test: skipped: needs root (changes owners "
                "and ids)\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testRunDirHostile),
        cmocka_unit_test(testSegmentNameTaken),
        cmocka_unit_test(testSegmentGroupReaders),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
