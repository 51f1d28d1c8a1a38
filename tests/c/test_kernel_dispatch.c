/*
 * Which kernel set the library picks on this CPU, for runs under qemu with
 * a chosen CPU model:
 *
 *     test_kernel_dispatch EXPECTED_BEST [SUPPORTED_SET ...]
 *
 * checks that picotag_kernel_set_best() is EXPECTED_BEST, that exactly the
 * listed sets (and the reference) report support, that a runner without a
 * kernel name uses EXPECTED_BEST, and that PICOTAG_KERNELS selects each
 * supported set and rejects the others.
 */
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "picotag.h"
#include "test_check.h"
#include "test_model_writer.h"

static int expected_supported(const char *name, int argc, char **argv) {
    if (strcmp(name, "reference") == 0) {
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(name, argv[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

static void best_set_and_support_match_cpu(int argc, char **argv) {
    const char *best = picotag_kernel_set_best()->name;
    if (!CHECK(strcmp(best, argv[1]) == 0)) {
        printf("  best kernel set: expected %s, got %s\n", argv[1], best);
    }
    CHECK(picotag_kernel_set_find(argv[1]) != NULL);

    for (size_t i = 0; i < picotag_kernel_set_count(); i++) {
        const picotag_kernel_set *set = picotag_kernel_set_at(i);
        const int supported = set->is_supported() != 0;
        printf("kernel set %s: %s\n", set->name, supported ? "supported" : "not supported");
        if (!CHECK_EQ(expected_supported(set->name, argc, argv), supported)) {
            printf("  kernel set %s\n", set->name);
        }
    }
}

static void runner_uses_best_set_and_environment(int argc, char **argv) {
    test_model *description = tm_tiny_model(7);
    test_model_file file;
    picotag_model *model = NULL;
    picotag_error error;
    if (!CHECK_EQ(0, tm_serialize(description, &file))) {
        tm_destroy(description);
        return;
    }
    CHECK_STATUS(PICOTAG_OK, picotag_model_load_memory(file.bytes, file.size, "dispatch.ptm", &model, &error),
                 error.message);
    tm_file_free(&file);

    picotag_runner *runner = NULL;
    unsetenv("PICOTAG_KERNELS");
    if (CHECK_STATUS(PICOTAG_OK, picotag_runner_create(model, 16, 16, NULL, &runner, &error), error.message)) {
        CHECK_CONTAINS(picotag_runner_kernels(runner), argv[1]);
        picotag_runner_free(runner);
    }

    for (size_t i = 0; i < picotag_kernel_set_count(); i++) {
        const char *name = picotag_kernel_set_at(i)->name;
        setenv("PICOTAG_KERNELS", name, 1);
        const picotag_status status = picotag_runner_create(model, 16, 16, NULL, &runner, &error);
        if (expected_supported(name, argc, argv)) {
            if (CHECK_STATUS(PICOTAG_OK, status, error.message)) {
                CHECK_CONTAINS(picotag_runner_kernels(runner), name);
                picotag_runner_free(runner);
            }
        } else {
            CHECK_STATUS(PICOTAG_ERROR_UNSUPPORTED, status, error.message);
            CHECK_CONTAINS(error.message, "is not supported by this CPU");
        }
    }
    unsetenv("PICOTAG_KERNELS");

    picotag_model_free(model);
    tm_destroy(description);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        printf("usage: test_kernel_dispatch EXPECTED_BEST [SUPPORTED_SET ...]\n");
        return 2;
    }
    test_current_name = "best_set_and_support_match_cpu";
    best_set_and_support_match_cpu(argc, argv);
    test_current_name = "runner_uses_best_set_and_environment";
    runner_uses_best_set_and_environment(argc, argv);
    return test_summary();
}
