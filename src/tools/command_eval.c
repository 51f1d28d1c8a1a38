/* picotag eval LABELS: tag quality of a model on labelled photos. */
#define _POSIX_C_SOURCE 200809L /* strdup, strndup */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/labels.h"
#include "eval/metrics.h"
#include "eval/photo_logits.h"
#include "eval/report.h"
#include "picotag.h"
#include "tools/commands.h"
#include "tools/progress.h"
#include "tools/tool_model.h"

typedef struct eval_arguments {
    const char *model_option;     /* --model, or NULL for the default model */
    char model_path[PATH_MAX];    /* the model file chosen */
    const char *labels_path;
    const char *image_folder;     /* NULL: the label file's folder */
    const char *scores_path;      /* NULL: no logits CSV */
    int threads;
    int json;
    int allow_missing_classes;
} eval_arguments;

static void print_eval_usage(FILE *stream) {
    char installed[PATH_MAX];
    tool_model_installed_default(installed, sizeof(installed));
    fprintf(stream,
            "usage: picotag eval [--model FILE] [--json] [--threads N] [--images DIR]\n"
            "                    [--scores-out FILE] [--allow-missing-classes] LABELS\n"
            "\n"
            "Runs the model on every photo that LABELS lists, through the same decoding,\n"
            "preprocessing, test-time views and network as tagging, and reports mean\n"
            "average precision (mAP), the AP of each class, and precision, recall and F1\n"
            "at the model's own thresholds (CP, CR, CF1 averaged over classes; OP, OR,\n"
            "OF1 over all tags).\n"
            "docs/EVAL.md gives the definitions.\n"
            "\n"
            "LABELS is either\n"
            "  a CSV file: a header row, a 'file' column of photo paths and one 0/1 column\n"
            "  per class, named by the class's English name; other columns are ignored;\n"
            "  or a COCO instances JSON file (name ending in .json): images, annotations\n"
            "  and categories, matched to the model's classes by category name.\n"
            "Relative photo paths are resolved against --images DIR, or else the folder\n"
            "of LABELS.\n"
            "\n"
            "options:\n"
            "  --model FILE             model file (default: $PICOTAG_MODEL, else\n"
            "                           models/default.ptm of this build, else\n"
            "                           %s)\n"
            "  --json                   print one JSON object instead of the table\n"
            "  --threads N              evaluate N photos at a time, one per thread, 1 to %d\n"
            "                           (default 1); the results are the same for every N\n"
            "  --images DIR             folder that relative photo paths start from\n"
            "  --scores-out FILE        also write a CSV 'file,<class names>' with the int32\n"
            "                           logits of every evaluated photo\n"
            "  --allow-missing-classes  evaluate only the classes that LABELS names,\n"
            "                           instead of failing when one is missing\n"
            "\n"
            "A photo that cannot be read is reported on stderr, one line each, and left\n"
            "out of the metrics. A progress bar is drawn on stderr when it is a terminal.\n"
            "\n"
            "exit status:\n"
            "  0  every photo was evaluated\n"
            "  1  the metrics were reported, but some photos could not be read and were\n"
            "     left out of them\n"
            "  2  usage error\n"
            "  3  no metrics: the model or the label file cannot be used, no photo could\n"
            "     be read, no class has a positive photo, or the output cannot be written\n",
            installed, EVAL_MAX_THREADS);
}

/* Parses a thread count in [1, EVAL_MAX_THREADS]. Returns 0 for anything else. */
static int parse_thread_count(const char *text, int *threads) {
    errno = 0;
    char *end = NULL;
    const long value = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < 1 || value > EVAL_MAX_THREADS) {
        return 0;
    }
    *threads = (int)value;
    return 1;
}

typedef enum parse_result {
    PARSE_OK,
    PARSE_HELP,
    PARSE_ERROR
} parse_result;

