/*
 * bench_kernels: the time of one ResNet-18 forward pass with each kernel
 * set that this CPU supports, on one thread, with random weights from the
 * test model writer, so that anyone can reproduce the numbers.
 *
 *     bench_kernels [--runs N] [--size PIXELS] [--width CHANNELS] [--kernels NAME]
 *
 * For each set it prints the median and the shortest time of N runs
 * (after one warm-up run), the multiply-accumulates per second at the
 * median, and their fraction of this core's int8 peak. The shortest time
 * shows what the kernels do when no other process shares the core. The peak is measured with a loop of independent
 * VPDPBUSD (64 int8 multiply-accumulates each) when the CPU has AVX-512
 * VNNI, so it reflects the clock the core really runs at. Every set's
 * logits are checked against the reference set's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "int8_peak.h"
#include "kernels/kernels.h"
#include "picotag.h"
#include "test_model_writer.h"

#define MAX_RUNS 1000

typedef struct bench_options {
    int runs;
    int size;
    int width;
    const char *kernels;         /* NULL: every supported set */
} bench_options;

typedef struct network_work {
    double conv_macs;
    double fully_connected_macs;
} network_work;

static int parse_positive(const char *text, int maximum, int *value) {
    char *end = NULL;
    const long parsed = strtol(text, &end, 10);
    if (end == text || *end != '\0' || parsed < 1 || parsed > maximum) {
        return 0;
    }
    *value = (int)parsed;
    return 1;
}

static int parse_options(int argc, char **argv, bench_options *options) {
    options->runs = 5;
    options->size = 224;
    options->width = 64;
    options->kernels = NULL;
    for (int i = 1; i < argc; i++) {
        const int has_value = i + 1 < argc;
        if (strcmp(argv[i], "--runs") == 0 && has_value) {
            if (!parse_positive(argv[++i], MAX_RUNS, &options->runs)) {
                fprintf(stderr, "bench_kernels: --runs must be 1 to %d\n", MAX_RUNS);
                return 0;
            }
        } else if (strcmp(argv[i], "--size") == 0 && has_value) {
            if (!parse_positive(argv[++i], 4096, &options->size)) {
                fprintf(stderr, "bench_kernels: --size must be 1 to 4096 pixels\n");
                return 0;
            }
        } else if (strcmp(argv[i], "--width") == 0 && has_value) {
            if (!parse_positive(argv[++i], 256, &options->width)) {
                fprintf(stderr, "bench_kernels: --width must be 1 to 256 channels\n");
                return 0;
            }
        } else if (strcmp(argv[i], "--kernels") == 0 && has_value) {
            options->kernels = argv[++i];
        } else {
            fprintf(stderr, "usage: bench_kernels [--runs N] [--size PIXELS] [--width CHANNELS] "
                            "[--kernels NAME]\n");
            return 0;
        }
    }
    return 1;
}

static int window_output(int in, uint32_t kernel, uint32_t stride, uint32_t pad) {
    return (in + 2 * (int)pad - (int)kernel) / (int)stride + 1;
}

/* Counts the multiply-accumulates of one forward pass from the model
 * description, following the shapes from the input size. */
static network_work count_work(const test_model *model, int size) {
    network_work work = {0.0, 0.0};
    int height[TM_MAX_VALUES] = {0};
    int width[TM_MAX_VALUES] = {0};
    height[0] = size;
    width[0] = size;

    for (uint32_t i = 0; i < model->op_count; i++) {
        const uint32_t *words = model->ops[i];
        const uint32_t input = words[1];
        const uint32_t output = words[2];
        const uint32_t in_c = model->values[input].channels;
        const uint32_t out_c = model->values[output].channels;
        switch (words[0]) {
        case TM_CONV2D:
        case TM_MAXPOOL:
            height[output] = window_output(height[input], words[4], words[6], words[8]);
            width[output] = window_output(width[input], words[5], words[7], words[9]);
            if (words[0] == TM_CONV2D) {
                work.conv_macs += (double)height[output] * width[output] * out_c * words[4] * words[5] * in_c;
            }
            break;
        case TM_FULLY_CONNECTED:
            work.fully_connected_macs += (double)in_c * out_c;
            /* fall through */
        default:
            height[output] = 1;
            width[output] = 1;
            break;
        }
    }
    return work;
}

static double seconds_now(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + 1e-9 * (double)now.tv_nsec;
}

