/* picotag tag PATH...: tag photos, print their tags, keep the catalogue. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tools/commands.h"
#include "tools/photo_output.h"
#include "tools/photo_tagging.h"
#include "tools/photo_walk.h"
#include "tools/progress.h"
#include "tools/text_format.h"
#include "tools/tool_catalogue.h"
#include "tools/tool_model.h"
#include "tools/worker_pool.h"

/* The widest path column of the table, in terminal columns; longer paths
 * push their tags to the right. */
#define TABLE_MAX_PATH_COLUMNS 48
#define MAX_THREADS 256
/* Photos per round of hashing, inference and printing, per worker: small
 * enough for a lively progress bar, large enough to keep workers busy. */
#define CHUNK_PHOTOS_PER_WORKER 8

typedef struct tag_arguments {
    const char *model_path;
    const char *catalogue_path;
    int no_catalogue;
    int write_sidecars;
    output_format format;
    picotag_language language;
    int threads;
    int by_content;
    const char **paths;         /* argc entries, path_count used; free() it */
    size_t path_count;
} tag_arguments;

static void print_tag_usage(FILE *stream) {
    char installed[PATH_MAX];
    tool_model_installed_default(installed, sizeof(installed));
    fprintf(stream,
            "usage: picotag tag [--model FILE] [--catalog FILE | --no-catalog] [--xmp]\n"
            "                   [--json | --csv] [--lang ko|en] [--threads N] [--all] PATH...\n"
            "\n"
            "Tags the photos in each PATH (files, and folders searched recursively) and\n"
            "prints their tags. In folders, photos are recognised by their extension (.jpg,\n"
            ".jpeg, .png, .webp, .heic, .heif, .avif, in any case); a file named directly\n"
            "is always tried. Names starting with '.' are skipped inside folders. Photo\n"
            "files are only read, never written. The network sees each photo through the\n"
            "model's test-time views (picotag info MODEL lists them; the bundled model\n"
            "runs 5) and tags by the mean of their logits.\n"
            "\n"
            "The catalogue remembers what was tagged: a photo that has not changed since\n"
            "it was tagged by the same model is not decoded again, and its stored tags are\n"
            "printed, so the output always lists every photo. A moved or renamed photo is\n"
            "recognised by its content (SHA-256) and keeps its tags; a different model\n"
            "file tags every photo again.\n"
            "\n"
            "options:\n"
            "  --model FILE    model file (default: $PICOTAG_MODEL, else models/default.ptm\n"
            "                  of this build, else %s)\n"
            "  --catalog FILE  catalogue database (default:\n"
            "                  $XDG_DATA_HOME/picotag/catalog.sqlite, or\n"
            "                  ~/.local/share/picotag/catalog.sqlite)\n"
            "  --no-catalog    use no catalogue: tag every photo, remember nothing\n"
            "  --xmp           write the tags into XMP sidecars (photo.jpg.xmp) as keywords\n"
            "                  and picotag|group|name hierarchical keywords; keywords that\n"
            "                  picotag did not write are kept\n"
            "  --json          print JSON Lines: one object per photo with path, status,\n"
            "                  width, height, captured (EXIF capture time or null), tags\n"
            "                  [{name, name_en, name_ko, group, score, logit}] and model\n"
            "  --csv           print CSV: path,status,width,height,tags,scores,model\n"
            "  --lang ko|en    language of tag names and messages (default: from\n"
            "                  LC_ALL, LC_MESSAGES or LANG; Korean when it starts with 'ko')\n"
            "  --threads N     tag N photos at a time, one per thread (default 1); the\n"
            "                  output is the same for every N\n"
            "  --all           in folders, try every file and recognise photos by content\n"
            "                  instead of by extension\n"
            "\n"
            "One line on stderr names each photo that failed and why; the scan goes on.\n"
            "A progress bar is drawn on stderr when it is a terminal, and a summary line\n"
            "follows the scan unless --json is given. Messages from the libraries (the\n"
            "reason after the file name) are in English.\n"
            "\n"
            "exit status:\n"
            "  0  every photo was tagged (or was unchanged)\n"
            "  1  some photos failed, or a PATH or folder could not be read\n"
            "  2  usage error\n"
            "  3  the model or the catalogue cannot be used; the scan stopped\n"
            "\n"
            "examples:\n"
            "  picotag tag ~/Pictures\n"
            "  picotag tag --json --threads 4 DCIM > tags.jsonl\n"
            "  picotag tag --xmp --lang ko 여행사진/\n",
            installed);
}

/* Parses an integer in [minimum, maximum]; returns 0 for anything else. */
static int parse_count(const char *text, long minimum, long maximum, int *value) {
    errno = 0;
    char *end = NULL;
    const long parsed = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || parsed < minimum || parsed > maximum) {
        return 0;
    }
    *value = (int)parsed;
    return 1;
}

