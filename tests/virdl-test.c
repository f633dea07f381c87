/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virdl-test.c: virDLLoad fills every slot or none.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <unistd.h>

#include "util/internal.h"
#include "util/virdl.h"

static void testLoaded(void **s)
{
    (void)s;
    pid_t (*myGetpid)(void) = NULL;
    size_t (*myStrlen)(const char *) = NULL;
    const virDLSym syms[] = {
        { "getpid", (void **)&myGetpid },
        { "strlen", (void **)&myStrlen },
    };
    char why[200] = "";

    void *lib = virDLLoad("libc.so.6", syms, ARRAY_CARDINALITY(syms), why, sizeof(why));
    assert_non_null(lib);
    assert_string_equal(why, "");
    assert_int_equal(myGetpid(), getpid());
    assert_int_equal(myStrlen("four"), 4);
}

static void testNothingWritten(void **s)
{
    (void)s;
    void *a = (void *)&a, *b = (void *)&b;
    const virDLSym syms[] = {
        { "getpid", &a },
        { "virdl_test_no_such_symbol", &b },
    };
    char why[200] = "";

    assert_null(virDLLoad("libc.so.6", syms, ARRAY_CARDINALITY(syms), why, sizeof(why)));
    assert_string_equal(why, "libc.so.6 has no virdl_test_no_such_symbol");
    assert_ptr_equal(a, (void *)&a);    /* the symbol found was not written either */
    assert_ptr_equal(b, (void *)&b);

    assert_null(virDLLoad("libvirdl-test-none.so.9", syms, 1, why, sizeof(why)));
    assert_non_null(strstr(why, "libvirdl-test-none.so.9"));
    assert_ptr_equal(a, (void *)&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testLoaded),
        cmocka_unit_test(testNothingWritten),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