static int compare_doubles(const void *a, const void *b) {
    const double x = *(const double *)a;
    const double y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Returns the first "cpu MHz" of /proc/cpuinfo, or 0 where there is none.
 * A virtual machine may report a nominal clock. */
static double reported_megahertz(void) {
    FILE *cpuinfo = fopen("/proc/cpuinfo", "r");
    if (cpuinfo == NULL) {
        return 0.0;
    }
    char line[512];
    double megahertz = 0.0;
    while (fgets(line, sizeof(line), cpuinfo) != NULL) {
        if (strncmp(line, "cpu MHz", 7) == 0) {
            const char *colon = strchr(line, ':');
            if (colon != NULL) {
                megahertz = strtod(colon + 1, NULL);
            }
            break;
        }
    }
    fclose(cpuinfo);
    return megahertz;
}

typedef struct run_times {
    double median_seconds;
    double shortest_seconds;
} run_times;

/* Times `options->runs` forward passes with one kernel set and stores the
 * median and shortest time and the logits of the last run. */
static int time_kernel_set(const picotag_model *model, const char *kernels, const bench_options *options,
                           const uint8_t *rgb, int32_t *logits, run_times *result) {
    picotag_runner *runner = NULL;
    picotag_error error;
    const picotag_runner_options runner_options = {.kernels = kernels, .threads = 1, .keep_all_values = 0};
    if (picotag_runner_create(model, options->size, options->size, &runner_options, &runner, &error) !=
        PICOTAG_OK) {
        fprintf(stderr, "bench_kernels: %s\n", error.message);
        return 0;
    }

    double times[MAX_RUNS];
    int ok = picotag_runner_run(runner, rgb, logits, &error) == PICOTAG_OK;
    for (int r = 0; ok && r < options->runs; r++) {
        const double start = seconds_now();
        ok = picotag_runner_run(runner, rgb, logits, &error) == PICOTAG_OK;
        times[r] = seconds_now() - start;
    }
    if (!ok) {
        fprintf(stderr, "bench_kernels: %s\n", error.message);
    }
    picotag_runner_free(runner);

    qsort(times, (size_t)options->runs, sizeof(double), compare_doubles);
    const int middle = options->runs / 2;
    result->median_seconds = times[middle];
    if (options->runs % 2 == 0) {
        result->median_seconds = 0.5 * (times[middle - 1] + times[middle]);
    }
    result->shortest_seconds = times[0];
    return ok;
}

static uint8_t *random_image(int size) {
    const size_t bytes = (size_t)size * size * 3;
    uint8_t *rgb = malloc(bytes);
    uint32_t state = 12345;
    for (size_t i = 0; rgb != NULL && i < bytes; i++) {
        state = state * 1664525u + 1013904223u;
        rgb[i] = (uint8_t)(state >> 24);
    }
    return rgb;
}

static picotag_model *build_model(const bench_options *options, network_work *work) {
    test_model *description = tm_resnet18(1, (uint32_t)options->width, (uint32_t)options->size);
    test_model_file file;
    if (description == NULL || tm_serialize(description, &file) != 0) {
        fprintf(stderr, "bench_kernels: out of memory writing the model\n");
        tm_destroy(description);
        return NULL;
    }
    *work = count_work(description, options->size);
    tm_destroy(description);

    picotag_model *model = NULL;
    picotag_error error;
    const picotag_status status =
        picotag_model_load_memory(file.bytes, file.size, "resnet18-random.ptm", &model, &error);
    tm_file_free(&file);
    if (status != PICOTAG_OK) {
        fprintf(stderr, "bench_kernels: %s\n", error.message);
        return NULL;
    }
    return model;
}

/* Returns the measured int8 peak in multiply-accumulates per second, or 0
 * when this CPU has no AVX-512 VNNI to measure it with. */
static double measure_peak(void) {
#if defined(PICOTAG_X86_KERNELS)
    if (picotag_avx512vnni_kernel_set.is_supported()) {
        return bench_int8_peak_macs_per_second_avx512vnni();
    }
#endif
    return 0.0;
}

int main(int argc, char **argv) {
    bench_options options;
    if (!parse_options(argc, argv, &options)) {
        return 2;
    }

    network_work work = {0.0, 0.0};
    picotag_model *model = build_model(&options, &work);
    uint8_t *rgb = random_image(options.size);
    if (model == NULL || rgb == NULL) {
        return 1;
    }
    const double macs = work.conv_macs + work.fully_connected_macs;
    const double peak = measure_peak();
    printf("ResNet-18 width %d, %dx%d input, random weights: %.3f GMAC per image "
           "(fully connected %.6f)\n",
           options.width, options.size, options.size, macs * 1e-9, work.fully_connected_macs * 1e-9);
    printf("1 thread, median of %d runs after 1 warm-up; cpu MHz in /proc/cpuinfo: %.0f\n", options.runs,
           reported_megahertz());
    if (peak > 0.0) {
        printf("int8 peak, measured with a loop of independent VPDPBUSD: %.1f GMAC/s\n", peak * 1e-9);
    } else {
        printf("int8 peak: not measured (no AVX-512 VNNI)\n");
    }
    printf("\n%-12s %10s %10s %9s %10s %13s %8s\n", "kernel set", "median ms", "min ms", "GMAC/s",
           "% of peak", "x reference", "logits");

    int32_t reference_logits[PICOTAG_MAX_CLASSES];
    run_times reference = {0.0, 0.0};
    int status = 0;
    if (!time_kernel_set(model, "reference", &options, rgb, reference_logits, &reference)) {
        status = 1;
    }
    const int classes = picotag_model_class_count(model);

    for (size_t s = picotag_kernel_set_count(); s-- > 0 && status == 0;) {
        const picotag_kernel_set *set = picotag_kernel_set_at(s);
        if (options.kernels != NULL && strcmp(options.kernels, set->name) != 0 &&
            set != &picotag_reference_kernel_set) {
            continue;
        }
        if (!set->is_supported()) {
            printf("%-12s skipped: this CPU does not support it\n", set->name);
            continue;
        }
        int32_t logits[PICOTAG_MAX_CLASSES];
        run_times times = reference;
        if (set != &picotag_reference_kernel_set &&
            !time_kernel_set(model, set->name, &options, rgb, logits, &times)) {
            status = 1;
            break;
        }
        const int equal = set == &picotag_reference_kernel_set ||
                          memcmp(logits, reference_logits, sizeof(int32_t) * (size_t)classes) == 0;
        const double rate = macs / times.median_seconds;
        char share[32] = "-";
        if (peak > 0.0) {
            snprintf(share, sizeof(share), "%.1f", 100.0 * rate / peak);
        }
        printf("%-12s %10.2f %10.2f %9.2f %10s %13.1f %8s\n", set->name, times.median_seconds * 1e3,
               times.shortest_seconds * 1e3, rate * 1e-9, share,
               reference.median_seconds / times.median_seconds, equal ? "equal" : "DIFFER");
        if (!equal) {
            status = 1;
        }
    }

    free(rgb);
    picotag_model_free(model);
    return status;
}