typedef enum parse_result {
    PARSE_OK,
    PARSE_HELP,
    PARSE_ERROR
} parse_result;

/* Options may come before, between or after the paths; every argument
 * after "--" is a path. */
static parse_result parse_tag_arguments(int argc, char **argv, tag_arguments *args) {
    memset(args, 0, sizeof(*args));
    args->language = language_from_environment();
    args->threads = 1;
    args->format = OUTPUT_TABLE;
    args->paths = calloc((size_t)argc, sizeof(*args->paths));
    if (args->paths == NULL) {
        fprintf(stderr, "picotag tag: out of memory reading the arguments\n");
        return PARSE_ERROR;
    }
    int json = 0;
    int csv = 0;
    int only_paths = 0;

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const int has_value = i + 1 < argc;

        if (only_paths || arg[0] != '-' || arg[1] == '\0') {
            args->paths[args->path_count++] = arg;
        } else if (strcmp(arg, "--") == 0) {
            only_paths = 1;
        } else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            return PARSE_HELP;
        } else if (strcmp(arg, "--model") == 0 && has_value) {
            args->model_path = argv[++i];
        } else if (strcmp(arg, "--catalog") == 0 && has_value) {
            args->catalogue_path = argv[++i];
        } else if (strcmp(arg, "--no-catalog") == 0) {
            args->no_catalogue = 1;
        } else if (strcmp(arg, "--xmp") == 0) {
            args->write_sidecars = 1;
        } else if (strcmp(arg, "--json") == 0) {
            json = 1;
        } else if (strcmp(arg, "--csv") == 0) {
            csv = 1;
        } else if (strcmp(arg, "--all") == 0) {
            args->by_content = 1;
        } else if (strcmp(arg, "--lang") == 0 && has_value) {
            if (!language_parse(argv[++i], &args->language)) {
                fprintf(stderr, "picotag tag: --lang expects ko or en, got '%s'\n", argv[i]);
                return PARSE_ERROR;
            }
        } else if (strcmp(arg, "--threads") == 0 && has_value) {
            if (!parse_count(argv[++i], 1, MAX_THREADS, &args->threads)) {
                fprintf(stderr, "picotag tag: --threads expects a number from 1 to %d, got '%s'\n",
                        MAX_THREADS, argv[i]);
                return PARSE_ERROR;
            }
        } else {
            fprintf(stderr, "picotag tag: unknown option '%s', or it is missing its value\n", arg);
            return PARSE_ERROR;
        }
    }

    if (json && csv) {
        fprintf(stderr, "picotag tag: --json and --csv cannot be combined; choose one\n");
        return PARSE_ERROR;
    }
    if (args->no_catalogue && args->catalogue_path != NULL) {
        fprintf(stderr, "picotag tag: --catalog and --no-catalog cannot be combined\n");
        return PARSE_ERROR;
    }
    if (json) {
        args->format = OUTPUT_JSON;
    } else if (csv) {
        args->format = OUTPUT_CSV;
    }
    if (args->path_count == 0) {
        fprintf(stderr, "picotag tag: missing PATH: name the photos or folders to tag\n");
        return PARSE_ERROR;
    }
    return PARSE_OK;
}

/* ---- One run ------------------------------------------------------------ */

typedef struct tag_run {
    const tag_arguments *args;
    tool_model model;
    picotag_catalogue *catalogue;
    tagging_setup setup;
    photo_list photos;
    tagging_worker *workers;
    size_t worker_count;
    worker_pool *pool;
    photo_output output;
    int header_pending;         /* the table header waits for the first photo that is not failed */
    progress_bar progress;

    run_counts counts;
    int64_t unreadable_paths;   /* folders and named paths that could not be read */
    photo_job *jobs;            /* one chunk */
} tag_run;

static void report_walk_problem(void *user, walk_problem problem, const char *path,
                                int error_number) {
    tag_run *run = user;
    message_id lead = MESSAGE_CANNOT_READ_PHOTO;
    switch (problem) {
    case WALK_CANNOT_FIND_PATH:
        lead = MESSAGE_CANNOT_FIND_PATH;
        run->unreadable_paths++;
        break;
    case WALK_CANNOT_READ_FOLDER:
        lead = MESSAGE_CANNOT_READ_FOLDER;
        run->unreadable_paths++;
        break;
    case WALK_CANNOT_READ_PHOTO:
        lead = MESSAGE_CANNOT_READ_PHOTO;
        run->counts.failed++;
        break;
    case WALK_NOT_A_PHOTO_OR_FOLDER:
        lead = MESSAGE_NOT_A_PHOTO_OR_FOLDER;
        run->unreadable_paths++;
        break;
    }
    const char *language_lead = message_text(run->args->language, lead);
    if (error_number != 0) {
        fprintf(stderr, "picotag tag: %s: %s: %s\n", language_lead, path, strerror(error_number));
    } else {
        fprintf(stderr, "picotag tag: %s: %s\n", language_lead, path);
    }
}

