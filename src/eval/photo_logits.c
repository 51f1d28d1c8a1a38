#include "eval/photo_logits.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "picotag_image.h"

/* State shared by the workers; `lock` guards next_photo, done and the
 * callbacks. */
typedef struct shared_work {
    const picotag_model *model;
    const char *const *paths;
    size_t photo_count;
    size_t class_count;
    const eval_photo_callbacks *callbacks;
    int32_t *logits;
    uint8_t *succeeded;

    pthread_mutex_t lock;
    size_t next_photo;
    size_t done;
} shared_work;

typedef struct worker {
    shared_work *work;
    picotag_runner *runner;
    uint8_t *input;              /* every view: views x input_height x input_width x 3 bytes */
    pthread_t thread;
    int started;
} worker;

static int take_photo(shared_work *work, size_t *photo) {
    pthread_mutex_lock(&work->lock);
    const int has_photo = work->next_photo < work->photo_count;
    if (has_photo) {
        *photo = work->next_photo++;
    }
    pthread_mutex_unlock(&work->lock);
    return has_photo;
}

static void report_photo(shared_work *work, size_t photo, const char *failure) {
    pthread_mutex_lock(&work->lock);
    work->done++;
    const eval_photo_callbacks *callbacks = work->callbacks;
    if (failure != NULL && callbacks != NULL && callbacks->photo_failed != NULL) {
        callbacks->photo_failed(callbacks->context, photo, failure);
    }
    if (callbacks != NULL && callbacks->progress != NULL) {
        callbacks->progress(callbacks->context, work->done, work->photo_count);
    }
    pthread_mutex_unlock(&work->lock);
}

static void *run_worker(void *argument) {
    worker *self = argument;
    shared_work *work = self->work;
    const picotag_preprocess *preprocess = picotag_model_preprocess(work->model);

    size_t photo = 0;
    while (take_photo(work, &photo)) {
        int32_t *row = work->logits + photo * work->class_count;
        picotag_error error;
        picotag_status status =
            picotag_image_load_views(work->paths[photo], preprocess, NULL, self->input, NULL, &error);
        if (status == PICOTAG_OK) {
            picotag_error run_error;
            status = picotag_runner_run_views(self->runner, self->input,
                                              picotag_preprocess_view_count(preprocess), row, &run_error);
            if (status != PICOTAG_OK) {
                picotag_error_set(&error, status, "%s: %s", work->paths[photo], run_error.message);
            }
        }
        work->succeeded[photo] = status == PICOTAG_OK;
        if (status != PICOTAG_OK) {
            memset(row, 0, work->class_count * sizeof(*row));
        }
        report_photo(work, photo, status == PICOTAG_OK ? NULL : error.message);
    }
    return NULL;
}

static void free_workers(worker *workers, int count) {
    for (int w = 0; w < count; w++) {
        picotag_runner_free(workers[w].runner);
        free(workers[w].input);
    }
    free(workers);
}

/* Creates each worker's runner and input buffer up front, so that a
 * failure is reported before any photo is read. */
static picotag_status create_workers(shared_work *work, int count, worker **created,
                                     picotag_error *error) {
    const picotag_preprocess *preprocess = picotag_model_preprocess(work->model);
    const size_t input_bytes = (size_t)picotag_preprocess_view_count(preprocess) *
                               preprocess->input_height * preprocess->input_width * 3;
    worker *workers = calloc((size_t)count, sizeof(*workers));
    if (workers == NULL) {
        return picotag_error_set(error, PICOTAG_ERROR_OUT_OF_MEMORY, "out of memory for %d workers",
                                 count);
    }

    const picotag_runner_options options = {.kernels = NULL, .threads = 1, .keep_all_values = 0};
    for (int w = 0; w < count; w++) {
        workers[w].work = work;
        picotag_status status = picotag_runner_create(work->model, (int)preprocess->input_height,
                                                      (int)preprocess->input_width, &options,
                                                      &workers[w].runner, error);
        if (status == PICOTAG_OK) {
            workers[w].input = malloc(input_bytes);
            if (workers[w].input == NULL) {
                status = picotag_error_set(error, PICOTAG_ERROR_OUT_OF_MEMORY,
                                           "out of memory for a %zu-byte input image", input_bytes);
            }
        }
        if (status != PICOTAG_OK) {
            free_workers(workers, count);
            return status;
        }
    }
    *created = workers;
    return PICOTAG_OK;
}

picotag_status eval_compute_photo_logits(const picotag_model *model, const char *const *paths,
                                         size_t photo_count, int threads,
                                         const eval_photo_callbacks *callbacks, int32_t *logits,
                                         uint8_t *succeeded, picotag_error *error) {
    if (model == NULL || (photo_count > 0 && (paths == NULL || logits == NULL || succeeded == NULL))) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "eval_compute_photo_logits: model, paths and outputs must not be NULL");
    }
    if (threads < 1 || threads > EVAL_MAX_THREADS) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "%d threads requested, expected 1 to %d", threads, EVAL_MAX_THREADS);
    }
    if (photo_count == 0) {
        return PICOTAG_OK;
    }
    if ((size_t)threads > photo_count) {
        threads = (int)photo_count;
    }

    shared_work work = {
        .model = model,
        .paths = paths,
        .photo_count = photo_count,
        .class_count = (size_t)picotag_model_class_count(model),
        .callbacks = callbacks,
        .logits = logits,
        .succeeded = succeeded,
    };
    if (pthread_mutex_init(&work.lock, NULL) != 0) {
        return picotag_error_set(error, PICOTAG_ERROR_OUT_OF_MEMORY, "cannot create a mutex");
    }
    worker *workers = NULL;
    picotag_status status = create_workers(&work, threads, &workers, error);
    if (status != PICOTAG_OK) {
        pthread_mutex_destroy(&work.lock);
        return status;
    }

    /* The calling thread is worker 0; a thread that cannot be started
     * leaves its share to the others. */
    for (int w = 1; w < threads; w++) {
        workers[w].started = pthread_create(&workers[w].thread, NULL, run_worker, &workers[w]) == 0;
    }
    run_worker(&workers[0]);
    for (int w = 1; w < threads; w++) {
        if (workers[w].started) {
            pthread_join(workers[w].thread, NULL);
        }
    }

    free_workers(workers, threads);
    pthread_mutex_destroy(&work.lock);
    return PICOTAG_OK;
}