static parse_result parse_eval_arguments(int argc, char **argv, eval_arguments *args) {
    memset(args, 0, sizeof(*args));
    args->threads = 1;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const int has_value = i + 1 < argc;

        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            return PARSE_HELP;
        } else if (strcmp(arg, "--json") == 0) {
            args->json = 1;
        } else if (strcmp(arg, "--allow-missing-classes") == 0) {
            args->allow_missing_classes = 1;
        } else if (strcmp(arg, "--model") == 0 && has_value) {
            args->model_option = argv[++i];
        } else if (strcmp(arg, "--images") == 0 && has_value) {
            args->image_folder = argv[++i];
        } else if (strcmp(arg, "--scores-out") == 0 && has_value) {
            args->scores_path = argv[++i];
        } else if (strcmp(arg, "--threads") == 0 && has_value) {
            if (!parse_thread_count(argv[i + 1], &args->threads)) {
                fprintf(stderr, "picotag eval: --threads expects a count from 1 to %d, got '%s'\n",
                        EVAL_MAX_THREADS, argv[i + 1]);
                return PARSE_ERROR;
            }
            i++;
        } else if (arg[0] == '-' && arg[1] != '\0') {
            fprintf(stderr, "picotag eval: unknown option '%s', or it is missing its value\n", arg);
            return PARSE_ERROR;
        } else if (args->labels_path == NULL) {
            args->labels_path = arg;
        } else {
            fprintf(stderr, "picotag eval: unexpected argument '%s'\n", arg);
            return PARSE_ERROR;
        }
    }
    if (args->labels_path == NULL) {
        fprintf(stderr, "picotag eval: missing LABELS (a label CSV or a COCO instances JSON file)\n");
        return PARSE_ERROR;
    }
    return PARSE_OK;
}

/* Returns a new string: `file` when it is absolute, else `folder`/`file`. */
static char *join_path(const char *folder, const char *file) {
    const size_t folder_length = strlen(folder);
    const size_t file_length = strlen(file);
    char *path = malloc(folder_length + file_length + 2);
    if (path == NULL) {
        return NULL;
    }
    if (file[0] == '/') {
        memcpy(path, file, file_length + 1);
    } else {
        memcpy(path, folder, folder_length);
        path[folder_length] = '/';
        memcpy(path + folder_length + 1, file, file_length + 1);
    }
    return path;
}

/* Returns the folder part of `path` as a new string ("." when it has none). */
static char *folder_of(const char *path) {
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        return strdup(".");
    }
    if (slash == path) {
        return strdup("/");
    }
    return strndup(path, (size_t)(slash - path));
}

/* Everything one evaluation allocates, released by free_eval_state. */
typedef struct eval_state {
    const picotag_model *model;
    size_t class_count;
    const char **class_names;
    int32_t *thresholds;
    eval_labels labels;
    char **paths;                 /* labels.photo_count resolved photo paths */
    int32_t *logits;              /* photo_count x class_count */
    uint8_t *succeeded;
    char **failures;              /* photo_count: NULL, or the photo's error message */
    size_t failed_count;
    progress_bar progress;
} eval_state;

static void free_eval_state(eval_state *state) {
    for (size_t i = 0; i < state->labels.photo_count; i++) {
        if (state->paths != NULL) {
            free(state->paths[i]);
        }
        if (state->failures != NULL) {
            free(state->failures[i]);
        }
    }
    free(state->paths);
    free(state->failures);
    free(state->logits);
    free(state->succeeded);
    free(state->class_names);
    free(state->thresholds);
    eval_labels_free(&state->labels);
}

static int read_model_classes(eval_state *state) {
    const int class_count = picotag_model_class_count(state->model);
    state->class_count = (size_t)class_count;
    state->class_names = calloc((size_t)class_count, sizeof(*state->class_names));
    state->thresholds = calloc((size_t)class_count, sizeof(*state->thresholds));
    if (state->class_names == NULL || state->thresholds == NULL) {
        fprintf(stderr, "picotag eval: out of memory for %d classes\n", class_count);
        return 0;
    }
    for (int k = 0; k < class_count; k++) {
        const picotag_label *label = picotag_model_label(state->model, k);
        state->class_names[k] = label->name_en;
        state->thresholds[k] = label->threshold;
    }
    return 1;
}

