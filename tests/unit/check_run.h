/* The end of every unit-test program: run the suite (each test in a child
 * process unless CK_FORK=no), print Check's summary line, and exit 1 if any
 * test failed. */
#ifndef PS_CHECK_RUN_H
#define PS_CHECK_RUN_H

#include <check.h>
#include <stdlib.h>

static inline int ps_check_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
