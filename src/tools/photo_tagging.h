/*
 * The steps that take one photo from a file to its tags, shared by
 * `picotag tag` and `picotag watch`:
 *
 *   catalogue check (stat facts)  -> hash -> catalogue match (content)
 *   -> inference (decode, run, select tags) -> XMP sidecar -> catalogue record
 *
 * The catalogue steps run on the thread that owns the catalogue handle.
 * Hashing, inference and sidecars touch only the job and the worker, so any
 * worker thread may run them. A photo's problem is stored in its job and
 * never stops the others; a catalogue failure is returned, because it
 * concerns every photo after it.
 */
#ifndef PICOTAG_TOOLS_PHOTO_TAGGING_H
#define PICOTAG_TOOLS_PHOTO_TAGGING_H

#include <stddef.h>
#include <stdint.h>

#include "picotag.h"
#include "picotag_catalogue.h"
#include "picotag_tagger.h"
#include "tools/messages.h"
#include "tools/photo_walk.h"
#include "tools/tool_model.h"

typedef enum photo_outcome {
    PHOTO_PENDING,
    PHOTO_TAGGED,      /* the model ran on the photo */
    PHOTO_UNCHANGED,   /* the catalogue's tags are current */
    PHOTO_MOVED,       /* the catalogue's record moved to this path, tags kept */
    PHOTO_FAILED
} photo_outcome;

/* What is shared by every job of a run; read-only while workers run. */
typedef struct tagging_setup {
    const tool_model *model;
    picotag_catalogue *catalogue;   /* NULL without a catalogue */
    picotag_language language;
    int write_sidecars;
} tagging_setup;

/* One worker's network runner and buffers. */
typedef struct tagging_worker {
    picotag_runner *runner;
    uint8_t *rgb;                   /* every view: views x input height x width x 3 bytes */
    int views;                      /* picotag_preprocess_view_count of the model */
    int32_t *logits;                /* one per class */
    picotag_tagger_tag *selected;   /* one per class */
} tagging_worker;

typedef struct photo_job {
    const photo_file *file;
    photo_outcome outcome;
    int needs_hash;
    int needs_inference;
    uint8_t content_hash[PICOTAG_CONTENT_HASH_BYTES];
    int32_t width;                  /* pixels, upright; 0 when unknown */
    int32_t height;
    /* EXIF capture time, ISO 8601 as picotag_image_info has it; empty when
     * unknown. */
    char captured_at[PICOTAG_CAPTURED_AT_BYTES];
    picotag_tagger_tag *tags;       /* tag_count entries, highest probability first */
    size_t tag_count;

    /* The photo failed (outcome PHOTO_FAILED), or its tags are valid but the
     * sidecar could not be written (sidecar_failed). */
    int sidecar_failed;
    message_id failure_lead;
    char failure[sizeof(((picotag_error *)0)->message)];
} photo_job;

picotag_status tagging_worker_init(tagging_worker *worker, const tool_model *model,
                                   picotag_error *error);
void tagging_worker_free(tagging_worker *worker);

/* Prepares a job for `file`. */
void photo_job_init(photo_job *job, const photo_file *file);
void photo_job_clear(photo_job *job);

/* Catalogue thread: decides from size and mtime. An unchanged photo gets
 * its stored tags; any other needs hashing. Without a catalogue, every
 * photo needs inference. */
picotag_status photo_job_check_catalogue(const tagging_setup *setup, photo_job *job,
                                         picotag_error *error);

/* Any thread: computes the content hash when the job needs it. */
void photo_job_hash(photo_job *job);

/* Catalogue thread: decides from the content hash. A touched or moved
 * photo gets its stored tags; any other needs inference. */
picotag_status photo_job_match_content(const tagging_setup *setup, photo_job *job,
                                       picotag_error *error);

/* Any thread: decodes the photo, runs the network and selects the tags
 * when the job needs it. Then writes the sidecar, when the setup requests
 * sidecars and the photo has not failed. */
void photo_job_infer_and_write_sidecar(tagging_worker *worker, const tagging_setup *setup,
                                       photo_job *job);

/* Catalogue thread: records a photo tagged by this run. */
picotag_status photo_job_record(const tagging_setup *setup, photo_job *job,
                                picotag_error *error);

/* Every step on the calling thread, for one photo. */
picotag_status photo_job_run(tagging_worker *worker, const tagging_setup *setup, photo_job *job,
                             picotag_error *error);

/* Prints "picotag COMMAND: <lead-in>: <path>: <reason>" on stderr when the
 * job failed or its sidecar did. */
void photo_job_print_failure(const photo_job *job, const char *command,
                             picotag_language language);

#endif
