/* picotag bench MODEL: time the network and each operator on random input. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "picotag.h"
#include "tools/bench_report.h"
#include "tools/commands.h"

#define BENCH_MAX_RUNS 100000

typedef struct bench_arguments {
    const char *model_path;
    const char *kernels;     /* NULL: the fastest this CPU supports */
    int threads;
    int runs;
    int warmup;
    int height;              /* 0: the model's input size */
    int width;
    int json;
} bench_arguments;

static void print_bench_usage(FILE *stream) {
    fprintf(stream,
            "usage: picotag bench MODEL [--threads N] [--kernels NAME] [--runs N] [--warmup N]\n"
            "                     [--size HxW] [--json]\n"
            "\n"
            "Runs MODEL on a random image, --warmup times untimed and then --runs times\n"
            "timed, and prints the median, quartiles, minimum and maximum time of the\n"
            "whole network and of each operator, their multiply-accumulates (MAC) and\n"
            "GMAC/s, and the memory the runner holds: packed weights against the int8\n"
            "weights of the file, activation and kernel scratch against the largest\n"
            "operator's input and output, and the process's resident memory.\n"
            "\n"
            "options:\n"
            "  --threads N      threads that share each run, 1 to %d (default 1)\n"
            "  --kernels NAME   kernel set (default: the fastest this CPU supports)\n"
            "  --runs N         timed runs, 1 to %d (default 20)\n"
            "  --warmup N       untimed runs first, 0 to %d (default 2)\n"
            "  --size HxW       input height x width in pixels (default: the model's)\n"
            "  --json           print one JSON object, times in nanoseconds\n"
            "\n"
            "Operator times are read on the calling thread between operators; the\n"
            "network time is read around the whole run.\n"
            "\n"
            "Exit status: 0 success, 1 the model cannot be loaded or run, 2 usage error.\n",
            PICOTAG_MAX_THREADS, BENCH_MAX_RUNS, BENCH_MAX_RUNS);
}

/* Parses an integer in [minimum, maximum]. Returns 0 for anything else. */
static int parse_count(const char *text, int minimum, int maximum, int *count) {
    errno = 0;
    char *end = NULL;
    const long value = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < minimum || value > maximum) {
        return 0;
    }
    *count = (int)value;
    return 1;
}

/* Parses "HxW" with both sides in [1, 65536]. */
static int parse_size(const char *text, int *height, int *width) {
    const char *separator = strchr(text, 'x');
    if (separator == NULL || separator == text) {
        return 0;
    }
    char height_text[16];
    const size_t height_length = (size_t)(separator - text);
    if (height_length >= sizeof(height_text)) {
        return 0;
    }
    memcpy(height_text, text, height_length);
    height_text[height_length] = '\0';
    return parse_count(height_text, 1, 65536, height) && parse_count(separator + 1, 1, 65536, width);
}

typedef enum parse_result {
    PARSE_OK,
    PARSE_HELP,
    PARSE_ERROR
} parse_result;

/* Parses the value of a counting option, or prints what it expects. */
static int parse_count_option(const char *option, const char *text, int minimum, int maximum, int *count) {
    if (!parse_count(text, minimum, maximum, count)) {
        fprintf(stderr, "picotag bench: %s expects a whole number from %d to %d, got '%s'\n", option, minimum,
                maximum, text);
        return 0;
    }
    return 1;
}

