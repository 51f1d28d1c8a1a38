/*
 * picotag_peer_bench: the picotag side of bench/peers, through the public
 * API only (picotag_model_load, picotag_runner_create, picotag_runner_run).
 *
 *     picotag_peer_bench MODEL.ptm IMAGES.u8 [--threads N] [--warmup N] [--runs N]
 *                        [--logits FILE]
 *     picotag_peer_bench --peak
 *
 * IMAGES.u8 contains one or more images of the model's input size, uint8 RGB,
 * HWC, one after another. The first one is timed: `warmup` untimed runs,
 * then `runs` timed ones. With --logits, the int32 logits of every image
 * are written to FILE (little-endian, image after image), so that the
 * driver script can compare them with the other engines'.
 *
 * Prints one JSON object on stdout: the kernel set, the threads asked for
 * and every timed run in milliseconds. --peak prints the measured int8
 * peak of one core instead (see bench/int8_peak_avx512vnni.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "int8_peak.h"
#include "kernels/kernels.h"
#include "picotag.h"

#define MAX_RUNS 10000

typedef struct peer_options {
    const char *model_path;
    const char *images_path;
    const char *logits_path;
    int threads;
    int warmup;
    int runs;
} peer_options;

static double seconds_now(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + 1e-9 * (double)now.tv_nsec;
}

static int parse_count(const char *text, int minimum, int *value) {
    char *end = NULL;
    const long parsed = strtol(text, &end, 10);
    if (end == text || *end != '\0' || parsed < minimum || parsed > MAX_RUNS) {
        return 0;
    }
    *value = (int)parsed;
    return 1;
}

static int parse_options(int argc, char **argv, peer_options *options) {
    memset(options, 0, sizeof(*options));
    options->threads = 1;
    options->warmup = 5;
    options->runs = 20;
    int positional = 0;
    for (int i = 1; i < argc; i++) {
        const int has_value = i + 1 < argc;
        if (strcmp(argv[i], "--threads") == 0 && has_value) {
            if (!parse_count(argv[++i], 1, &options->threads)) {
                fprintf(stderr, "picotag_peer_bench: --threads must be 1 to %d\n", MAX_RUNS);
                return 0;
            }
        } else if (strcmp(argv[i], "--warmup") == 0 && has_value) {
            if (!parse_count(argv[++i], 0, &options->warmup)) {
                fprintf(stderr, "picotag_peer_bench: --warmup must be 0 to %d\n", MAX_RUNS);
                return 0;
            }
        } else if (strcmp(argv[i], "--runs") == 0 && has_value) {
            if (!parse_count(argv[++i], 1, &options->runs)) {
                fprintf(stderr, "picotag_peer_bench: --runs must be 1 to %d\n", MAX_RUNS);
                return 0;
            }
        } else if (strcmp(argv[i], "--logits") == 0 && has_value) {
            options->logits_path = argv[++i];
        } else if (argv[i][0] != '-' && positional < 2) {
            if (positional == 0) {
                options->model_path = argv[i];
            } else {
                options->images_path = argv[i];
            }
            positional++;
        } else {
            positional = -1;
            break;
        }
    }
    if (positional != 2) {
        fprintf(stderr, "usage: picotag_peer_bench MODEL.ptm IMAGES.u8 [--threads N] [--warmup N] "
                        "[--runs N] [--logits FILE]\n"
                        "       picotag_peer_bench --peak\n");
        return 0;
    }
    return 1;
}

/* Reads a whole file into memory; returns NULL and prints why on failure. */
static unsigned char *read_file(const char *path, size_t *size) {
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        fprintf(stderr, "picotag_peer_bench: cannot open %s\n", path);
        return NULL;
    }
    unsigned char *data = NULL;
    long length = -1;
    if (fseek(file, 0, SEEK_END) == 0) {
        length = ftell(file);
    }
    if (length > 0 && fseek(file, 0, SEEK_SET) == 0) {
        data = malloc((size_t)length);
    }
    if (data != NULL && fread(data, 1, (size_t)length, file) != (size_t)length) {
        free(data);
        data = NULL;
    }
    fclose(file);
    if (data == NULL) {
        fprintf(stderr, "picotag_peer_bench: cannot read %s (empty or unreadable)\n", path);
        return NULL;
    }
    *size = (size_t)length;
    return data;
}

