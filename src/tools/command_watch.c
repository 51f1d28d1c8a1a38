/* picotag watch DIR...: tag photos as they arrive, follow renames and
 * deletions, until SIGINT or SIGTERM. Linux only (inotify). */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tools/commands.h"
#include "tools/photo_output.h"
#include "tools/photo_tagging.h"
#include "tools/photo_walk.h"
#include "tools/tool_catalogue.h"
#include "tools/tool_model.h"
#include "tools/watch_table.h"

/* Milliseconds without events after which the session commits the
 * catalogue, treats unpaired IN_MOVED_FROM events as deletions and removes
 * the records of deleted photos. The kernel queues the two halves of a
 * rename together, so a pair is never this far apart. */
#define IDLE_MILLISECONDS 200
/* The same work is done at least this often while events keep coming. */
#define MAX_DEFERRED_MILLISECONDS 1000

typedef struct watch_arguments {
    const char *model_path;
    const char *catalogue_path;
    int no_catalogue;
    int write_sidecars;
    int json;
    picotag_language language;
    const char **folders;       /* argc entries, folder_count used; free() it */
    size_t folder_count;
} watch_arguments;

static void print_watch_usage(FILE *stream) {
    fprintf(stream,
            "usage: picotag watch [--model FILE] [--catalog FILE | --no-catalog] [--xmp]\n"
            "                     [--json] [--lang ko|en] DIR...\n"
            "\n"
            "Watches each DIR and its subfolders (new ones too) and tags every photo\n"
            "written or moved into them, once the program writing it has closed it.\n"
            "First it tags the photos already there that the catalogue does not know.\n"
            "A renamed or moved photo keeps its tags without running the model again,\n"
            "and a deleted photo is removed from the catalogue. Runs until interrupted\n"
            "(Ctrl+C, SIGINT or SIGTERM), then commits the catalogue and exits.\n"
            "\n"
            "Prints one line per photo tagged, moved or removed: the path and its tags,\n"
            "or with --json one object per photo as 'picotag tag --json' prints them,\n"
            "with status tagged, moved or removed. A photo that fails gets one line on\n"
            "stderr; messages from the libraries (the reason after the file name) are in\n"
            "English.\n"
            "\n"
            "options:\n"
            "  --model FILE    model file (default: $PICOTAG_MODEL, else models/default.ptm\n"
            "                  of this build, else the installed default model)\n"
            "  --catalog FILE  catalogue database (default:\n"
            "                  $XDG_DATA_HOME/picotag/catalog.sqlite, or\n"
            "                  ~/.local/share/picotag/catalog.sqlite)\n"
            "  --no-catalog    use no catalogue: renamed photos are tagged again and\n"
            "                  deletions are ignored\n"
            "  --xmp           write the tags into XMP sidecars (photo.jpg.xmp)\n"
            "  --json          print JSON Lines\n"
            "  --lang ko|en    language of tag names and messages (default: from\n"
            "                  LC_ALL, LC_MESSAGES or LANG)\n"
            "\n"
            "exit status:\n"
            "  0  stopped by SIGINT or SIGTERM; every tag found was committed\n"
            "  2  usage error\n"
            "  3  the model, the catalogue or a DIR cannot be used, or inotify failed\n");
}

typedef enum parse_result {
    PARSE_OK,
    PARSE_HELP,
    PARSE_ERROR
} parse_result;

static parse_result parse_watch_arguments(int argc, char **argv, watch_arguments *args) {
    memset(args, 0, sizeof(*args));
    args->language = language_from_environment();
    args->folders = calloc((size_t)argc, sizeof(*args->folders));
    if (args->folders == NULL) {
        fprintf(stderr, "picotag watch: out of memory reading the arguments\n");
        return PARSE_ERROR;
    }
    int only_folders = 0;

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const int has_value = i + 1 < argc;

        if (only_folders || arg[0] != '-' || arg[1] == '\0') {
            args->folders[args->folder_count++] = arg;
        } else if (strcmp(arg, "--") == 0) {
            only_folders = 1;
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
            args->json = 1;
        } else if (strcmp(arg, "--lang") == 0 && has_value) {
            if (!language_parse(argv[++i], &args->language)) {
                fprintf(stderr, "picotag watch: --lang expects ko or en, got '%s'\n", argv[i]);
                return PARSE_ERROR;
            }
        } else {
            fprintf(stderr, "picotag watch: unknown option '%s', or it is missing its value\n",
                    arg);
            return PARSE_ERROR;
        }
    }
    if (args->no_catalogue && args->catalogue_path != NULL) {
        fprintf(stderr, "picotag watch: --catalog and --no-catalog cannot be combined\n");
        return PARSE_ERROR;
    }
    if (args->folder_count == 0) {
        fprintf(stderr, "picotag watch: missing DIR: name the folders to watch\n");
        return PARSE_ERROR;
    }
    return PARSE_OK;
}

