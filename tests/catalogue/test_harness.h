/*
 * A minimal test harness for the catalogue tests: each test is a function,
 * a failed check prints where and what was expected, and the run ends with
 * the line "N passed, M failed" (", K skipped" when any were skipped).
 */
#ifndef PICOTAG_TEST_HARNESS_H
#define PICOTAG_TEST_HARNESS_H

#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "picotag.h"

static int harness_current_failed;
static int harness_current_skipped;
static int harness_passed;
static int harness_failed;
static int harness_skipped;

/* Prints where a check failed and why, and marks the test failed. */
static void harness_check_failed(const char *file, int line, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static void harness_check_failed(const char *file, int line, const char *format, ...) {
    harness_current_failed = 1;
    fprintf(stderr, "    %s:%d: ", file, line);
    va_list args;
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fputc('\n', stderr);
}

#define CHECK(condition)                                                              \
    do {                                                                              \
        if (!(condition)) {                                                           \
            harness_check_failed(__FILE__, __LINE__, "check failed: %s", #condition); \
        }                                                                             \
    } while (0)

#define CHECK_INT(expected, actual)                                                   \
    do {                                                                              \
        long long expected_value_ = (long long)(expected);                            \
        long long actual_value_ = (long long)(actual);                                \
        if (expected_value_ != actual_value_) {                                       \
            harness_check_failed(__FILE__, __LINE__, "%s: expected %lld, got %lld",   \
                                 #actual, expected_value_, actual_value_);            \
        }                                                                             \
    } while (0)

#define CHECK_STR(expected, actual)                                                   \
    do {                                                                              \
        const char *expected_text_ = (expected);                                      \
        const char *actual_text_ = (actual);                                          \
        if (actual_text_ == NULL || strcmp(expected_text_, actual_text_) != 0) {      \
            harness_check_failed(__FILE__, __LINE__, "%s: expected \"%s\", got \"%s\"", \
                                 #actual, expected_text_,                             \
                                 actual_text_ != NULL ? actual_text_ : "(null)");     \
        }                                                                             \
    } while (0)

/* Checks that `text` contains `part`. */
#define CHECK_CONTAINS(text, part)                                                    \
    do {                                                                              \
        const char *haystack_ = (text);                                               \
        if (haystack_ == NULL || strstr(haystack_, (part)) == NULL) {                 \
            harness_check_failed(__FILE__, __LINE__,                                  \
                                 "%s: \"%s\" does not contain \"%s\"", #text,         \
                                 haystack_ != NULL ? haystack_ : "(null)", (part));   \
        }                                                                             \
    } while (0)

#define CHECK_NOT_CONTAINS(text, part)                                                \
    do {                                                                              \
        const char *haystack_ = (text);                                               \
        if (haystack_ != NULL && strstr(haystack_, (part)) != NULL) {                 \
            harness_check_failed(__FILE__, __LINE__, "%s: \"%s\" contains \"%s\"",     \
                                 #text, haystack_, (part));                           \
        }                                                                             \
    } while (0)

/* Checks a status and shows the error message when it is not the expected one. */
#define CHECK_STATUS(expected, status, error)                                         \
    do {                                                                              \
        picotag_status status_value_ = (status);                                      \
        if (status_value_ != (expected)) {                                            \
            harness_check_failed(__FILE__, __LINE__,                                  \
                                 "%s: expected status %d, got %d (%s)", #status,      \
                                 (int)(expected), (int)status_value_,                 \
                                 (error).message);                                    \
        }                                                                             \
    } while (0)

#define CHECK_OK(status, error) CHECK_STATUS(PICOTAG_OK, status, error)

/* Marks the running test as skipped, with the reason. */
static inline void harness_skip(const char *reason) {
    harness_current_skipped = 1;
    fprintf(stderr, "    skipped: %s\n", reason);
}

static inline void harness_run(const char *name, void (*test)(void)) {
    harness_current_failed = 0;
    harness_current_skipped = 0;
    test();
    if (harness_current_failed) {
        harness_failed++;
        printf("FAIL %s\n", name);
    } else if (harness_current_skipped) {
        harness_skipped++;
        printf("skip %s\n", name);
    } else {
        harness_passed++;
        printf("ok   %s\n", name);
    }
    fflush(stdout);
}

#define RUN_TEST(test) harness_run(#test, test)

static inline int harness_finish(void) {
    if (harness_skipped > 0) {
        printf("%d passed, %d failed, %d skipped\n", harness_passed, harness_failed,
               harness_skipped);
    } else {
        printf("%d passed, %d failed\n", harness_passed, harness_failed);
    }
    return harness_failed == 0 ? 0 : 1;
}

/* ---- Scratch folders ----------------------------------------------------- */

/* Creates a fresh folder under $TMPDIR (or /tmp); the caller frees the path. */
static inline char *make_scratch_folder(void) {
    const char *base = getenv("TMPDIR");
    if (base == NULL || base[0] == '\0') {
        base = "/tmp";
    }
    size_t size = strlen(base) + 32;
    char *path = malloc(size);
    if (path == NULL) {
        return NULL;
    }
    snprintf(path, size, "%s/picotag-test-XXXXXX", base);
    if (mkdtemp(path) == NULL) {
        free(path);
        return NULL;
    }
    return path;
}

static inline int remove_entry(const char *path, const struct stat *info, int type, struct FTW *ftw) {
    (void)info;
    (void)type;
    (void)ftw;
    return remove(path);
}

static inline void remove_scratch_folder(char *path) {
    if (path != NULL) {
        nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(path);
    }
}

/* Writes `text` to `path`; returns 1 on success. */
static inline int write_text_file(const char *path, const char *text) {
    FILE *file = fopen(path, "wb");
    if (file == NULL) {
        return 0;
    }
    size_t length = strlen(text);
    int ok = fwrite(text, 1, length, file) == length;
    return fclose(file) == 0 && ok;
}

/* Reads a whole file into a NUL-terminated buffer (free it), or NULL. */
static inline char *read_text_file(const char *path) {
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        return NULL;
    }
    size_t capacity = 4096;
    size_t used = 0;
    char *data = malloc(capacity);
    while (data != NULL) {
        if (used + 1 == capacity) {
            char *grown = realloc(data, capacity * 2);
            if (grown == NULL) {
                free(data);
                data = NULL;
                break;
            }
            data = grown;
            capacity *= 2;
        }
        size_t got = fread(data + used, 1, capacity - used - 1, file);
        if (got == 0) {
            break;
        }
        used += got;
    }
    fclose(file);
    if (data != NULL) {
        data[used] = '\0';
    }
    return data;
}

#endif