static parse_result parse_bench_arguments(int argc, char **argv, bench_arguments *args) {
    memset(args, 0, sizeof(*args));
    args->threads = 1;
    args->runs = 20;
    args->warmup = 2;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const int has_value = i + 1 < argc;
        int ok = 1;

        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            return PARSE_HELP;
        } else if (strcmp(arg, "--json") == 0) {
            args->json = 1;
        } else if (strcmp(arg, "--kernels") == 0 && has_value) {
            args->kernels = argv[++i];
        } else if (strcmp(arg, "--threads") == 0 && has_value) {
            ok = parse_count_option(arg, argv[++i], 1, PICOTAG_MAX_THREADS, &args->threads);
        } else if (strcmp(arg, "--runs") == 0 && has_value) {
            ok = parse_count_option(arg, argv[++i], 1, BENCH_MAX_RUNS, &args->runs);
        } else if (strcmp(arg, "--warmup") == 0 && has_value) {
            ok = parse_count_option(arg, argv[++i], 0, BENCH_MAX_RUNS, &args->warmup);
        } else if (strcmp(arg, "--size") == 0 && has_value) {
            if (!parse_size(argv[++i], &args->height, &args->width)) {
                fprintf(stderr,
                        "picotag bench: --size expects HEIGHTxWIDTH in pixels, each 1 to 65536, "
                        "e.g. 224x224; got '%s'\n",
                        argv[i]);
                ok = 0;
            }
        } else if (arg[0] == '-') {
            fprintf(stderr, "picotag bench: unknown option '%s', or it is missing its value\n", arg);
            ok = 0;
        } else if (args->model_path == NULL) {
            args->model_path = arg;
        } else {
            fprintf(stderr, "picotag bench: unexpected argument '%s'\n", arg);
            ok = 0;
        }
        if (!ok) {
            return PARSE_ERROR;
        }
    }
    if (args->model_path == NULL) {
        fprintf(stderr, "picotag bench: missing MODEL\n");
        return PARSE_ERROR;
    }
    return PARSE_OK;
}

static uint64_t monotonic_nanoseconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * UINT64_C(1000000000) + (uint64_t)now.tv_nsec;
}

/* A reproducible image of uniform bytes: a fixed-seed LCG. */
static void fill_random_image(uint8_t *rgb, size_t bytes) {
    uint32_t state = 12345u;
    for (size_t i = 0; i < bytes; i++) {
        state = state * 1664525u + 1013904223u;
        rgb[i] = (uint8_t)(state >> 24);
    }
}

/* Memory for the measurements: per run, the whole network's time and
 * each operator's. */
typedef struct bench_samples {
    uint64_t *total;            /* [runs] */
    uint64_t *op_nanoseconds;   /* [runs][op_count] */
    uint64_t *column;           /* [runs]: one operator across the runs */
    uint8_t *rgb;
    int32_t *logits;
} bench_samples;

static void free_samples(bench_samples *samples) {
    free(samples->total);
    free(samples->op_nanoseconds);
    free(samples->column);
    free(samples->rgb);
    free(samples->logits);
}

static int allocate_samples(bench_samples *samples, int runs, int op_count, size_t image_bytes) {
    samples->total = calloc((size_t)runs, sizeof(uint64_t));
    samples->op_nanoseconds = calloc((size_t)runs * (size_t)op_count, sizeof(uint64_t));
    samples->column = calloc((size_t)runs, sizeof(uint64_t));
    samples->rgb = malloc(image_bytes);
    samples->logits = calloc(PICOTAG_MAX_CLASSES, sizeof(int32_t));
    return samples->total != NULL && samples->op_nanoseconds != NULL && samples->column != NULL &&
           samples->rgb != NULL && samples->logits != NULL;
}

/* Runs the warm-up and timed runs; returns 0 after printing an error. */
static int measure(picotag_runner *runner, const bench_arguments *args, bench_samples *samples) {
    const int op_count = picotag_runner_op_count(runner);
    picotag_error error;
    for (int i = 0; i < args->warmup; i++) {
        if (picotag_runner_run(runner, samples->rgb, samples->logits, &error) != PICOTAG_OK) {
            fprintf(stderr, "picotag bench: %s\n", error.message);
            return 0;
        }
    }
    for (int r = 0; r < args->runs; r++) {
        uint64_t *ops = samples->op_nanoseconds + (size_t)r * (size_t)op_count;
        const uint64_t start = monotonic_nanoseconds();
        const picotag_status status = picotag_runner_run_profiled(runner, samples->rgb, samples->logits, ops,
                                                                  (size_t)op_count, &error);
        samples->total[r] = monotonic_nanoseconds() - start;
        if (status != PICOTAG_OK) {
            fprintf(stderr, "picotag bench: %s\n", error.message);
            return 0;
        }
    }
    return 1;
}

