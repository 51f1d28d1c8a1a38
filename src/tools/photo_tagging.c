/* The steps that take one photo from a file to its tags. */
#include "tools/photo_tagging.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "picotag_image.h"

picotag_status tagging_worker_init(tagging_worker *worker, const tool_model *model,
                                   picotag_error *error) {
    memset(worker, 0, sizeof(*worker));
    const picotag_preprocess *preprocess = picotag_model_preprocess(model->model);
    const int classes = picotag_model_class_count(model->model);
    const picotag_runner_options options = {.kernels = NULL, .threads = 1, .keep_all_values = 0};

    picotag_status status =
        picotag_runner_create(model->model, (int)preprocess->input_height,
                              (int)preprocess->input_width, &options, &worker->runner, error);
    if (status != PICOTAG_OK) {
        return status;
    }
    worker->views = picotag_preprocess_view_count(preprocess);
    worker->rgb = malloc((size_t)worker->views * preprocess->input_height *
                         preprocess->input_width * 3);
    worker->logits = malloc((size_t)classes * sizeof(*worker->logits));
    worker->selected = malloc((size_t)classes * sizeof(*worker->selected));
    if (worker->rgb == NULL || worker->logits == NULL || worker->selected == NULL) {
        tagging_worker_free(worker);
        snprintf(error->message, sizeof(error->message),
                 "out of memory allocating the buffers of a worker");
        return PICOTAG_ERROR_OUT_OF_MEMORY;
    }
    return PICOTAG_OK;
}

void tagging_worker_free(tagging_worker *worker) {
    picotag_runner_free(worker->runner);
    free(worker->rgb);
    free(worker->logits);
    free(worker->selected);
    memset(worker, 0, sizeof(*worker));
}

void photo_job_init(photo_job *job, const photo_file *file) {
    memset(job, 0, sizeof(*job));
    job->file = file;
    job->outcome = PHOTO_PENDING;
}

void photo_job_clear(photo_job *job) {
    free(job->tags);
    job->tags = NULL;
    job->tag_count = 0;
}

/* Stores a failure, dropping a "<path>: " that the library put first,
 * because the printed line names the path itself. */
static void fail_job(photo_job *job, message_id lead, const char *reason) {
    const char *path = job->file->path;
    const size_t path_length = strlen(path);
    if (strncmp(reason, path, path_length) == 0 && strncmp(reason + path_length, ": ", 2) == 0) {
        reason += path_length + 2;
    }
    job->outcome = PHOTO_FAILED;
    job->needs_hash = 0;
    job->needs_inference = 0;
    job->failure_lead = lead;
    snprintf(job->failure, sizeof(job->failure), "%s", reason);
}

static int copy_tags(photo_job *job, const picotag_tagger_tag *tags, size_t count) {
    free(job->tags);
    job->tags = NULL;
    job->tag_count = 0;
    if (count == 0) {
        return 1;
    }
    job->tags = malloc(count * sizeof(*tags));
    if (job->tags == NULL) {
        return 0;
    }
    memcpy(job->tags, tags, count * sizeof(*tags));
    job->tag_count = count;
    return 1;
}

/* ---- Stored tags ------------------------------------------------------- */

typedef struct stored_tags {
    const picotag_model *model;
    picotag_tagger_tag *tags;
    size_t count;
    size_t capacity;
    int out_of_memory;
} stored_tags;

/* Maps a recorded tag back to the model's label. The catalogue returns only
 * tags recorded under the current model, so the class index and English
 * name agree with the label table. A tag that does not is left out. */
static void collect_stored_tag(const picotag_tag *tag, void *user) {
    stored_tags *stored = user;
    if (tag->class_index < 0 || tag->class_index >= picotag_model_class_count(stored->model)) {
        return;
    }
    const picotag_label *label = picotag_model_label(stored->model, tag->class_index);
    if (tag->label == NULL || strcmp(label->name_en, tag->label) != 0) {
        return;
    }
    if (stored->count == stored->capacity) {
        const size_t capacity = stored->capacity == 0 ? 8 : stored->capacity * 2;
        picotag_tagger_tag *grown = realloc(stored->tags, capacity * sizeof(*grown));
        if (grown == NULL) {
            stored->out_of_memory = 1;
            return;
        }
        stored->tags = grown;
        stored->capacity = capacity;
    }
    stored->tags[stored->count++] = (picotag_tagger_tag){
        .class_index = tag->class_index,
        .logit = tag->logit,
        .probability = tag->score,
        .label = label,
    };
}