/* ---- Session state ------------------------------------------------------ */

/* An IN_MOVED_FROM waiting for its IN_MOVED_TO. */
typedef struct pending_move {
    uint32_t cookie;
    int is_folder;
    char *path;
    int64_t since_ms;
} pending_move;

typedef struct string_list {
    char **items;
    size_t count;
    size_t capacity;
} string_list;

typedef struct watch_session {
    const watch_arguments *args;
    tool_model model;
    picotag_catalogue *catalogue;
    tagging_setup setup;
    tagging_worker worker;
    photo_output output;
    watch_table watches;
    int signal_fd;

    char **roots;                /* canonical paths of the DIR arguments */
    size_t root_count;
    pending_move *moves;
    size_t move_count;
    size_t move_capacity;
    string_list prune_folders;   /* folders where photos were deleted */
    int uncommitted;             /* the catalogue batch has writes */
    int64_t last_idle_ms;

    run_counts counts;
    int failed;                  /* a fatal error stopped the session */
    int stopping;                /* SIGINT or SIGTERM arrived */
} watch_session;

static int64_t now_milliseconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static int string_list_add_unique(string_list *list, const char *text) {
    for (size_t i = 0; i < list->count; i++) {
        if (strcmp(list->items[i], text) == 0) {
            return 1;
        }
    }
    if (list->count == list->capacity) {
        const size_t capacity = list->capacity == 0 ? 8 : list->capacity * 2;
        char **grown = realloc(list->items, capacity * sizeof(*grown));
        if (grown == NULL) {
            return 0;
        }
        list->items = grown;
        list->capacity = capacity;
    }
    list->items[list->count] = strdup(text);
    return list->items[list->count++] != NULL;
}

static void string_list_clear(string_list *list) {
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i]);
    }
    list->count = 0;
}

static void fail_session(watch_session *session, const char *message) {
    fprintf(stderr, "picotag watch: %s\n", message);
    session->failed = 1;
}

/* Reads a pending SIGINT or SIGTERM from the signal descriptor, without
 * waiting, so that long scans stop between photos too. */
static int stop_requested(watch_session *session) {
    if (!session->stopping && session->signal_fd >= 0) {
        struct signalfd_siginfo signal_info;
        if (read(session->signal_fd, &signal_info, sizeof(signal_info)) > 0) {
            session->stopping = 1;
        }
    }
    return session->stopping;
}

/* ---- Tagging ------------------------------------------------------------ */

static void tag_photo_file(watch_session *session, const photo_file *file) {
    photo_job job;
    photo_job_init(&job, file);
    picotag_error error;
    if (photo_job_run(&session->worker, &session->setup, &job, &error) != PICOTAG_OK) {
        photo_job_clear(&job);
        fail_session(session, error.message);
        return;
    }
    session->uncommitted |= session->catalogue != NULL;

    photo_job_print_failure(&job, "watch", session->args->language);
    if (job.outcome == PHOTO_FAILED || job.sidecar_failed) {
        session->counts.failed++;
    }
    if (job.outcome == PHOTO_TAGGED || job.outcome == PHOTO_MOVED) {
        photo_output_write(&session->output, &job);
        fflush(stdout);
        if (!job.sidecar_failed) {
            session->counts.tagged += job.outcome == PHOTO_TAGGED;
            session->counts.moved += job.outcome == PHOTO_MOVED;
        }
    }
    photo_job_clear(&job);
}