static int resolve_photo_paths(eval_state *state, const eval_arguments *args) {
    const size_t count = state->labels.photo_count;
    char *folder = args->image_folder != NULL ? strdup(args->image_folder) : folder_of(args->labels_path);
    state->paths = calloc(count, sizeof(*state->paths));
    state->failures = calloc(count, sizeof(*state->failures));
    state->logits = calloc(count * state->class_count, sizeof(*state->logits));
    state->succeeded = calloc(count, 1);
    int ok = folder != NULL && state->paths != NULL && state->failures != NULL &&
             state->logits != NULL && state->succeeded != NULL;
    for (size_t i = 0; ok && i < count; i++) {
        state->paths[i] = join_path(folder, state->labels.files[i]);
        ok = state->paths[i] != NULL;
    }
    free(folder);
    if (!ok) {
        fprintf(stderr, "picotag eval: out of memory for %zu photos\n", count);
    }
    return ok;
}

static void on_photo_failed(void *context, size_t photo, const char *message) {
    eval_state *state = context;
    progress_clear(&state->progress);
    fprintf(stderr, "picotag eval: %s (left out of the metrics)\n", message);
    state->failures[photo] = strdup(message != NULL ? message : "unknown error");
    state->failed_count++;
}

static void on_progress(void *context, size_t done, size_t total) {
    eval_state *state = context;
    (void)total;
    progress_draw(&state->progress, done);
}

/* Copies the rows of the photos that succeeded into a compact table. */
static int build_table(const eval_state *state, int32_t **scores, uint8_t **truth, eval_table *table) {
    const size_t class_count = state->class_count;
    const size_t evaluated = state->labels.photo_count - state->failed_count;
    *scores = malloc((evaluated > 0 ? evaluated : 1) * class_count * sizeof(**scores));
    *truth = malloc((evaluated > 0 ? evaluated : 1) * class_count);
    if (*scores == NULL || *truth == NULL) {
        return 0;
    }
    size_t row = 0;
    for (size_t i = 0; i < state->labels.photo_count; i++) {
        if (!state->succeeded[i]) {
            continue;
        }
        memcpy(*scores + row * class_count, state->logits + i * class_count,
               class_count * sizeof(**scores));
        memcpy(*truth + row * class_count, state->labels.truth + i * class_count, class_count);
        row++;
    }
    *table = (eval_table){
        .photo_count = row,
        .class_count = class_count,
        .scores = *scores,
        .truth = *truth,
        .class_labelled = state->labels.class_labelled,
    };
    return 1;
}

/* Computes the metrics over the photos that succeeded and prints the
 * report; returns the exit status. */
static int write_metrics(const eval_state *state, const eval_arguments *args, const eval_table *table,
                         eval_class_metrics *per_class) {
    eval_summary summary;
    picotag_error error;
    if (eval_compute_metrics(table, state->thresholds, per_class, &summary, &error) != PICOTAG_OK) {
        fprintf(stderr, "picotag eval: %s: %s\n", args->labels_path, error.message);
        return EXIT_STATUS_FATAL;
    }

    const eval_report report = {
        .model_path = args->model_path,
        .labels_path = args->labels_path,
        .class_count = state->class_count,
        .class_names = state->class_names,
        .thresholds = state->thresholds,
        .photo_count = state->labels.photo_count,
        .files = (const char *const *)state->labels.files,
        .failures = (const char *const *)state->failures,
        .failed_count = state->failed_count,
        .ignored_names = (const char *const *)state->labels.ignored_names,
        .ignored_name_count = state->labels.ignored_name_count,
        .ignored_kind = state->labels.format == EVAL_LABELS_COCO ? "categories" : "columns",
        .per_class = per_class,
        .summary = &summary,
    };
    const picotag_status written = args->json ? eval_report_write_json(stdout, &report, &error)
                                              : eval_report_write_table(stdout, &report, &error);
    if (written != PICOTAG_OK) {
        fprintf(stderr, "picotag eval: %s\n", error.message);
        return EXIT_STATUS_FATAL;
    }
    return state->failed_count > 0 ? EXIT_STATUS_SOME_FAILED : EXIT_STATUS_OK;
}