/* Gives the job the catalogue's tags. */
static picotag_status load_stored_tags(const tagging_setup *setup, photo_job *job,
                                       picotag_error *error) {
    stored_tags stored = {.model = setup->model->model};
    picotag_status status =
        picotag_catalogue_photo_tags(setup->catalogue, job->file->canonical_path,
                                     collect_stored_tag, &stored, NULL, error);
    if (status == PICOTAG_OK && stored.out_of_memory) {
        snprintf(error->message, sizeof(error->message), "out of memory reading the tags of %s",
                 job->file->path);
        status = PICOTAG_ERROR_OUT_OF_MEMORY;
    }
    if (status == PICOTAG_OK) {
        free(job->tags);
        job->tags = stored.tags;
        job->tag_count = stored.count;
    } else {
        free(stored.tags);
    }
    return status;
}

/* ---- Catalogue decisions ------------------------------------------------ */

picotag_status photo_job_check_catalogue(const tagging_setup *setup, photo_job *job,
                                         picotag_error *error) {
    if (setup->catalogue == NULL) {
        job->needs_inference = 1;
        return PICOTAG_OK;
    }

    picotag_photo_lookup found;
    picotag_status status =
        picotag_catalogue_lookup(setup->catalogue, job->file->canonical_path,
                                 job->file->size_bytes, job->file->mtime_ns, &found, error);
    if (status != PICOTAG_OK) {
        return status;
    }
    if (found.decision == PICOTAG_PHOTO_UNCHANGED) {
        job->outcome = PHOTO_UNCHANGED;
        job->width = found.width;
        job->height = found.height;
        memcpy(job->captured_at, found.captured_at, sizeof(job->captured_at));
        return load_stored_tags(setup, job, error);
    }
    job->needs_hash = 1;
    return PICOTAG_OK;
}

void photo_job_hash(photo_job *job) {
    if (!job->needs_hash) {
        return;
    }
    picotag_error error;
    if (picotag_content_hash_file(job->file->path, job->content_hash, NULL, &error) !=
        PICOTAG_OK) {
        fail_job(job, MESSAGE_CANNOT_READ_PHOTO, error.message);
    }
}

picotag_status photo_job_match_content(const tagging_setup *setup, photo_job *job,
                                       picotag_error *error) {
    if (!job->needs_hash) {
        return PICOTAG_OK;
    }
    job->needs_hash = 0;

    picotag_photo_lookup found;
    picotag_status status = picotag_catalogue_match_content(
        setup->catalogue, job->file->canonical_path, job->file->size_bytes, job->file->mtime_ns,
        job->content_hash, &found, error);
    if (status != PICOTAG_OK) {
        return status;
    }
    if (found.decision == PICOTAG_PHOTO_UNCHANGED) {
        job->outcome = found.moved ? PHOTO_MOVED : PHOTO_UNCHANGED;

        /* Only a lookup reports the recorded size in pixels; the record
         * now has this path, size and mtime. */
        picotag_photo_lookup record;
        status = picotag_catalogue_lookup(setup->catalogue, job->file->canonical_path,
                                          job->file->size_bytes, job->file->mtime_ns, &record,
                                          error);
        if (status != PICOTAG_OK) {
            return status;
        }
        job->width = record.width;
        job->height = record.height;
        memcpy(job->captured_at, record.captured_at, sizeof(job->captured_at));
        return load_stored_tags(setup, job, error);
    }
    job->needs_inference = 1;
    return PICOTAG_OK;
}

/* ---- Inference and sidecars --------------------------------------------- */

static void infer(tagging_worker *worker, const tagging_setup *setup, photo_job *job) {
    const picotag_model *model = setup->model->model;
    picotag_image_info info;
    picotag_error error;
    if (picotag_image_load_views(job->file->path, picotag_model_preprocess(model), NULL,
                                 worker->rgb, &info, &error) != PICOTAG_OK) {
        fail_job(job, MESSAGE_CANNOT_READ_PHOTO, error.message);
        return;
    }

    job->width = (int32_t)info.upright_width;
    job->height = (int32_t)info.upright_height;
    _Static_assert(sizeof(info.capture_time) <= sizeof(job->captured_at),
                   "a capture time fits the job's buffer");
    memcpy(job->captured_at, info.capture_time, sizeof(info.capture_time));

    if (picotag_runner_run_views(worker->runner, worker->rgb, worker->views, worker->logits,
                                 &error) != PICOTAG_OK) {
        fail_job(job, MESSAGE_CANNOT_RUN_MODEL, error.message);
        return;
    }
    const size_t count = picotag_tagger_select(model, worker->logits, worker->selected);
    if (!copy_tags(job, worker->selected, count)) {
        fail_job(job, MESSAGE_CANNOT_RUN_MODEL, "out of memory storing the tags");
        return;
    }
    job->needs_inference = 0;
    job->outcome = PHOTO_TAGGED;
}

