/*
 * picotag: integer-only ResNet photo tagging engine.
 *
 * Usage, with error handling shortened:
 *
 *     picotag_error err;
 *     picotag_model *model;
 *     if (picotag_model_load("model.ptm", &model, &err) != PICOTAG_OK) {
 *         fprintf(stderr, "%s\n", err.message);
 *         return 1;
 *     }
 *     const picotag_preprocess *pre = picotag_model_preprocess(model);
 *
 *     picotag_runner *runner;
 *     picotag_runner_create(model, pre->input_height, pre->input_width, NULL, &runner, &err);
 *
 *     int32_t logits[PICOTAG_MAX_CLASSES];
 *     picotag_runner_run(runner, rgb, logits, &err);    // rgb: uint8 HWC, already resized
 *     for (int k = 0; k < picotag_model_class_count(model); k++)
 *         if (logits[k] >= picotag_model_label(model, k)->threshold)
 *             printf("%s\n", picotag_model_label(model, k)->name_en);
 *
 *     picotag_runner_free(runner);
 *     picotag_model_free(model);
 *
 * Library functions never print and never exit; they return a status and,
 * when an error pointer is given, fill it with a message that names the
 * file or value at fault.
 */
#ifndef PICOTAG_H
#define PICOTAG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(PICOTAG_BUILDING_LIBRARY)
#define PICOTAG_API __attribute__((visibility("default")))
#else
#define PICOTAG_API
#endif

#define PICOTAG_MAX_CLASSES 4096

typedef enum picotag_status {
    PICOTAG_OK = 0,
    PICOTAG_ERROR_IO = 1,             /* a file could not be opened, read or mapped */
    PICOTAG_ERROR_FORMAT = 2,         /* a model file is malformed or fails validation */
    PICOTAG_ERROR_UNSUPPORTED = 3,    /* valid, but not supported here (version, host, kernel set) */
    PICOTAG_ERROR_INVALID_ARGUMENT = 4,
    PICOTAG_ERROR_OUT_OF_MEMORY = 5
} picotag_status;

typedef struct picotag_error {
    char message[512];
} picotag_error;

/* Returns a static English name for a status, e.g. "format error". */
PICOTAG_API const char *picotag_status_name(picotag_status status);

/* Returns the library version, e.g. "0.1.0". */
PICOTAG_API const char *picotag_version(void);

/* ---- Model file ---------------------------------------------------------- */

typedef struct picotag_model picotag_model;

typedef enum picotag_resize_mode {
    PICOTAG_RESIZE_SHORT_SIDE_CENTER_CROP = 1,
    PICOTAG_RESIZE_STRETCH = 2
} picotag_resize_mode;

typedef struct picotag_preprocess {
    uint32_t input_height;   /* pixels */
    uint32_t input_width;    /* pixels */
    uint32_t resize_mode;    /* picotag_resize_mode */
    uint32_t resize_short;   /* pixels; mode 1 only */
    uint32_t interpolation;  /* 1 = antialiased bilinear */
    uint32_t channel_order;  /* 1 = RGB */
    uint8_t zero_point[3];   /* per input channel, round(255 * mean) */
    float mean[3];
    float std[3];
} picotag_preprocess;

typedef struct picotag_label {
    const char *name_en;     /* UTF-8, points into the mapped file */
    const char *name_ko;
    const char *group_en;    /* supercategory, e.g. "animal" */
    const char *group_ko;
    int32_t threshold;       /* tagged when logit >= threshold */
    /* Real logit = logit * logit_scale. Used only to show a probability,
     * 1 / (1 + exp(-logit * logit_scale)); the tag decision is the integer
     * comparison with `threshold`. */
    float logit_scale;
} picotag_label;

/* Memory-maps and validates a model file. On success *model owns the mapping. */
PICOTAG_API picotag_status picotag_model_load(const char *path, picotag_model **model,
                                              picotag_error *error);

/* Validates a model held in memory. The bytes are copied; `name` is used in
 * error messages. */
PICOTAG_API picotag_status picotag_model_load_memory(const void *data, size_t size,
                                                     const char *name, picotag_model **model,
                                                     picotag_error *error);

PICOTAG_API void picotag_model_free(picotag_model *model);

PICOTAG_API int picotag_model_class_count(const picotag_model *model);
PICOTAG_API const picotag_label *picotag_model_label(const picotag_model *model, int class_index);
PICOTAG_API const picotag_preprocess *picotag_model_preprocess(const picotag_model *model);

/* Provenance: the META value for `key`, or NULL. */
PICOTAG_API const char *picotag_model_meta(const picotag_model *model, const char *key);
PICOTAG_API int picotag_model_meta_count(const picotag_model *model);
PICOTAG_API void picotag_model_meta_entry(const picotag_model *model, int index,
                                          const char **key, const char **value);

/* Graph summary for `picotag info`. */
typedef struct picotag_model_summary {
    int op_count;
    int conv_count;
    uint64_t weight_bytes;     /* int8 weights */
    uint64_t parameter_count;  /* weights + biases */
    uint64_t file_bytes;
    uint32_t format_version;
} picotag_model_summary;

PICOTAG_API void picotag_model_summarize(const picotag_model *model, picotag_model_summary *summary);

/* ---- Running the network ------------------------------------------------- */

typedef struct picotag_runner picotag_runner;

typedef struct picotag_runner_options {
    /* Kernel set name ("reference", later "avx2", "avx512vnni", "neon", ...),
     * or NULL for the best one this CPU supports. The environment variable
     * PICOTAG_KERNELS overrides NULL. */
    const char *kernels;
    int threads;               /* 0 or 1: the calling thread only */
    /* Non-zero: give every activation value its own buffer, so that
     * picotag_runner_value can read any of them after a run (tests and
     * debugging). Zero: buffers are shared by the memory plan. */
    int keep_all_values;
} picotag_runner_options;

/* Plans the memory for one input size (height x width pixels) and allocates
 * all scratch once; picotag_runner_run allocates nothing. The model must
 * outlive the runner. `options` may be NULL. */
PICOTAG_API picotag_status picotag_runner_create(const picotag_model *model, int height,
                                                 int width, const picotag_runner_options *options,
                                                 picotag_runner **runner, picotag_error *error);

PICOTAG_API void picotag_runner_free(picotag_runner *runner);

/* Bytes of scratch memory this runner allocated: the activation buffers
 * and the kernel set's working memory (im2col rows). Weights that the
 * kernel set packed into its own layout are not counted. */
PICOTAG_API size_t picotag_runner_scratch_bytes(const picotag_runner *runner);

/* Name of the kernel set in use. */
PICOTAG_API const char *picotag_runner_kernels(const picotag_runner *runner);

/* Runs the network on one image: `rgb` is uint8 NHWC with N = 1, the planned
 * height and width, and 3 channels; `logits` receives one int32 per class. */
PICOTAG_API picotag_status picotag_runner_run(picotag_runner *runner, const uint8_t *rgb,
                                              int32_t *logits, picotag_error *error);

/* Copies the integers of activation value `value_index` from the last run,
 * NHWC, one byte per element, for tests and debugging. The runner must have
 * been created with keep_all_values. *size receives the element count;
 * returns PICOTAG_ERROR_INVALID_ARGUMENT if `capacity` is too small or the
 * value is the I32 logits (read those from picotag_runner_run). */
PICOTAG_API picotag_status picotag_runner_value(const picotag_runner *runner, int value_index,
                                                void *out, size_t capacity, size_t *size,
                                                int *height, int *width, int *channels);

#ifdef __cplusplus
}
#endif

#endif