static void tag_photo_path(watch_session *session, const char *path) {
    photo_file file;
    if (!photo_file_read(path, &file)) {
        /* Gone again before it could be read: the later event handles it. */
        if (errno != ENOENT && errno != EINVAL) {
            fprintf(stderr, "picotag watch: %s: %s: %s\n",
                    message_text(session->args->language, MESSAGE_CANNOT_READ_PHOTO), path,
                    strerror(errno));
            session->counts.failed++;
        }
        return;
    }
    tag_photo_file(session, &file);
    photo_file_free(&file);
}

static void watch_folder(void *user, const char *path) {
    watch_session *session = user;
    if (!watch_table_add(&session->watches, path)) {
        const int saved = errno;
        const char *hint = saved == ENOSPC ? " (raise fs.inotify.max_user_watches)" : "";
        fprintf(stderr, "picotag watch: %s: %s: %s%s\n",
                message_text(session->args->language, MESSAGE_WATCH_CANNOT_WATCH_FOLDER), path,
                strerror(saved), hint);
    }
}

static void report_walk_problem(void *user, walk_problem problem, const char *path,
                                int error_number) {
    watch_session *session = user;
    message_id lead = MESSAGE_CANNOT_READ_PHOTO;
    switch (problem) {
    case WALK_CANNOT_READ_FOLDER:
        lead = MESSAGE_CANNOT_READ_FOLDER;
        break;
    case WALK_CANNOT_FIND_PATH:
        lead = MESSAGE_CANNOT_FIND_PATH;
        break;
    case WALK_NOT_A_PHOTO_OR_FOLDER:
        lead = MESSAGE_NOT_A_PHOTO_OR_FOLDER;
        break;
    case WALK_CANNOT_READ_PHOTO:
        session->counts.failed++;
        break;
    }
    const char *language_lead = message_text(session->args->language, lead);
    if (error_number != 0) {
        fprintf(stderr, "picotag watch: %s: %s: %s\n", language_lead, path, strerror(error_number));
    } else {
        fprintf(stderr, "picotag watch: %s: %s\n", language_lead, path);
    }
}

/* Watches `folder` and the folders under it, then tags their photos. */
static void scan_folder(watch_session *session, const char *folder) {
    const photo_walk_options options = {
        .by_content = 0,
        .on_problem = report_walk_problem,
        .on_folder = watch_folder,
        .user = session,
    };
    photo_list photos = {0};
    const char *paths[1] = {folder};
    if (!photo_walk(paths, 1, &options, &photos)) {
        fail_session(session, "out of memory listing the photos");
    }
    for (size_t i = 0; i < photos.count && !session->failed && !stop_requested(session); i++) {
        tag_photo_file(session, &photos.items[i]);
    }
    photo_list_free(&photos);
}

/* ---- Deferred work: moves out, deletions, commits ------------------------ */

static void print_removed(const char *path, void *user) {
    watch_session *session = user;
    photo_output_write_removed(&session->output, path);
    session->counts.removed++;
}

static void add_prune_folder_of(watch_session *session, const char *path) {
    char *folder = strdup(path);
    char *slash = folder != NULL ? strrchr(folder, '/') : NULL;
    if (slash == NULL) {
        free(folder);
        return;
    }
    *slash = '\0';
    if (!string_list_add_unique(&session->prune_folders, folder[0] != '\0' ? folder : "/")) {
        fail_session(session, "out of memory remembering a deletion");
    }
    free(folder);
}

/* An IN_MOVED_FROM without its IN_MOVED_TO left the watched folders: for
 * the catalogue that is a deletion. */
static void settle_moves(watch_session *session, int64_t now_ms, int all) {
    size_t kept_count = 0;
    for (size_t i = 0; i < session->move_count; i++) {
        pending_move *move = &session->moves[i];
        if (!all && now_ms - move->since_ms < IDLE_MILLISECONDS) {
            session->moves[kept_count++] = *move;
            continue;
        }
        if (move->is_folder) {
            watch_table_remove_tree(&session->watches, move->path);
        }
        add_prune_folder_of(session, move->path);
        free(move->path);
    }
    session->move_count = kept_count;
}

/* Commits the batch, removes the records of deleted photos, and starts a
 * new batch. Pruning needs the batch closed. */
