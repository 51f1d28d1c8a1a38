/*
 * The logits of many photos, computed on worker threads through the same
 * path as tagging: picotag_image_load_views with the model's
 * preprocessing record, then picotag_runner_run_views. Each worker owns a runner
 * and takes one photo at a time, so the logits do not depend on the
 * thread count.
 */
#ifndef PICOTAG_EVAL_PHOTO_LOGITS_H
#define PICOTAG_EVAL_PHOTO_LOGITS_H

#include <stddef.h>
#include <stdint.h>

#include "picotag.h"

/* The maximum number of worker threads of eval_compute_photo_logits. */
#define EVAL_MAX_THREADS 256

typedef struct eval_photo_callbacks {
    /* Called once per photo that could not be read or run, with the photo's
     * index and a message naming its file. Calls are serialized. */
    void (*photo_failed)(void *context, size_t photo, const char *message);
    /* Called after each photo with the number done so far. Serialized. */
    void (*progress)(void *context, size_t done, size_t total);
    void *context;
} eval_photo_callbacks;

/* Computes the logits of `photo_count` photos at `paths` with `threads`
 * workers (1 to EVAL_MAX_THREADS, and no more than there are photos).
 * `logits` receives photo_count x class_count int32 values, row-major.
 * `succeeded` receives one flag per photo: 0 for a photo that failed, whose
 * logits row is then zero. `callbacks` may be NULL. Returns
 * an error only for invalid arguments or when the runners cannot be
 * created; a photo that fails is not an error of the call. A worker thread
 * that cannot be started leaves its photos to the others. */
picotag_status eval_compute_photo_logits(const picotag_model *model, const char *const *paths,
                                         size_t photo_count, int threads,
                                         const eval_photo_callbacks *callbacks, int32_t *logits,
                                         uint8_t *succeeded, picotag_error *error);

#endif