static void write_sidecar(const tagging_setup *setup, photo_job *job) {
    char sidecar[PATH_MAX + 8];
    picotag_error error;
    if (picotag_xmp_sidecar_path(job->file->canonical_path, PICOTAG_XMP_APPEND_EXTENSION, sidecar,
                                 sizeof(sidecar), &error) != PICOTAG_OK) {
        job->sidecar_failed = 1;
        job->failure_lead = MESSAGE_CANNOT_WRITE_SIDECAR;
        snprintf(job->failure, sizeof(job->failure), "%s", error.message);
        return;
    }

    picotag_xmp_keyword *keywords = calloc(job->tag_count + 1, sizeof(*keywords));
    if (keywords == NULL) {
        job->sidecar_failed = 1;
        job->failure_lead = MESSAGE_CANNOT_WRITE_SIDECAR;
        snprintf(job->failure, sizeof(job->failure), "out of memory");
        return;
    }
    for (size_t i = 0; i < job->tag_count; i++) {
        const picotag_label *label = job->tags[i].label;
        const char *group = picotag_tagger_group(label, setup->language);
        keywords[i].name = picotag_tagger_name(label, setup->language);
        keywords[i].group = group[0] != '\0' ? group : NULL;
    }
    if (picotag_xmp_write_keywords(sidecar, keywords, job->tag_count, NULL, &error) !=
        PICOTAG_OK) {
        job->sidecar_failed = 1;
        job->failure_lead = MESSAGE_CANNOT_WRITE_SIDECAR;
        snprintf(job->failure, sizeof(job->failure), "%s", error.message);
    }
    free(keywords);
}

void photo_job_infer_and_write_sidecar(tagging_worker *worker, const tagging_setup *setup,
                                       photo_job *job) {
    if (job->needs_inference) {
        infer(worker, setup, job);
    }
    if (setup->write_sidecars && job->outcome != PHOTO_FAILED && job->outcome != PHOTO_PENDING) {
        write_sidecar(setup, job);
    }
}

/* ---- Recording ---------------------------------------------------------- */

picotag_status photo_job_record(const tagging_setup *setup, photo_job *job,
                                picotag_error *error) {
    if (setup->catalogue == NULL || job->outcome != PHOTO_TAGGED) {
        return PICOTAG_OK;
    }
    picotag_tag *tags = calloc(job->tag_count + 1, sizeof(*tags));
    if (tags == NULL) {
        snprintf(error->message, sizeof(error->message), "out of memory recording %s",
                 job->file->path);
        return PICOTAG_ERROR_OUT_OF_MEMORY;
    }
    for (size_t i = 0; i < job->tag_count; i++) {
        tags[i].class_index = job->tags[i].class_index;
        tags[i].label = job->tags[i].label->name_en;
        tags[i].score = job->tags[i].probability;
        tags[i].logit = job->tags[i].logit;
    }

    picotag_photo_record record = {
        .path = job->file->canonical_path,
        .size_bytes = job->file->size_bytes,
        .mtime_ns = job->file->mtime_ns,
        .width = job->width,
        .height = job->height,
        .captured_at = job->captured_at[0] != '\0' ? job->captured_at : NULL,
    };
    memcpy(record.content_hash, job->content_hash, sizeof(record.content_hash));
    const picotag_status status =
        picotag_catalogue_record(setup->catalogue, &record, tags, job->tag_count, NULL, error);
    free(tags);
    return status;
}

picotag_status photo_job_run(tagging_worker *worker, const tagging_setup *setup, photo_job *job,
                             picotag_error *error) {
    picotag_status status = photo_job_check_catalogue(setup, job, error);
    if (status != PICOTAG_OK) {
        return status;
    }
    photo_job_hash(job);
    status = photo_job_match_content(setup, job, error);
    if (status != PICOTAG_OK) {
        return status;
    }
    photo_job_infer_and_write_sidecar(worker, setup, job);
    return photo_job_record(setup, job, error);
}

void photo_job_print_failure(const photo_job *job, const char *command,
                             picotag_language language) {
    if (job->outcome != PHOTO_FAILED && !job->sidecar_failed) {
        return;
    }
    fprintf(stderr, "picotag %s: %s: %s: %s\n", command, message_text(language, job->failure_lead),
            job->file->path, job->failure);
}