/* Fills the report's times and operator descriptions from the samples. */
static int summarize(picotag_runner *runner, const bench_arguments *args, bench_samples *samples,
                     bench_report *report) {
    const int op_count = picotag_runner_op_count(runner);
    report->layers = calloc((size_t)op_count, sizeof(*report->layers));
    if (report->layers == NULL) {
        fprintf(stderr, "picotag bench: out of memory\n");
        return 0;
    }
    report->layer_count = op_count;
    report->total = bench_spread_of(samples->total, args->runs);
    for (int i = 0; i < op_count; i++) {
        picotag_runner_op_info(runner, i, &report->layers[i].info);
        report->total_macs += report->layers[i].info.macs;
        for (int r = 0; r < args->runs; r++) {
            samples->column[r] = samples->op_nanoseconds[(size_t)r * (size_t)op_count + (size_t)i];
        }
        report->layers[i].time = bench_spread_of(samples->column, args->runs);
    }
    return 1;
}

static int bench_model(const bench_arguments *args, picotag_model *model) {
    const picotag_preprocess *preprocess = picotag_model_preprocess(model);
    bench_report report = {
        .model_path = args->model_path,
        .threads = args->threads,
        .height = args->height > 0 ? args->height : (int)preprocess->input_height,
        .width = args->width > 0 ? args->width : (int)preprocess->input_width,
        .runs = args->runs,
        .warmup = args->warmup,
    };
    picotag_model_summarize(model, &report.model);
    bench_resident_read(&report.resident_before);

    picotag_error error;
    picotag_runner *runner = NULL;
    const picotag_runner_options options = {.kernels = args->kernels, .threads = args->threads};
    if (picotag_runner_create(model, report.height, report.width, &options, &runner, &error) != PICOTAG_OK) {
        fprintf(stderr, "picotag bench: %s\n", error.message);
        return EXIT_STATUS_RUNTIME_ERROR;
    }
    report.kernels = picotag_runner_kernels(runner);
    picotag_runner_memory_usage(runner, &report.memory);

    bench_samples samples = {0};
    const size_t image_bytes = (size_t)report.height * (size_t)report.width * 3;
    int ok = allocate_samples(&samples, args->runs, picotag_runner_op_count(runner), image_bytes);
    if (!ok) {
        fprintf(stderr, "picotag bench: out of memory for %d runs\n", args->runs);
    } else {
        fill_random_image(samples.rgb, image_bytes);
        ok = measure(runner, args, &samples);
    }
    if (ok) {
        bench_resident_read(&report.resident_after);
        ok = summarize(runner, args, &samples, &report);
    }
    if (ok) {
        if (args->json) {
            bench_report_print_json(stdout, &report);
        } else {
            bench_report_print_text(stdout, &report);
        }
    }

    free(report.layers);
    free_samples(&samples);
    picotag_runner_free(runner);
    return ok ? EXIT_STATUS_OK : EXIT_STATUS_RUNTIME_ERROR;
}

int command_bench(int argc, char **argv) {
    bench_arguments args;
    switch (parse_bench_arguments(argc, argv, &args)) {
    case PARSE_HELP:
        print_bench_usage(stdout);
        return EXIT_STATUS_OK;
    case PARSE_ERROR:
        fprintf(stderr, "Run 'picotag bench --help' for the options.\n");
        return EXIT_STATUS_USAGE_ERROR;
    case PARSE_OK:
        break;
    }

    picotag_model *model = NULL;
    picotag_error error;
    if (picotag_model_load(args.model_path, &model, &error) != PICOTAG_OK) {
        fprintf(stderr, "picotag bench: %s\n", error.message);
        return EXIT_STATUS_RUNTIME_ERROR;
    }
    const int status = bench_model(&args, model);
    picotag_model_free(model);
    return status;
}