static void do_deferred_work(watch_session *session, int all_moves) {
    const int64_t now_ms = now_milliseconds();
    session->last_idle_ms = now_ms;
    settle_moves(session, now_ms, all_moves);
    if (session->catalogue == NULL) {
        string_list_clear(&session->prune_folders);
        return;
    }
    if (!session->uncommitted && session->prune_folders.count == 0) {
        return;
    }

    picotag_error error;
    if (picotag_catalogue_commit(session->catalogue, &error) != PICOTAG_OK) {
        fail_session(session, error.message);
        return;
    }
    session->uncommitted = 0;
    for (size_t i = 0; i < session->prune_folders.count; i++) {
        struct stat info;
        /* A folder that is gone as a whole may be an unmounted drive:
         * its records stay. */
        if (stat(session->prune_folders.items[i], &info) != 0 || !S_ISDIR(info.st_mode)) {
            continue;
        }
        if (picotag_catalogue_prune(session->catalogue, session->prune_folders.items[i],
                                    print_removed, session, NULL, &error) != PICOTAG_OK) {
            fail_session(session, error.message);
            break;
        }
    }
    fflush(stdout);
    string_list_clear(&session->prune_folders);
    if (!session->failed && picotag_catalogue_begin(session->catalogue, &error) != PICOTAG_OK) {
        fail_session(session, error.message);
    }
}

/* ---- Events ------------------------------------------------------------- */

static int remember_move(watch_session *session, const struct inotify_event *event,
                         const char *path) {
    if (session->move_count == session->move_capacity) {
        const size_t capacity = session->move_capacity == 0 ? 8 : session->move_capacity * 2;
        pending_move *grown = realloc(session->moves, capacity * sizeof(*grown));
        if (grown == NULL) {
            return 0;
        }
        session->moves = grown;
        session->move_capacity = capacity;
    }
    char *copy = strdup(path);
    if (copy == NULL) {
        return 0;
    }
    session->moves[session->move_count++] = (pending_move){
        .cookie = event->cookie,
        .is_folder = (event->mask & IN_ISDIR) != 0,
        .path = copy,
        .since_ms = now_milliseconds(),
    };
    return 1;
}

/* Drops the IN_MOVED_FROM that pairs with an IN_MOVED_TO: the photo (or
 * folder) stayed in the watched tree. */
static void pair_move(watch_session *session, uint32_t cookie) {
    for (size_t i = 0; i < session->move_count; i++) {
        if (session->moves[i].cookie == cookie) {
            free(session->moves[i].path);
            session->moves[i] = session->moves[session->move_count - 1];
            session->move_count--;
            return;
        }
    }
}

static void rescan_everything(watch_session *session) {
    fprintf(stderr, "picotag watch: %s\n",
            message_text(session->args->language, MESSAGE_WATCH_RESCANNING));
    settle_moves(session, now_milliseconds(), 1);
    for (size_t i = 0; i < session->root_count && !session->failed; i++) {
        scan_folder(session, session->roots[i]);
        if (!string_list_add_unique(&session->prune_folders, session->roots[i])) {
            fail_session(session, "out of memory remembering a rescan");
        }
    }
}

static void handle_event(watch_session *session, const struct inotify_event *event) {
    if (event->mask & IN_Q_OVERFLOW) {
        rescan_everything(session);
        return;
    }
    if (event->mask & IN_IGNORED) {
        watch_table_forget(&session->watches, event->wd);
        return;
    }
    const char *folder = watch_table_path(&session->watches, event->wd);
    if (folder == NULL || event->len == 0 || event->name[0] == '\0' || event->name[0] == '.') {
        return;
    }
    const int is_folder = (event->mask & IN_ISDIR) != 0;
    if (!is_folder && !photo_walk_has_photo_extension(event->name)) {
        return;
    }

    char path[PATH_MAX];
    const int written = snprintf(path, sizeof(path), "%s/%s", folder, event->name);
    if (written < 0 || (size_t)written >= sizeof(path)) {
        fprintf(stderr, "picotag watch: %s: %s/%s: path too long\n",
                message_text(session->args->language, MESSAGE_CANNOT_READ_PHOTO), folder,
                event->name);
        return;
    }

    if (event->mask & IN_MOVED_FROM) {
        if (!remember_move(session, event, path)) {
            fail_session(session, "out of memory remembering a move");
        }
    } else if (event->mask & IN_MOVED_TO) {
        pair_move(session, event->cookie);
        if (is_folder) {
            /* Limitation: the catalogue has no operation that moves a
             * folder's records, so the photos of a renamed folder are
             * hashed again (not tagged again) to find their records. */
            scan_folder(session, path);
        } else {
            tag_photo_path(session, path);
        }
    } else if (event->mask & IN_CREATE) {
        /* Files are tagged when closed after writing; a new folder needs
         * its watch now, and may already hold photos. */
        if (is_folder) {
            scan_folder(session, path);
        }
    } else if (event->mask & IN_CLOSE_WRITE) {
        tag_photo_path(session, path);
    } else if (event->mask & IN_DELETE) {
        add_prune_folder_of(session, path);
    }
}