static void hash_task(void *worker_state, size_t index, void *user) {
    (void)worker_state;
    photo_job *jobs = user;
    photo_job_hash(&jobs[index]);
}

static void infer_task(void *worker_state, size_t index, void *user) {
    tag_run *run = user;
    photo_job_infer_and_write_sidecar(worker_state, &run->setup, &run->jobs[index]);
}

static void count_outcome(run_counts *counts, const photo_job *job) {
    if (job->outcome == PHOTO_FAILED || job->sidecar_failed) {
        counts->failed++;
    } else if (job->outcome == PHOTO_TAGGED) {
        counts->tagged++;
    } else if (job->outcome == PHOTO_UNCHANGED) {
        counts->unchanged++;
    } else if (job->outcome == PHOTO_MOVED) {
        counts->moved++;
    }
}

/* Runs the catalogue steps of a chunk on this thread. */
typedef picotag_status (*catalogue_step)(const tagging_setup *setup, photo_job *job,
                                         picotag_error *error);

static int run_catalogue_step(tag_run *run, size_t count, catalogue_step step) {
    for (size_t i = 0; i < count; i++) {
        picotag_error error;
        if (step(&run->setup, &run->jobs[i], &error) != PICOTAG_OK) {
            progress_clear(&run->progress);
            fprintf(stderr, "picotag tag: %s\n", error.message);
            return 0;
        }
    }
    return 1;
}

/* Tags photos [first, first + count): catalogue check, hashing in the
 * workers, catalogue match, inference and sidecars in the workers,
 * recording, then printing in input order. Returns 0 on a catalogue
 * failure. */
static int tag_chunk(tag_run *run, size_t first, size_t count) {
    for (size_t i = 0; i < count; i++) {
        photo_job_init(&run->jobs[i], &run->photos.items[first + i]);
    }

    int ok = run_catalogue_step(run, count, photo_job_check_catalogue);
    if (ok) {
        worker_pool_run(run->pool, count, hash_task, run->jobs);
        ok = run_catalogue_step(run, count, photo_job_match_content);
    }
    if (ok) {
        worker_pool_run(run->pool, count, infer_task, run);
        ok = run_catalogue_step(run, count, photo_job_record);
    }

    if (ok) {
        progress_clear(&run->progress);
        for (size_t i = 0; i < count; i++) {
            const photo_job *job = &run->jobs[i];
            photo_job_print_failure(job, "tag", run->args->language);
            if (job->outcome != PHOTO_FAILED) {
                if (run->header_pending) {
                    photo_output_begin(&run->output);
                    run->header_pending = 0;
                }
                photo_output_write(&run->output, job);
            }
            count_outcome(&run->counts, job);
        }
        fflush(stdout);
        progress_draw(&run->progress, first + count);
    }
    for (size_t i = 0; i < count; i++) {
        photo_job_clear(&run->jobs[i]);
    }
    return ok;
}

static int tag_all_photos(tag_run *run) {
    picotag_error error;
    if (run->catalogue != NULL && picotag_catalogue_begin(run->catalogue, &error) != PICOTAG_OK) {
        fprintf(stderr, "picotag tag: %s\n", error.message);
        return 0;
    }

    const size_t chunk = run->worker_count * CHUNK_PHOTOS_PER_WORKER;
    progress_init(&run->progress, run->photos.count, run->args->language);
    progress_draw(&run->progress, 0);
    int ok = 1;
    for (size_t first = 0; first < run->photos.count && ok; first += chunk) {
        const size_t remaining = run->photos.count - first;
        ok = tag_chunk(run, first, remaining < chunk ? remaining : chunk);
    }
    progress_clear(&run->progress);

    /* What was recorded before a failure is kept. */
    if (run->catalogue != NULL && picotag_catalogue_commit(run->catalogue, &error) != PICOTAG_OK) {
        fprintf(stderr, "picotag tag: %s\n", error.message);
        ok = 0;
    }
    return ok;
}

static size_t path_column_width(const photo_list *photos, picotag_language language) {
    size_t width = text_display_width(message_text(language, MESSAGE_TABLE_PHOTO));
    for (size_t i = 0; i < photos->count; i++) {
        const size_t path_width = text_display_width(photos->items[i].path);
        if (path_width > width) {
            width = path_width;
        }
    }
    return width < TABLE_MAX_PATH_COLUMNS ? width : TABLE_MAX_PATH_COLUMNS;
}

