/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu-reboot-test.c: virDomainReboot on the qemu driver, with the stand-in
 * for QEMU (tests/helpers/fake-qemu, which writes the system_reset it
 * gets to the guest's log). Its own program: qemu-driver-test is near
 * its time limit under valgrind.
 */
#include "qemutest.h"

static char fake[4096];

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "r");
    char *buf;
    long n;

    if (!f)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    assert_non_null(buf = malloc((size_t)n + 1));
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    if (len)
        *len = (size_t)n;
    return buf;
}

static int setupT(void **state)
{
    qtSetupWith(state, fake, "monitor_timeout=2000");
    return 0;
}

static virDomainPtr define(qemuT *t, const char *name, const char *mode, const char *extra)
{
    char xml[2048];
    snprintf(xml, sizeof(xml),
             "<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory>"
             "<os><type>hvm</type><kernel>/nonexistent/vmlinux</kernel>"
             "<cmdline>fake=%s</cmdline></os>%s<devices/></domain>",
             name, mode, extra ? extra : "");
    virDomainPtr dom = virDomainDefineXML(t->conn, xml);
    if (!dom)
        fail_msg("define %s: %s", name, virGetLastErrorMessage());
    return dom;
}

static void start(virDomainPtr dom)
{
    virJobPtr job = virDomainCreateJob(dom, 0);
    if (!job)
        fail_msg("CreateJob: %s", virGetLastErrorMessage());
    int st = qtJobEnd(job);
    if (st != VIR_JOB_COMPLETE)
        fail_msg("the start ended in state %d: %s", st, qtJobError(job));
    virJobDestroy(job);
}

/* virDomainReboot is a reset: QEMU gets system_reset (fake-qemu writes it
 * to the guest's log) and the guest runs on; the guest's part (ACPI,
 * agent) is refused by flag; an inactive guest cannot reboot. */
static void test_reboot(void **state)
{
    qemuT *t = *state;
    virDomainPtr dom;
    char log[PATH_MAX];
    int s, r;

    t->conn = qtOpen(t);
    dom = define(t, "rb", "normal", NULL);
    assert_int_equal(virDomainReboot(dom, 0), -1);
    assert_int_equal(virGetLastError()->code, VIR_ERR_OPERATION_INVALID);
    start(dom);
    snprintf(log, sizeof(log), "%s/rb.log", qemuDriverConfig(t->conn)->logDir);
    char *before = slurp(log, NULL);
    assert_null(strstr(before, "fake-qemu: system_reset"));
    free(before);

    assert_int_equal(virDomainReboot(dom, VIR_DOMAIN_REBOOT_ACPI_POWER_BTN), -1);
    assert_int_equal(virGetLastError()->code, VIR_ERR_ARGUMENT_UNSUPPORTED);
    assert_int_equal(virDomainReboot(dom, VIR_DOMAIN_REBOOT_GUEST_AGENT), -1);
    assert_int_equal(virGetLastError()->code, VIR_ERR_ARGUMENT_UNSUPPORTED);
    char *log1 = slurp(log, NULL);
    assert_null(strstr(log1, "fake-qemu: system_reset"));
    free(log1);

    /* The answer comes after QEMU took the command, which it logged first. */
    assert_int_equal(virDomainReboot(dom, 0), 0);
    char *after = slurp(log, NULL);
    assert_non_null(strstr(after, "fake-qemu: system_reset"));
    free(after);
    assert_int_equal(virDomainGetState(dom, &s, &r, 0), 0);
    assert_int_equal(s, VIR_DOMAIN_RUNNING);
    assert_int_equal(virDomainDestroy(dom), 0);
    assert_int_equal(virDomainUndefine(dom), 0);
    virDomainFree(dom);
}

int main(void)
{
    if (virEventRegisterDefaultImpl() < 0)
        return 1;
    snprintf(fake, sizeof(fake), "%s/tests/fake-qemu", qtBuildDir());
    if (access(fake, X_OK) < 0 || access(virShimPath(), X_OK) < 0) {
        printf("skipped: %s or %s is not built\n", fake, virShimPath());
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reboot, setupT, qtTeardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