/* Reads and handles every queued event. */
static void read_events(watch_session *session) {
    /* Aligned for struct inotify_event, as inotify(7) recommends. */
    char buffer[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
    while (!session->failed && !stop_requested(session)) {
        const ssize_t length = read(session->watches.inotify_fd, buffer, sizeof(buffer));
        if (length < 0 && errno == EINTR) {
            continue;
        }
        if (length < 0 && errno == EAGAIN) {
            return;
        }
        if (length <= 0) {
            fail_session(session, length == 0 ? "inotify returned no data"
                                              : "reading inotify events failed");
            return;
        }
        for (ssize_t offset = 0; offset < length && !session->failed && !session->stopping;) {
            const struct inotify_event *event = (const struct inotify_event *)(buffer + offset);
            handle_event(session, event);
            offset += (ssize_t)(sizeof(struct inotify_event) + event->len);
        }
    }
}

/* Waits for events and signals until SIGINT or SIGTERM. */
static void run_event_loop(watch_session *session) {
    session->last_idle_ms = now_milliseconds();
    while (!session->failed && !session->stopping) {
        const int has_deferred_work =
            session->move_count > 0 || session->prune_folders.count > 0 || session->uncommitted;
        struct pollfd descriptors[2] = {
            {.fd = session->watches.inotify_fd, .events = POLLIN},
            {.fd = session->signal_fd, .events = POLLIN},
        };
        const int ready = poll(descriptors, 2, has_deferred_work ? IDLE_MILLISECONDS : -1);
        if (ready < 0 && errno != EINTR) {
            fail_session(session, "waiting for events failed");
            break;
        }
        if (ready > 0 && (descriptors[1].revents & POLLIN) && stop_requested(session)) {
            break;
        }
        if (ready > 0 && (descriptors[0].revents & POLLIN)) {
            read_events(session);
        }
        const int idle = ready == 0;
        if (idle || now_milliseconds() - session->last_idle_ms >= MAX_DEFERRED_MILLISECONDS) {
            do_deferred_work(session, idle);
        }
    }
}

/* ---- Setup and shutdown ------------------------------------------------- */

/* Blocks SIGINT and SIGTERM and delivers them through a file descriptor, so
 * that the event loop handles them between events and never mid-write. */
static int open_signal_fd(void) {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &signals, NULL) != 0) {
        return -1;
    }
    return signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);
}

static int resolve_roots(watch_session *session) {
    session->roots = calloc(session->args->folder_count, sizeof(*session->roots));
    if (session->roots == NULL) {
        fail_session(session, "out of memory");
        return 0;
    }
    for (size_t i = 0; i < session->args->folder_count; i++) {
        const char *folder = session->args->folders[i];
        struct stat info;
        const char *problem = NULL;
        if (stat(folder, &info) != 0) {
            problem = strerror(errno);
        } else if (!S_ISDIR(info.st_mode)) {
            problem = "not a folder";
        }
        if (problem != NULL) {
            fprintf(stderr, "picotag watch: %s: %s: %s\n",
                    message_text(session->args->language, MESSAGE_WATCH_CANNOT_WATCH_FOLDER),
                    folder, problem);
            return 0;
        }
        session->roots[i] = realpath(folder, NULL);
        if (session->roots[i] == NULL) {
            fprintf(stderr, "picotag watch: %s: %s: %s\n",
                    message_text(session->args->language, MESSAGE_WATCH_CANNOT_WATCH_FOLDER),
                    folder, strerror(errno));
            return 0;
        }
        session->root_count++;
    }
    return 1;
}

