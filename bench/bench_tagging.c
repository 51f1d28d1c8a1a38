/*
 * picotag_bench_tagging: how many photos per second `picotag tag` handles,
 * and where the time and memory go.
 *
 *     picotag_bench_tagging --model models/default.ptm [--repeat 3]
 *                           [--threads 1,2] [--picotag PATH] PHOTO...
 *
 * Three measurements over the same photos:
 *
 * 1. Per photo, on one thread, the two stages of tagging: decode +
 *    preprocess (picotag_image_load_views, the call `picotag tag` makes,
 *    which decodes a JPEG at a reduced DCT scale and writes every
 *    test-time view of the model) and inference on all views
 *    (picotag_runner_run_views). Median and mean over photos x
 *    repetitions, after one untimed pass that fills the page cache.
 * 2. The same decode at full resolution (picotag_image_load with
 *    full_resolution set) followed by picotag_image_preprocess_views: what
 *    the DCT scaling saves. Each of 1 and 2 runs in its own child process, whose
 *    peak resident memory (ru_maxrss) is reported.
 * 3. End to end: `picotag tag --no-catalog --threads N` over all photos, the
 *    wall-clock time (median of the repetitions, after one untimed run),
 *    photos per second and the command's peak resident memory, for each N.
 *
 * A photo that fails to decode stops the benchmark: the numbers would
 * otherwise describe fewer photos than were named.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "picotag.h"
#include "picotag_image.h"

extern char **environ;

#define MAX_THREAD_COUNTS 8

typedef struct bench_options {
    const char *model_path;
    const char *picotag_path;   /* the picotag command */
    int repeat;
    int thread_counts[MAX_THREAD_COUNTS];
    int thread_count_count;
    char **photos;
    int photo_count;
} bench_options;

typedef enum decode_path {
    DECODE_DCT_SCALED,       /* as `picotag tag` decodes */
    DECODE_FULL_RESOLUTION
} decode_path;