static int write_logits(const char *path, const unsigned char *images, size_t image_count,
                        size_t image_bytes, picotag_runner *runner, int class_count) {
    FILE *file = fopen(path, "wb");
    if (file == NULL) {
        fprintf(stderr, "picotag_peer_bench: cannot create %s\n", path);
        return 0;
    }
    static int32_t logits[PICOTAG_MAX_CLASSES];
    picotag_error error;
    int ok = 1;
    for (size_t i = 0; i < image_count && ok; i++) {
        if (picotag_runner_run(runner, images + i * image_bytes, logits, &error) != PICOTAG_OK) {
            fprintf(stderr, "picotag_peer_bench: run failed: %s\n", error.message);
            ok = 0;
        } else if (fwrite(logits, sizeof(int32_t), (size_t)class_count, file) != (size_t)class_count) {
            fprintf(stderr, "picotag_peer_bench: cannot write %s\n", path);
            ok = 0;
        }
    }
    if (fclose(file) != 0) {
        ok = 0;
    }
    return ok;
}

static int time_runs(const peer_options *options, picotag_runner *runner,
                     const unsigned char *image, double *milliseconds) {
    static int32_t logits[PICOTAG_MAX_CLASSES];
    picotag_error error;
    for (int i = 0; i < options->warmup + options->runs; i++) {
        const double start = seconds_now();
        if (picotag_runner_run(runner, image, logits, &error) != PICOTAG_OK) {
            fprintf(stderr, "picotag_peer_bench: run failed: %s\n", error.message);
            return 0;
        }
        const double elapsed = seconds_now() - start;
        if (i >= options->warmup) {
            milliseconds[i - options->warmup] = 1e3 * elapsed;
        }
    }
    return 1;
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

static int run_benchmark(const peer_options *options) {
    picotag_error error;
    picotag_model *model = NULL;
    if (picotag_model_load(options->model_path, &model, &error) != PICOTAG_OK) {
        fprintf(stderr, "picotag_peer_bench: %s\n", error.message);
        return 0;
    }
    const picotag_preprocess *preprocess = picotag_model_preprocess(model);
    const int height = (int)preprocess->input_height;
    const int width = (int)preprocess->input_width;
    const size_t image_bytes = (size_t)height * (size_t)width * 3;

    size_t file_bytes = 0;
    unsigned char *images = read_file(options->images_path, &file_bytes);
    double *milliseconds = malloc(sizeof(double) * (size_t)options->runs);
    picotag_runner *runner = NULL;
    picotag_runner_options runner_options = {NULL, options->threads, 0};
    int ok = images != NULL && milliseconds != NULL;
    if (ok && file_bytes % image_bytes != 0) {
        fprintf(stderr, "picotag_peer_bench: %s has %zu bytes, not a multiple of %d x %d x 3\n",
                options->images_path, file_bytes, height, width);
        ok = 0;
    }
    if (ok && picotag_runner_create(model, height, width, &runner_options, &runner, &error) != PICOTAG_OK) {
        fprintf(stderr, "picotag_peer_bench: %s\n", error.message);
        ok = 0;
    }

    if (ok && options->logits_path != NULL) {
        ok = write_logits(options->logits_path, images, file_bytes / image_bytes, image_bytes, runner,
                          picotag_model_class_count(model));
    }
    if (ok) {
        ok = time_runs(options, runner, images, milliseconds);
    }
    if (ok) {
        printf("{\"engine\": \"picotag\", \"version\": \"%s\", \"kernels\": \"%s\", \"threads\": %d, "
               "\"ms\": [", picotag_version(), picotag_runner_kernels(runner), options->threads);
        for (int i = 0; i < options->runs; i++) {
            printf("%s%.4f", i ? ", " : "", milliseconds[i]);
        }
        printf("]}\n");
    }

    picotag_runner_free(runner);
    free(milliseconds);
    free(images);
    picotag_model_free(model);
    return ok;
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "--peak") == 0) {
        printf("{\"int8_peak_macs_per_second\": %.6e}\n", measure_peak());
        return 0;
    }
    peer_options options;
    if (!parse_options(argc, argv, &options)) {
        return 2;
    }
    return run_benchmark(&options) ? 0 : 1;
}