static int start_session(watch_session *session) {
    const watch_arguments *args = session->args;
    session->signal_fd = -1;
    session->watches.inotify_fd = -1;
    if (!resolve_roots(session) || !tool_model_open("watch", args->model_path, &session->model)) {
        return 0;
    }
    if (!args->no_catalogue) {
        session->catalogue =
            tool_catalogue_open_for_tagging("watch", args->catalogue_path, &session->model);
        if (session->catalogue == NULL) {
            return 0;
        }
    }
    picotag_error error;
    if (tagging_worker_init(&session->worker, &session->model, &error) != PICOTAG_OK) {
        fail_session(session, error.message);
        return 0;
    }
    if (!watch_table_init(&session->watches)) {
        fprintf(stderr, "picotag watch: cannot start inotify: %s\n", strerror(errno));
        return 0;
    }
    session->signal_fd = open_signal_fd();
    if (session->signal_fd < 0) {
        fprintf(stderr, "picotag watch: cannot receive signals: %s\n", strerror(errno));
        return 0;
    }
    if (session->catalogue != NULL && picotag_catalogue_begin(session->catalogue, &error) != PICOTAG_OK) {
        fail_session(session, error.message);
        return 0;
    }

    session->setup = (tagging_setup){
        .model = &session->model,
        .catalogue = session->catalogue,
        .language = args->language,
        .write_sidecars = args->write_sidecars,
    };
    session->output = (photo_output){
        .stream = stdout,
        .format = args->json ? OUTPUT_JSON : OUTPUT_TABLE,
        .language = args->language,
        .model = &session->model,
        .path_width = 0,
        .mark_moved = 1,
    };
    return 1;
}

static void stop_session(watch_session *session) {
    if (session->catalogue != NULL) {
        picotag_error error;
        if (picotag_catalogue_commit(session->catalogue, &error) != PICOTAG_OK) {
            fail_session(session, error.message);
        }
    }
    for (size_t i = 0; i < session->move_count; i++) {
        free(session->moves[i].path);
    }
    free(session->moves);
    string_list_clear(&session->prune_folders);
    free(session->prune_folders.items);
    for (size_t i = 0; i < session->root_count; i++) {
        free(session->roots[i]);
    }
    free(session->roots);
    if (session->signal_fd >= 0) {
        close(session->signal_fd);
    }
    watch_table_free(&session->watches);
    tagging_worker_free(&session->worker);
    picotag_catalogue_close(session->catalogue);
    tool_model_close(&session->model);
}

static int run_watch(const watch_arguments *args) {
    watch_session session = {.args = args};
    if (!start_session(&session)) {
        stop_session(&session);
        return EXIT_STATUS_FATAL;
    }

    for (size_t i = 0; i < session.root_count && !session.failed; i++) {
        scan_folder(&session, session.roots[i]);
        /* Photos deleted while no session was watching leave the catalogue
         * too. */
        if (!string_list_add_unique(&session.prune_folders, session.roots[i])) {
            fail_session(&session, "out of memory");
        }
    }
    if (!session.failed) {
        do_deferred_work(&session, 1);
    }
    if (!session.failed && !session.stopping) {
        message_print_watch_started(stderr, args->language, (int64_t)session.watches.count);
        fflush(stderr);
        run_event_loop(&session);
        do_deferred_work(&session, 1);
    }

    stop_session(&session);
    if (!args->json) {
        message_print_watch_summary(stderr, args->language, &session.counts);
    }
    return session.failed ? EXIT_STATUS_FATAL : EXIT_STATUS_OK;
}

int command_watch(int argc, char **argv) {
    watch_arguments args;
    const parse_result parsed = parse_watch_arguments(argc, argv, &args);
    int status;
    if (parsed == PARSE_HELP) {
        print_watch_usage(stdout);
        status = EXIT_STATUS_OK;
    } else if (parsed == PARSE_ERROR) {
        fprintf(stderr, "Run 'picotag watch --help' for the options.\n");
        status = EXIT_STATUS_USAGE_ERROR;
    } else {
        status = run_watch(&args);
    }
    free(args.folders);
    return status;
}