static double now_seconds(void)
{
    struct timespec time;
    clock_gettime(CLOCK_MONOTONIC, &time);
    return (double)time.tv_sec + (double)time.tv_nsec * 1e-9;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts `values` in place and returns their median. */
static double median_of(double *values, int count)
{
    qsort(values, (size_t)count, sizeof *values, compare_doubles);
    if (count % 2 == 1)
        return values[count / 2];
    return (values[count / 2 - 1] + values[count / 2]) / 2.0;
}

static double mean_of(const double *values, int count)
{
    double sum = 0.0;
    for (int i = 0; i < count; i++)
        sum += values[i];
    return sum / count;
}

static double rusage_peak_mib(const struct rusage *usage)
{
    return (double)usage->ru_maxrss / 1024.0;   /* Linux reports kibibytes */
}

/* ---- Stages: decode + preprocess, inference -------------------------------- */

/* Decodes and preprocesses one photo into `rgb` along `path`. */
static picotag_status decode_photo(const char *photo, decode_path path,
                                   const picotag_preprocess *preprocess, uint8_t *rgb,
                                   picotag_error *error)
{
    if (path == DECODE_DCT_SCALED)
        return picotag_image_load_views(photo, preprocess, NULL, rgb, NULL, error);

    picotag_image_options options;
    memset(&options, 0, sizeof options);
    options.full_resolution = 1;
    picotag_image image;
    picotag_status status = picotag_image_load(photo, &options, &image, error);
    if (status == PICOTAG_OK)
        status = picotag_image_preprocess_views(&image, preprocess, rgb, error);
    picotag_image_free(&image);
    return status;
}

/* Runs both stages over every photo `repeat` times and prints the median
 * and mean of each, in milliseconds per photo. Returns 0 on success. */
static int measure_stages(const bench_options *options, decode_path path)
{
    picotag_model *model = NULL;
    picotag_runner *runner = NULL;
    picotag_error error;
    if (picotag_model_load(options->model_path, &model, &error) != PICOTAG_OK) {
        fprintf(stderr, "picotag_bench_tagging: %s\n", error.message);
        return 1;
    }
    const picotag_preprocess *preprocess = picotag_model_preprocess(model);
    const int height = (int)preprocess->input_height, width = (int)preprocess->input_width;
    if (picotag_runner_create(model, height, width, NULL, &runner, &error) != PICOTAG_OK) {
        fprintf(stderr, "picotag_bench_tagging: %s\n", error.message);
        picotag_model_free(model);
        return 1;
    }

    const int samples = options->photo_count * options->repeat;
    const int views = picotag_preprocess_view_count(preprocess);
    uint8_t *rgb = malloc((size_t)views * (size_t)height * (size_t)width * 3);
    int32_t *logits = malloc((size_t)picotag_model_class_count(model) * sizeof *logits);
    double *decode_ms = malloc((size_t)samples * sizeof *decode_ms);
    double *inference_ms = malloc((size_t)samples * sizeof *inference_ms);
    int failed = !rgb || !logits || !decode_ms || !inference_ms;

    /* Pass -1 fills the page cache and is not timed. */
    for (int pass = -1; pass < options->repeat && !failed; pass++) {
        for (int i = 0; i < options->photo_count && !failed; i++) {
            double start = now_seconds();
            if (decode_photo(options->photos[i], path, preprocess, rgb, &error) != PICOTAG_OK) {
                fprintf(stderr, "picotag_bench_tagging: %s\n", error.message);
                failed = 1;
                break;
            }
            double decoded = now_seconds();
            if (picotag_runner_run_views(runner, rgb, views, logits, &error) != PICOTAG_OK) {
                fprintf(stderr, "picotag_bench_tagging: %s\n", error.message);
                failed = 1;
                break;
            }
            double inferred = now_seconds();
            if (pass >= 0) {
                decode_ms[pass * options->photo_count + i] = (decoded - start) * 1e3;
                inference_ms[pass * options->photo_count + i] = (inferred - decoded) * 1e3;
            }
        }
    }

    if (!failed) {
        const char *decode_name = path == DECODE_DCT_SCALED ? "decode+preprocess, DCT-scaled JPEG"
                                                            : "decode full resolution+preprocess";
        double decode_mean = mean_of(decode_ms, samples);
        double inference_mean = mean_of(inference_ms, samples);
        printf("  %-36s %10.2f %10.2f\n", decode_name, median_of(decode_ms, samples), decode_mean);
        char inference_name[40];
        snprintf(inference_name, sizeof inference_name, "inference, %d view%s", views,
                 views == 1 ? "" : "s");
        printf("  %-36s %10.2f %10.2f\n", inference_name, median_of(inference_ms, samples),
               inference_mean);
    }
    free(rgb);
    free(logits);
    free(decode_ms);
    free(inference_ms);
    picotag_runner_free(runner);
    picotag_model_free(model);
    return failed;
}

/* Runs `measure` in a child process and returns its exit status; prints
 * the child's peak resident memory when `report_memory` is set. Every
 * decode runs in a child, so that the benchmark process itself stays small:
 * on Linux a program started with posix_spawn reports in ru_maxrss the
 * larger of its own peak and the peak of the process that started it. */
static int run_in_child(int (*measure)(const bench_options *, decode_path),
                        const bench_options *options, decode_path path, int report_memory)
{
    fflush(stdout);
    pid_t child = fork();
    if (child < 0) {
        fprintf(stderr, "picotag_bench_tagging: fork failed: %s\n", strerror(errno));
        return 1;
    }
    if (child == 0) {
        int result = measure(options, path);
        fflush(stdout);
        _exit(result);
    }

    int status = 0;
    struct rusage usage;
    if (wait4(child, &status, 0, &usage) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return 1;
    if (report_memory)
        printf("  %-36s %10.1f MiB\n", "peak resident memory of this pass",
               rusage_peak_mib(&usage));
    return 0;
}

/* ---- End to end: picotag tag ----------------------------------------------- */

/* Runs `picotag tag` once with stdout and stderr discarded. */
static int run_tag_command(const bench_options *options, int threads, double *seconds,
                           struct rusage *usage)
{
    char thread_text[16];
    snprintf(thread_text, sizeof thread_text, "%d", threads);
    const int fixed = 8;
    char **argv = calloc((size_t)(fixed + options->photo_count + 1), sizeof *argv);
    if (!argv)
        return 1;
    argv[0] = (char *)options->picotag_path;
    argv[1] = "tag";
    argv[2] = "--no-catalog";
    argv[3] = "--model";
    argv[4] = (char *)options->model_path;
    argv[5] = "--threads";
    argv[6] = thread_text;
    argv[7] = "--";
    for (int i = 0; i < options->photo_count; i++)
        argv[fixed + i] = options->photos[i];

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);

    double start = now_seconds();
    pid_t child;
    int spawn_error = posix_spawn(&child, options->picotag_path, &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    free(argv);
    if (spawn_error != 0) {
        fprintf(stderr, "picotag_bench_tagging: cannot run %s: %s\n", options->picotag_path,
                strerror(spawn_error));
        return 1;
    }
    int status = 0;
    if (wait4(child, &status, 0, usage) < 0)
        return 1;
    *seconds = now_seconds() - start;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "picotag_bench_tagging: %s tag --threads %d exited with status %d; run it "
                "by hand to see which photo failed\n", options->picotag_path, threads,
                WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return 1;
    }
    return 0;
}

static int measure_end_to_end(const bench_options *options)
{
    double *seconds = malloc((size_t)options->repeat * sizeof *seconds);
    if (!seconds)
        return 1;
    for (int t = 0; t < options->thread_count_count; t++) {
        const int threads = options->thread_counts[t];
        double peak_mib = 0.0;
        struct rusage usage;
        /* Run -1 warms the page cache and is not timed. */
        for (int run = -1; run < options->repeat; run++) {
            double elapsed = 0.0;
            if (run_tag_command(options, threads, &elapsed, &usage) != 0) {
                free(seconds);
                return 1;
            }
            if (run >= 0) {
                seconds[run] = elapsed;
                if (rusage_peak_mib(&usage) > peak_mib)
                    peak_mib = rusage_peak_mib(&usage);
            }
        }
        double median = median_of(seconds, options->repeat);
        printf("  %7d %14.3f %12.1f %14.1f\n", threads, median, options->photo_count / median,
               peak_mib);
    }
    free(seconds);
    return 0;
}

/* ---- Setup ----------------------------------------------------------------- */

/* Prints the photo set: count, mean size as displayed, mean file size. */
static int describe_photos(const bench_options *options, decode_path unused)
{
    (void)unused;
    double megapixels = 0.0;
    long long bytes = 0;
    for (int i = 0; i < options->photo_count; i++) {
        picotag_image_options load_options;
        memset(&load_options, 0, sizeof load_options);
        picotag_image image;
        picotag_error error;
        if (picotag_image_load(options->photos[i], &load_options, &image, &error) != PICOTAG_OK) {
            fprintf(stderr, "picotag_bench_tagging: %s\n", error.message);
            return 1;
        }
        megapixels += (double)image.info.upright_width * image.info.upright_height / 1e6;
        picotag_image_free(&image);
        struct stat file;
        if (stat(options->photos[i], &file) == 0)
            bytes += file.st_size;
    }
    printf("photos      %d, %.2f megapixels and %.0f KiB per photo on average\n",
           options->photo_count, megapixels / options->photo_count,
           (double)bytes / 1024.0 / options->photo_count);
    return 0;
}

static int describe_model(const bench_options *options)
{
    picotag_model *model = NULL;
    picotag_runner *runner = NULL;
    picotag_error error;
    if (picotag_model_load(options->model_path, &model, &error) != PICOTAG_OK) {
        fprintf(stderr, "picotag_bench_tagging: %s\n", error.message);
        return 1;
    }
    const picotag_preprocess *preprocess = picotag_model_preprocess(model);
    int status = picotag_runner_create(model, (int)preprocess->input_height,
                                       (int)preprocess->input_width, NULL, &runner, &error);
    if (status != PICOTAG_OK) {
        fprintf(stderr, "picotag_bench_tagging: %s\n", error.message);
    } else {
        printf("model       %s, %u x %u input, kernels %s\n", options->model_path,
               preprocess->input_height, preprocess->input_width, picotag_runner_kernels(runner));
    }
    picotag_runner_free(runner);
    picotag_model_free(model);
    return status != PICOTAG_OK;
}

static void print_usage(FILE *stream)
{
    fprintf(stream,
            "usage: picotag_bench_tagging --model FILE [--repeat N] [--threads N,N...]\n"
            "                             [--picotag PATH] PHOTO...\n"
            "\n"
            "Measures per-photo decode+preprocess and inference times (median and mean,\n"
            "milliseconds), the same with full-resolution decoding, and photos per second\n"
            "of `picotag tag --no-catalog --threads N` with its peak resident memory.\n"
            "\n"
            "  --model FILE     model file\n"
            "  --repeat N       timed passes over the photos (default 3, at most 1000)\n"
            "  --threads LIST   thread counts for `picotag tag`, comma-separated (default 1,2)\n"
            "  --picotag PATH   the picotag command (default: the one of this build,\n"
            "                   %s)\n",
            PICOTAG_BENCH_COMMAND);
}

/* Parses "1,2,4" into options->thread_counts; returns 0 for a malformed list. */
static int parse_thread_counts(const char *text, bench_options *options)
{
    options->thread_count_count = 0;
    while (*text != '\0') {
        char *end = NULL;
        long value = strtol(text, &end, 10);
        if (end == text || value < 1 || value > 256 ||
            options->thread_count_count == MAX_THREAD_COUNTS || (*end != ',' && *end != '\0'))
            return 0;
        options->thread_counts[options->thread_count_count++] = (int)value;
        text = *end == ',' ? end + 1 : end;
    }
    return options->thread_count_count > 0;
}

static int parse_arguments(int argc, char **argv, bench_options *options)
{
    memset(options, 0, sizeof *options);
    options->picotag_path = PICOTAG_BENCH_COMMAND;
    options->repeat = 3;
    options->thread_counts[0] = 1;
    options->thread_counts[1] = 2;
    options->thread_count_count = 2;

    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *name = argv[i];
        if (strcmp(name, "--") == 0) {
            i++;
            break;
        }
        if (strcmp(name, "--help") == 0) {
            print_usage(stdout);
            exit(0);
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "picotag_bench_tagging: %s expects a value\n", name);
            return 0;
        }
        const char *value = argv[++i];
        if (strcmp(name, "--model") == 0) {
            options->model_path = value;
        } else if (strcmp(name, "--picotag") == 0) {
            options->picotag_path = value;
        } else if (strcmp(name, "--repeat") == 0) {
            char *end = NULL;
            long repeat = strtol(value, &end, 10);
            if (*end != '\0' || repeat < 1 || repeat > 1000) {
                fprintf(stderr, "picotag_bench_tagging: --repeat expects 1 to 1000, got '%s'\n",
                        value);
                return 0;
            }
            options->repeat = (int)repeat;
        } else if (strcmp(name, "--threads") == 0) {
            if (!parse_thread_counts(value, options)) {
                fprintf(stderr, "picotag_bench_tagging: --threads expects up to %d counts from 1 "
                        "to 256 separated by commas, got '%s'\n", MAX_THREAD_COUNTS, value);
                return 0;
            }
        } else {
            fprintf(stderr, "picotag_bench_tagging: unknown option '%s'\n", name);
            return 0;
        }
    }
    options->photos = argv + i;
    options->photo_count = argc - i;
    if (!options->model_path || options->photo_count == 0) {
        fprintf(stderr, "picotag_bench_tagging: --model and at least one PHOTO are required\n");
        return 0;
    }
    return 1;
}

int main(int argc, char **argv)
{
    bench_options options;
    if (!parse_arguments(argc, argv, &options)) {
        print_usage(stderr);
        return 2;
    }
    if (describe_model(&options) != 0 ||
        run_in_child(describe_photos, &options, DECODE_FULL_RESOLUTION, 0) != 0)
        return 1;
    printf("repeats     %d timed passes after one untimed pass\n\n", options.repeat);

    printf("per photo, 1 thread, in process       median ms    mean ms\n");
    if (run_in_child(measure_stages, &options, DECODE_DCT_SCALED, 1) != 0 ||
        run_in_child(measure_stages, &options, DECODE_FULL_RESOLUTION, 1) != 0)
        return 1;

    printf("\nend to end: %s tag --no-catalog --threads N\n", options.picotag_path);
    printf("  threads  wall s (median)   photos/s  peak RSS MiB\n");
    if (measure_end_to_end(&options) != 0)
        return 1;
    return 0;
}
