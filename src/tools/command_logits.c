/* picotag logits MODEL --input FILE.rgb: the raw int32 logits of one image. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "picotag.h"
#include "tools/commands.h"

typedef struct logits_arguments {
    const char *model_path;
    const char *input_path;
    const char *kernels;
    int height;              /* 0: the model's input height */
    int width;
    int json;
} logits_arguments;

static void print_logits_usage(FILE *stream) {
    fprintf(stream,
            "usage: picotag logits MODEL --input FILE.rgb [--height H] [--width W] [--json]\n"
            "                     [--kernels NAME]\n"
            "\n"
            "Runs MODEL on one image and prints its int32 logits, one per line in class\n"
            "order. FILE.rgb holds raw uint8 RGB bytes, row by row (HWC), already resized:\n"
            "exactly H * W * 3 bytes.\n"
            "\n"
            "options:\n"
            "  --input FILE     raw RGB input (required)\n"
            "  --height H       input height in pixels (default: the model's input height)\n"
            "  --width W        input width in pixels (default: the model's input width)\n"
            "  --json           print {\"height\": H, \"width\": W, \"logits\": [...]} instead\n"
            "  --kernels NAME   kernel set to use (default: the fastest this CPU supports)\n"
            "\n"
            "Exit status: 0 success, 1 the model or the input cannot be read or run, 2 usage error.\n");
}

/* Parses a pixel count in [1, 65536]. Returns 0 for anything else. */
static int parse_pixels(const char *text, int *pixels) {
    errno = 0;
    char *end = NULL;
    const long value = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < 1 || value > 65536) {
        return 0;
    }
    *pixels = (int)value;
    return 1;
}

typedef enum parse_result {
    PARSE_OK,
    PARSE_HELP,
    PARSE_ERROR
} parse_result;

static parse_result parse_logits_arguments(int argc, char **argv, logits_arguments *args) {
    memset(args, 0, sizeof(*args));
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const int has_value = i + 1 < argc;

        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            return PARSE_HELP;
        } else if (strcmp(arg, "--json") == 0) {
            args->json = 1;
        } else if (strcmp(arg, "--input") == 0 && has_value) {
            args->input_path = argv[++i];
        } else if (strcmp(arg, "--kernels") == 0 && has_value) {
            args->kernels = argv[++i];
        } else if ((strcmp(arg, "--height") == 0 || strcmp(arg, "--width") == 0) && has_value) {
            int *target = arg[2] == 'h' ? &args->height : &args->width;
            if (!parse_pixels(argv[i + 1], target)) {
                fprintf(stderr, "picotag logits: %s expects a pixel count from 1 to 65536, got '%s'\n",
                        arg, argv[i + 1]);
                return PARSE_ERROR;
            }
            i++;
        } else if (arg[0] == '-') {
            fprintf(stderr, "picotag logits: unknown option '%s', or it is missing its value\n", arg);
            return PARSE_ERROR;
        } else if (args->model_path == NULL) {
            args->model_path = arg;
        } else {
            fprintf(stderr, "picotag logits: unexpected argument '%s'\n", arg);
            return PARSE_ERROR;
        }
    }
    if (args->model_path == NULL) {
        fprintf(stderr, "picotag logits: missing MODEL\n");
        return PARSE_ERROR;
    }
    if (args->input_path == NULL) {
        fprintf(stderr, "picotag logits: missing --input FILE.rgb\n");
        return PARSE_ERROR;
    }
    return PARSE_OK;
}

/* Reads `path`, which must contain exactly `size` bytes, into a new
 * buffer. Otherwise prints a message and returns NULL. */
