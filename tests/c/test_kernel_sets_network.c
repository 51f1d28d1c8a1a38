/*
 * Whole networks through the runner with every kernel set that this CPU
 * supports, against the runner with the reference kernels: the logits and
 * every activation value, bit for bit.
 */
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "picotag.h"
#include "test_check.h"
#include "test_model_writer.h"
#include "test_network_support.h"

/* The random_image stream of this test, unlike those of the other tests. */
#define IMAGE_STREAM 7

/* Returns the number of kernel sets whose logits or values differ from
 * the reference's on this model, input size and image. */
static int compare_sets_on_network(const test_model *description, const picotag_model *model, int height,
                                   int width, uint32_t image_seed, const char *label) {
    uint8_t *rgb = random_image(height, width, image_seed, IMAGE_STREAM);
    const int classes = picotag_model_class_count(model);
    network_run expected;
    run_network(model, "reference", 1, 1, height, width, rgb, description->value_count, &expected);

    int failing_sets = 0;
    for (size_t s = 0; s < picotag_kernel_set_count(); s++) {
        const picotag_kernel_set *set = picotag_kernel_set_at(s);
        if (set == &picotag_reference_kernel_set || !set->is_supported()) {
            continue;
        }
        for (int keep_all = 0; keep_all <= 1; keep_all++) {
            network_run actual;
            run_network(model, set->name, 1, keep_all, height, width, rgb, description->value_count, &actual);
            int same = memcmp(actual.logits, expected.logits, sizeof(int32_t) * (size_t)classes) == 0;
            if (!same) {
                printf("  %s on %s %dx%d: logits differ, first: expected %d, got %d\n", set->name, label,
                       height, width, expected.logits[0], actual.logits[0]);
            }
            for (uint32_t v = 0; keep_all && v < description->value_count; v++) {
                if (expected.values[v] == NULL) {
                    continue;
                }
                if (actual.sizes[v] != expected.sizes[v] ||
                    memcmp(actual.values[v], expected.values[v], expected.sizes[v]) != 0) {
                    printf("  %s on %s %dx%d: value %u differs\n", set->name, label, height, width, v);
                    same = 0;
                }
            }
            failing_sets += !same;
            free_network_run(&actual);
        }
    }
    free_network_run(&expected);
    free(rgb);
    return failing_sets;
}

static void kernel_sets_match_reference_on_mini_resnet(void) {
    static const int sizes[][2] = {{32, 32}, {17, 23}, {9, 9}, {1, 1}, {64, 48}, {3, 40}};
    for (uint64_t seed = 1; seed <= 4; seed++) {
        test_model *description = tm_mini_resnet(seed);
        picotag_model *model = load_test_model(description, "kernel-sets.ptm");
        for (size_t i = 0; model != NULL && i < sizeof(sizes) / sizeof(sizes[0]); i++) {
            CHECK_EQ(0, compare_sets_on_network(description, model, sizes[i][0], sizes[i][1],
                                                (uint32_t)(seed * 10 + i), "mini ResNet"));
        }
        picotag_model_free(model);
        tm_destroy(description);
    }
}

/* torchvision's channel counts (64 to 512) at small input sizes. */
static void kernel_sets_match_reference_on_standard_width_resnet18(void) {
    static const int sizes[][2] = {{64, 64}, {45, 37}};
    test_model *description = tm_resnet18(18, 64, 64);
    picotag_model *model = load_test_model(description, "kernel-sets.ptm");
    for (size_t i = 0; model != NULL && i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        CHECK_EQ(0, compare_sets_on_network(description, model, sizes[i][0], sizes[i][1], (uint32_t)(100 + i),
                                            "ResNet-18"));
    }

    /* The random network keeps information to the logits: they are not all
     * equal, so the comparison above is not trivially satisfied. */
    if (model != NULL) {
        uint8_t *rgb = random_image(64, 64, 100, IMAGE_STREAM);
        network_run run;
        run_network(model, NULL, 1, 0, 64, 64, rgb, description->value_count, &run);
        int distinct = 0;
        for (int k = 0; k < TM_COCO_CLASSES; k++) {
            int seen = 0;
            for (int j = 0; j < k && !seen; j++) {
                seen = run.logits[j] == run.logits[k];
            }
            distinct += !seen;
        }
        CHECK(distinct > 40);
        free_network_run(&run);
        free(rgb);
    }
    picotag_model_free(model);
    tm_destroy(description);
}

static void report_tested_sets(void) {
    for (size_t s = 0; s < picotag_kernel_set_count(); s++) {
        const picotag_kernel_set *set = picotag_kernel_set_at(s);
        if (set == &picotag_reference_kernel_set) {
            continue;
        }
        if (set->is_supported()) {
            printf("testing kernel set %s\n", set->name);
        } else {
            printf("SKIP kernel set %s: this CPU does not support it\n", set->name);
        }
    }
}

int main(void) {
    report_tested_sets();
    RUN_TEST(kernel_sets_match_reference_on_mini_resnet);
    RUN_TEST(kernel_sets_match_reference_on_standard_width_resnet18);
    return test_summary();
}
