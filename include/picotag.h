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

/* Limits of the test-time view fields of picotag_preprocess. */
#define PICOTAG_MAX_VIEW_GRID 4u
#define PICOTAG_MIN_VIEW_CROP_PERMILLE 100u
#define PICOTAG_MAX_VIEW_CROP_PERMILLE 999u
/* The largest `threads` a runner accepts. */
#define PICOTAG_MAX_THREADS 256

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
    /* Test-time views (docs/PREPROCESSING.md#test-time-views). The network
     * runs on the whole photo and on view_grid x view_grid crops of it, each
     * view_crop_permille / 1000 of the whole view's side. With view_flip it
     * also runs on the mirror image of each, and the logits are averaged.
     * All zero means the whole photo only. */
    uint32_t view_flip;          /* 0 or 1 */
    uint32_t view_grid;          /* 0 (no crops) to 4 */
    uint32_t view_crop_permille; /* 100 to 999 with a grid, else 0 */
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

/* Returns the number of network inputs that `preprocess` requests per photo:
 * (1 + view_grid^2) x (2 with view_flip, else 1); 1 for a model without
 * test-time views, 0 for a NULL pointer. */
PICOTAG_API int picotag_preprocess_view_count(const picotag_preprocess *preprocess);

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
    /* Threads that share each run (latency mode): 0 or 1 runs on the
     * calling thread only; N > 1 starts N - 1 workers with the runner, and
     * each convolution and max pooling is split by output rows between
     * the calling thread and the workers. The integers computed are the
     * same for every thread count. Workers poll for about 0.2 ms after an
     * operator (the environment variable PICOTAG_SPIN_MICROSECONDS, 0 to
     * 1000000, overrides this; another value fails runner creation with
     * PICOTAG_ERROR_INVALID_ARGUMENT) and then sleep until the next run. To tag
     * several photos at once, use one single-threaded runner per photo
     * instead. */
    int threads;
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
 * and the kernel set's working memory (im2col rows, one slice per thread).
 * Weights that the kernel set packed into its own layout are not counted. */
PICOTAG_API size_t picotag_runner_scratch_bytes(const picotag_runner *runner);

/* The memory a runner uses, in bytes. */
typedef struct picotag_runner_memory {
    size_t activation_bytes;       /* the activation buffers of the memory plan */
    size_t kernel_scratch_bytes;   /* the kernel set's working memory, all threads */
    /* Weights copied into the kernel set's layout; 0 if none. Runners of
     * one model with the same kernel set and input size share one copy,
     * created with the first of them and freed with the last. */
    size_t packed_weight_bytes;
    /* int8 weights that the kernels read in place from the model, because
     * the kernel set does not pack them (the fully connected layer's, and
     * every convolution's with the reference set). */
    size_t unpacked_weight_bytes;
    /* Pages of the mapped model file that the runner gave back to the
     * operating system (madvise MADV_DONTNEED) after packing the weights
     * on them, so that those weights are not resident twice. It is 0 for
     * a model loaded from memory or a kernel set that does not pack. */
    size_t released_weight_bytes;
    /* The largest sum over one operator of its input, residual and output
     * activation bytes, the image and the logits included, although
     * activation_bytes contains neither because the caller passes both. */
    size_t largest_op_bytes;
} picotag_runner_memory;

PICOTAG_API void picotag_runner_memory_usage(const picotag_runner *runner, picotag_runner_memory *memory);

/* Threads that share each run: 1, or the `threads` option. */
PICOTAG_API int picotag_runner_threads(const picotag_runner *runner);

/* One operator as the runner planned it for its input size. */
typedef struct picotag_op_info {
    const char *type;          /* "CONV2D", "MAXPOOL", "GLOBAL_AVGPOOL" or "FULLY_CONNECTED" */
    int input_height, input_width, input_channels;
    int output_height, output_width, output_channels;
    int kernel_height, kernel_width;   /* 0 for GLOBAL_AVGPOOL and FULLY_CONNECTED */
    int stride_height, stride_width;
    int has_residual;          /* CONV2D with a fused residual add */
    /* Multiply-accumulates of one run: output elements x kernel height x
     * kernel width x input channels for CONV2D, inputs x outputs for
     * FULLY_CONNECTED, 0 for the pooling operators. */
    uint64_t macs;
} picotag_op_info;

/* Operators in the model, in the order they run. */
PICOTAG_API int picotag_runner_op_count(const picotag_runner *runner);

/* Fills `info` for operator `op_index`, or returns
 * PICOTAG_ERROR_INVALID_ARGUMENT if there is no such operator. */
PICOTAG_API picotag_status picotag_runner_op_info(const picotag_runner *runner, int op_index,
                                                  picotag_op_info *info);

/* Name of the kernel set in use. */
PICOTAG_API const char *picotag_runner_kernels(const picotag_runner *runner);

/* Runs the network on one image: `rgb` is uint8 NHWC with N = 1, the planned
 * height and width, and 3 channels; `logits` receives one int32 per class. */
PICOTAG_API picotag_status picotag_runner_run(picotag_runner *runner, const uint8_t *rgb,
                                              int32_t *logits, picotag_error *error);

/* Runs the network on `view_count` images stored one after another in
 * `rgb` (each planned height x width x 3 bytes, as
 * picotag_image_load_views writes them) and writes into `logits` the mean of
 * their logits per class, rounded half up: floor((2 * sum + n) / (2 * n)).
 * With view_count 1 this is picotag_runner_run. Returns
 * PICOTAG_ERROR_INVALID_ARGUMENT when view_count is below 1. */
PICOTAG_API picotag_status picotag_runner_run_views(picotag_runner *runner, const uint8_t *rgb,
                                                    int view_count, int32_t *logits,
                                                    picotag_error *error);

/* Runs the network like picotag_runner_run and stores the wall-clock
 * nanoseconds of each operator, in the order they run, in
 * op_nanoseconds[0 .. picotag_runner_op_count() - 1]; `capacity` is the
 * array's length in elements. The clock is read on the calling thread
 * between operators, so with threads > 1 an operator's time runs until its
 * slowest thread has finished; the times add up to the whole run but for
 * the clock reads. Returns PICOTAG_ERROR_INVALID_ARGUMENT when
 * op_nanoseconds is NULL or shorter than the operator count.
 * picotag_runner_run reads no clock. */
PICOTAG_API picotag_status picotag_runner_run_profiled(picotag_runner *runner, const uint8_t *rgb,
                                                       int32_t *logits, uint64_t *op_nanoseconds,
                                                       size_t capacity, picotag_error *error);

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
