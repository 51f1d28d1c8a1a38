/*
 * A minimal test harness: checks that print the expected and actual values
 * on failure, and a summary line "N passed, M failed" counted per check.
 */
#ifndef PICOTAG_TESTS_TEST_CHECK_H
#define PICOTAG_TESTS_TEST_CHECK_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "picotag.h"

static int test_checks_passed;
static int test_checks_failed;
static const char *test_current_name = "";

static inline void test_record(int ok) {
    if (ok) {
        test_checks_passed++;
    } else {
        test_checks_failed++;
    }
}

static inline int test_check_int(int64_t expected, int64_t actual, const char *expected_text,
                                 const char *actual_text, const char *file, int line) {
    const int ok = expected == actual;
    test_record(ok);
    if (!ok) {
        printf("FAIL %s (%s:%d): %s == %s\n  expected: %" PRId64 "\n  actual:   %" PRId64 "\n",
               test_current_name, file, line, expected_text, actual_text, expected, actual);
    }
    return ok;
}

static inline int test_check_true(int condition, const char *text, const char *file, int line) {
    test_record(condition);
    if (!condition) {
        printf("FAIL %s (%s:%d): expected true: %s\n", test_current_name, file, line, text);
    }
    return condition;
}

static inline int test_check_contains(const char *haystack, const char *needle, const char *file,
                                      int line) {
    const int ok = haystack != NULL && needle != NULL && strstr(haystack, needle) != NULL;
    test_record(ok);
    if (!ok) {
        printf("FAIL %s (%s:%d): expected text containing \"%s\"\n  actual: \"%s\"\n",
               test_current_name, file, line, needle != NULL ? needle : "(null)",
               haystack != NULL ? haystack : "(null)");
    }
    return ok;
}

static inline int test_check_status(picotag_status expected, picotag_status actual,
                                    const char *message, const char *file, int line) {
    const int ok = expected == actual;
    test_record(ok);
    if (!ok) {
        printf("FAIL %s (%s:%d): expected status \"%s\", got \"%s\"\n  message: %s\n",
               test_current_name, file, line, picotag_status_name(expected),
               picotag_status_name(actual), message != NULL ? message : "");
    }
    return ok;
}

/* Returns the process exit status: 0 when every check passed. */
static inline int test_summary(void) {
    printf("%d passed, %d failed\n", test_checks_passed, test_checks_failed);
    return test_checks_failed == 0 ? 0 : 1;
}

#define CHECK_EQ(expected, actual) \
    test_check_int((int64_t)(expected), (int64_t)(actual), #expected, #actual, __FILE__, __LINE__)
#define CHECK(condition) test_check_true((condition) ? 1 : 0, #condition, __FILE__, __LINE__)
#define CHECK_CONTAINS(haystack, needle) test_check_contains((haystack), (needle), __FILE__, __LINE__)
#define CHECK_STATUS(expected, actual, message) \
    test_check_status((expected), (actual), (message), __FILE__, __LINE__)

/* Runs one test function, naming it in failure messages. */
#define RUN_TEST(function)               \
    do {                                 \
        test_current_name = #function;   \
        function();                      \
    } while (0)

#endif