static int start_workers(tag_run *run) {
    run->worker_count = (size_t)run->args->threads;
    if (run->photos.count < run->worker_count) {
        run->worker_count = run->photos.count > 0 ? run->photos.count : 1;
    }
    run->workers = calloc(run->worker_count, sizeof(*run->workers));
    void **states = calloc(run->worker_count, sizeof(*states));
    run->jobs = calloc(run->worker_count * CHUNK_PHOTOS_PER_WORKER, sizeof(*run->jobs));
    if (run->workers == NULL || states == NULL || run->jobs == NULL) {
        free(states);
        fprintf(stderr, "picotag tag: out of memory starting %zu workers\n", run->worker_count);
        return 0;
    }
    for (size_t i = 0; i < run->worker_count; i++) {
        picotag_error error;
        if (tagging_worker_init(&run->workers[i], &run->model, &error) != PICOTAG_OK) {
            fprintf(stderr, "picotag tag: %s\n", error.message);
            free(states);
            return 0;
        }
        states[i] = &run->workers[i];
    }
    run->pool = worker_pool_create(run->worker_count, states);
    free(states);
    if (run->pool == NULL) {
        fprintf(stderr, "picotag tag: cannot start %zu worker threads\n", run->worker_count);
        return 0;
    }
    return 1;
}

static void finish_run(tag_run *run) {
    worker_pool_free(run->pool);
    for (size_t i = 0; run->workers != NULL && i < run->worker_count; i++) {
        tagging_worker_free(&run->workers[i]);
    }
    free(run->workers);
    free(run->jobs);
    photo_list_free(&run->photos);
    picotag_catalogue_close(run->catalogue);
    tool_model_close(&run->model);
}

static double seconds_since(const struct timespec *start) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) * 1e-9;
}

/* Everything after the arguments: returns the exit status. */
static int run_tag(const tag_arguments *args) {
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);

    tag_run run = {.args = args};
    if (!tool_model_open("tag", args->model_path, &run.model)) {
        return EXIT_STATUS_FATAL;
    }
    if (!args->no_catalogue) {
        run.catalogue = tool_catalogue_open_for_tagging("tag", args->catalogue_path, &run.model);
        if (run.catalogue == NULL) {
            finish_run(&run);
            return EXIT_STATUS_FATAL;
        }
    }

    const photo_walk_options walk = {
        .by_content = args->by_content,
        .on_problem = report_walk_problem,
        .on_folder = NULL,
        .user = &run,
    };
    if (!photo_walk(args->paths, args->path_count, &walk, &run.photos)) {
        fprintf(stderr, "picotag tag: out of memory listing the photos\n");
        finish_run(&run);
        return EXIT_STATUS_FATAL;
    }
    if (!start_workers(&run)) {
        finish_run(&run);
        return EXIT_STATUS_FATAL;
    }

    run.setup = (tagging_setup){
        .model = &run.model,
        .catalogue = run.catalogue,
        .language = args->language,
        .write_sidecars = args->write_sidecars,
    };
    run.output = (photo_output){
        .stream = stdout,
        .format = args->format,
        .language = args->language,
        .model = &run.model,
        .path_width = path_column_width(&run.photos, args->language),
        .mark_moved = 0,
    };
    /* CSV always starts with its header row, so that an empty result still
     * parses. The table prints its header above the first row, so a run
     * where every photo fails prints only the failures and the summary. */
    if (args->format == OUTPUT_CSV) {
        photo_output_begin(&run.output);
    } else {
        run.header_pending = args->format == OUTPUT_TABLE;
    }

    const int completed = tag_all_photos(&run);
    if (args->format != OUTPUT_JSON) {
        message_print_tag_summary(stderr, args->language, &run.counts, seconds_since(&start));
    }
    int status = EXIT_STATUS_OK;
    if (!completed) {
        status = EXIT_STATUS_FATAL;
    } else if (run.counts.failed > 0 || run.unreadable_paths > 0) {
        status = EXIT_STATUS_SOME_FAILED;
    }
    finish_run(&run);
    return status;
}

int command_tag(int argc, char **argv) {
    tag_arguments args;
    const parse_result parsed = parse_tag_arguments(argc, argv, &args);
    int status;
    if (parsed == PARSE_HELP) {
        print_tag_usage(stdout);
        status = EXIT_STATUS_OK;
    } else if (parsed == PARSE_ERROR) {
        fprintf(stderr, "Run 'picotag tag --help' for the options.\n");
        status = EXIT_STATUS_USAGE_ERROR;
    } else {
        status = run_tag(&args);
    }
    free(args.paths);
    return status;
}