static int report_metrics(const eval_state *state, const eval_arguments *args) {
    int32_t *scores = NULL;
    uint8_t *truth = NULL;
    eval_table table;
    eval_class_metrics *per_class = calloc(state->class_count, sizeof(*per_class));
    int status = EXIT_STATUS_FATAL;
    if (per_class != NULL && build_table(state, &scores, &truth, &table)) {
        status = write_metrics(state, args, &table, per_class);
    } else {
        fprintf(stderr, "picotag eval: out of memory computing the metrics\n");
    }
    free(per_class);
    free(scores);
    free(truth);
    return status;
}

static int run_eval(eval_state *state, const eval_arguments *args) {
    if (!read_model_classes(state)) {
        return EXIT_STATUS_FATAL;
    }

    picotag_error error;
    const eval_label_options options = {
        .class_names = state->class_names,
        .class_count = state->class_count,
        .allow_missing_classes = args->allow_missing_classes,
    };
    if (eval_labels_read(args->labels_path, &options, &state->labels, &error) != PICOTAG_OK) {
        fprintf(stderr, "picotag eval: %s\n", error.message);
        return EXIT_STATUS_FATAL;
    }
    if (!resolve_photo_paths(state, args)) {
        return EXIT_STATUS_FATAL;
    }

    progress_init(&state->progress, state->labels.photo_count, PICOTAG_LANGUAGE_ENGLISH);
    const eval_photo_callbacks callbacks = {
        .photo_failed = on_photo_failed,
        .progress = on_progress,
        .context = state,
    };
    if (eval_compute_photo_logits(state->model, (const char *const *)state->paths,
                                  state->labels.photo_count, args->threads, &callbacks, state->logits,
                                  state->succeeded, &error) != PICOTAG_OK) {
        progress_clear(&state->progress);
        fprintf(stderr, "picotag eval: %s\n", error.message);
        return EXIT_STATUS_FATAL;
    }
    progress_clear(&state->progress);

    if (state->failed_count == state->labels.photo_count) {
        fprintf(stderr, "picotag eval: none of the %zu photos could be read\n", state->failed_count);
        return EXIT_STATUS_FATAL;
    }
    if (args->scores_path != NULL &&
        eval_write_logits_csv(args->scores_path, state->class_names, state->class_count,
                              (const char *const *)state->labels.files, state->logits,
                              state->succeeded, state->labels.photo_count, &error) != PICOTAG_OK) {
        fprintf(stderr, "picotag eval: %s\n", error.message);
        return EXIT_STATUS_FATAL;
    }
    return report_metrics(state, args);
}

int command_eval(int argc, char **argv) {
    eval_arguments args;
    const parse_result parsed = parse_eval_arguments(argc, argv, &args);
    if (parsed == PARSE_HELP) {
        print_eval_usage(stdout);
        return EXIT_STATUS_OK;
    }
    if (parsed == PARSE_ERROR) {
        print_eval_usage(stderr);
        return EXIT_STATUS_USAGE_ERROR;
    }

    char message[PATH_MAX + 256];
    if (!tool_model_locate(args.model_option, args.model_path, sizeof(args.model_path), message,
                           sizeof(message))) {
        fprintf(stderr, "picotag eval: %s\n", message);
        return EXIT_STATUS_FATAL;
    }
    picotag_model *model = NULL;
    picotag_error error;
    if (picotag_model_load(args.model_path, &model, &error) != PICOTAG_OK) {
        fprintf(stderr, "picotag eval: %s\n", error.message);
        return EXIT_STATUS_FATAL;
    }

    eval_state state = {.model = model};
    const int status = run_eval(&state, &args);
    free_eval_state(&state);
    picotag_model_free(model);
    return status;
}