static uint8_t *read_exact_file(const char *path, size_t size, const char *expected_layout) {
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        fprintf(stderr, "picotag logits: %s: cannot open: %s\n", path, strerror(errno));
        return NULL;
    }
    long file_size = -1;
    if (fseek(file, 0, SEEK_END) == 0) {
        file_size = ftell(file);
    }
    if (file_size < 0 || fseek(file, 0, SEEK_SET) != 0) {
        fprintf(stderr, "picotag logits: %s: cannot determine the size: %s\n", path, strerror(errno));
        fclose(file);
        return NULL;
    }
    if ((unsigned long)file_size != size) {
        fprintf(stderr, "picotag logits: %s: %ld bytes, expected exactly %zu (%s)\n", path, file_size,
                size, expected_layout);
        fclose(file);
        return NULL;
    }

    uint8_t *bytes = malloc(size > 0 ? size : 1);
    if (bytes == NULL) {
        fprintf(stderr, "picotag logits: %s: out of memory reading %zu bytes\n", path, size);
        fclose(file);
        return NULL;
    }
    const size_t got = fread(bytes, 1, size, file);
    fclose(file);
    if (got != size) {
        fprintf(stderr, "picotag logits: %s: read error after %zu of %zu bytes\n", path, got, size);
        free(bytes);
        return NULL;
    }
    return bytes;
}

static void print_logits(const logits_arguments *args, const int32_t *logits, int classes) {
    if (!args->json) {
        for (int k = 0; k < classes; k++) {
            printf("%d\n", (int)logits[k]);
        }
        return;
    }
    printf("{\"height\": %d, \"width\": %d, \"logits\": [", args->height, args->width);
    for (int k = 0; k < classes; k++) {
        printf("%s%d", k > 0 ? ", " : "", (int)logits[k]);
    }
    printf("]}\n");
}

static int run_logits(logits_arguments *args, const picotag_model *model) {
    const picotag_preprocess *pre = picotag_model_preprocess(model);
    if (args->height == 0) {
        args->height = (int)pre->input_height;
    }
    if (args->width == 0) {
        args->width = (int)pre->input_width;
    }

    picotag_error error;
    picotag_runner *runner = NULL;
    const picotag_runner_options options = {.kernels = args->kernels, .threads = 1, .keep_all_values = 0};
    if (picotag_runner_create(model, args->height, args->width, &options, &runner, &error) != PICOTAG_OK) {
        fprintf(stderr, "picotag logits: %s\n", error.message);
        return EXIT_STATUS_RUNTIME_ERROR;
    }

    char expected_layout[96];
    snprintf(expected_layout, sizeof(expected_layout), "%d x %d pixels x 3 channels of uint8 RGB",
             args->height, args->width);
    const size_t size = (size_t)args->height * (size_t)args->width * 3;
    uint8_t *rgb = read_exact_file(args->input_path, size, expected_layout);
    if (rgb == NULL) {
        picotag_runner_free(runner);
        return EXIT_STATUS_RUNTIME_ERROR;
    }

    static int32_t logits[PICOTAG_MAX_CLASSES];
    int status = EXIT_STATUS_OK;
    if (picotag_runner_run(runner, rgb, logits, &error) != PICOTAG_OK) {
        fprintf(stderr, "picotag logits: %s\n", error.message);
        status = EXIT_STATUS_RUNTIME_ERROR;
    } else {
        print_logits(args, logits, picotag_model_class_count(model));
    }
    free(rgb);
    picotag_runner_free(runner);
    return status;
}

int command_logits(int argc, char **argv) {
    logits_arguments args;
    const parse_result parsed = parse_logits_arguments(argc, argv, &args);
    if (parsed == PARSE_HELP) {
        print_logits_usage(stdout);
        return EXIT_STATUS_OK;
    }
    if (parsed == PARSE_ERROR) {
        print_logits_usage(stderr);
        return EXIT_STATUS_USAGE_ERROR;
    }

    picotag_model *model = NULL;
    picotag_error error;
    if (picotag_model_load(args.model_path, &model, &error) != PICOTAG_OK) {
        fprintf(stderr, "picotag logits: %s\n", error.message);
        return EXIT_STATUS_RUNTIME_ERROR;
    }
    const int status = run_logits(&args, model);
    picotag_model_free(model);
    return status;
}
