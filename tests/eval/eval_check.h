/*
 * Checks for the evaluation tests, on top of tests/c/test_check.h: floating
 * point values within a tolerance, NaN, and string equality. Every check
 * counts toward the final "N passed, M failed" line.
 */
#ifndef PICOTAG_TESTS_EVAL_CHECK_H
#define PICOTAG_TESTS_EVAL_CHECK_H

#include <math.h>

#include "test_check.h"

/* Metrics are sums of a few hundred ratios at most, so 1e-12 is far above
 * rounding noise and far below any real difference. */
#define EVAL_TOLERANCE 1e-12

static inline int test_check_near(double expected, double actual, const char *expected_text,
                                  const char *actual_text, const char *file, int line) {
    const int ok = fabs(expected - actual) <= EVAL_TOLERANCE;
    test_record(ok);
    if (!ok) {
        printf("FAIL %s (%s:%d): %s == %s\n  expected: %.17g\n  actual:   %.17g\n", test_current_name,
               file, line, expected_text, actual_text, expected, actual);
    }
    return ok;
}

static inline int test_check_nan(double actual, const char *actual_text, const char *file, int line) {
    const int ok = isnan(actual);
    test_record(ok);
    if (!ok) {
        printf("FAIL %s (%s:%d): expected NaN: %s\n  actual: %.17g\n", test_current_name, file, line,
               actual_text, actual);
    }
    return ok;
}

static inline int test_check_string(const char *expected, const char *actual, const char *actual_text,
                                    const char *file, int line) {
    const int ok = expected != NULL && actual != NULL && strcmp(expected, actual) == 0;
    test_record(ok);
    if (!ok) {
        printf("FAIL %s (%s:%d): %s\n  expected: \"%s\"\n  actual:   \"%s\"\n", test_current_name, file,
               line, actual_text, expected != NULL ? expected : "(null)",
               actual != NULL ? actual : "(null)");
    }
    return ok;
}

#define CHECK_NEAR(expected, actual) \
    test_check_near((double)(expected), (double)(actual), #expected, #actual, __FILE__, __LINE__)
#define CHECK_NAN(actual) test_check_nan((double)(actual), #actual, __FILE__, __LINE__)
#define CHECK_STRING(expected, actual) test_check_string((expected), (actual), #actual, __FILE__, __LINE__)

#endif
