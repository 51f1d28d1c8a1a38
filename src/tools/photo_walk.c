/* Recursive folder walks that find photos. */
#include "tools/photo_walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image_internal.h"
#include "tools/inode_set.h"

/* Bytes read to recognise a photo by content; enough for every signature
 * that image_detect_format recognises. */
#define SIGNATURE_BYTES 64

typedef struct walk_state {
    const photo_walk_options *options;
    photo_list *list;
    inode_set folders;   /* walked folders */
    inode_set files;     /* listed photos */
    int out_of_memory;
} walk_state;

int photo_walk_has_photo_extension(const char *name) {
    static const char *const extensions[] = {"jpg", "jpeg", "jpe",  "png", "webp",
                                             "heic", "heif", "hif", "avif"};
    const char *dot = strrchr(name, '.');
    if (dot == NULL || dot == name) {
        return 0;
    }
    for (size_t i = 0; i < sizeof(extensions) / sizeof(extensions[0]); i++) {
        if (strcasecmp(dot + 1, extensions[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

static int64_t mtime_nanoseconds(const struct stat *info) {
    return (int64_t)info->st_mtim.tv_sec * 1000000000 + (int64_t)info->st_mtim.tv_nsec;
}

static void fill_file_facts(photo_file *file, const struct stat *info) {
    file->device = info->st_dev;
    file->inode = info->st_ino;
    file->size_bytes = (int64_t)info->st_size;
    file->mtime_ns = mtime_nanoseconds(info);
}

int photo_file_read(const char *path, photo_file *file) {
    memset(file, 0, sizeof(*file));
    struct stat info;
    if (stat(path, &info) != 0) {
        return 0;
    }
    if (!S_ISREG(info.st_mode)) {
        errno = EINVAL;
        return 0;
    }
    fill_file_facts(file, &info);
    file->path = strdup(path);
    file->canonical_path = realpath(path, NULL);
    if (file->path == NULL || file->canonical_path == NULL) {
        const int saved = file->path == NULL ? ENOMEM : errno;
        photo_file_free(file);
        errno = saved;
        return 0;
    }
    return 1;
}

void photo_file_free(photo_file *file) {
    free(file->path);
    free(file->canonical_path);
    file->path = NULL;
    file->canonical_path = NULL;
}

void photo_list_free(photo_list *list) {
    for (size_t i = 0; i < list->count; i++) {
        photo_file_free(&list->items[i]);
    }
    free(list->items);
    memset(list, 0, sizeof(*list));
}

static void report(walk_state *state, walk_problem problem, const char *path, int error_number) {
    if (state->options->on_problem != NULL) {
        state->options->on_problem(state->options->user, problem, path, error_number);
    }
}

static int list_append(photo_list *list, const photo_file *file) {
    if (list->count == list->capacity) {
        const size_t capacity = list->capacity == 0 ? 64 : list->capacity * 2;
        photo_file *items = realloc(list->items, capacity * sizeof(*items));
        if (items == NULL) {
            return 0;
        }
        list->items = items;
        list->capacity = capacity;
    }
    list->items[list->count++] = *file;
    return 1;
}

static void add_photo(walk_state *state, const char *path, const struct stat *info) {
    const int added = inode_set_add(&state->files, info->st_dev, info->st_ino);
    if (added <= 0) {
        state->out_of_memory |= added < 0;
        return;
    }

    photo_file file = {0};
    fill_file_facts(&file, info);
    file.path = strdup(path);
    file.canonical_path = realpath(path, NULL);
    if (file.path != NULL && file.canonical_path == NULL) {
        report(state, WALK_CANNOT_READ_PHOTO, path, errno);
        photo_file_free(&file);
        return;
    }
    if (file.path == NULL || !list_append(state->list, &file)) {
        photo_file_free(&file);
        state->out_of_memory = 1;
    }
}

/* Returns 1 when the first bytes of the file start a format that the image
 * library decodes. */
static int looks_like_photo(const char *path) {
    const int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        return 0;
    }
    uint8_t signature[SIGNATURE_BYTES];
    ssize_t got;
    do {
        got = read(fd, signature, sizeof(signature));
    } while (got < 0 && errno == EINTR);
    close(fd);
    if (got <= 0) {
        return 0;
    }
    const char *unsupported_name = NULL;
    return image_detect_format(signature, (size_t)got, &unsupported_name) !=
           PICOTAG_IMAGE_FORMAT_UNKNOWN;
}

static char *join_path(const char *folder, const char *name) {
    const size_t folder_length = strlen(folder);
    const int needs_slash = folder_length > 0 && folder[folder_length - 1] != '/';
    const size_t length = folder_length + (size_t)needs_slash + strlen(name);
    char *path = malloc(length + 1);
    if (path != NULL) {
        memcpy(path, folder, folder_length);
        if (needs_slash) {
            path[folder_length] = '/';
        }
        strcpy(path + folder_length + (size_t)needs_slash, name);
    }
    return path;
}

typedef struct name_list {
    char **names;
    size_t count;
    size_t capacity;
} name_list;

static void name_list_free(name_list *names) {
    for (size_t i = 0; i < names->count; i++) {
        free(names->names[i]);
    }
    free(names->names);
}

static int name_list_add(name_list *names, const char *name) {
    if (names->count == names->capacity) {
        const size_t capacity = names->capacity == 0 ? 32 : names->capacity * 2;
        char **grown = realloc(names->names, capacity * sizeof(*grown));
        if (grown == NULL) {
            return 0;
        }
        names->names = grown;
        names->capacity = capacity;
    }
    names->names[names->count] = strdup(name);
    return names->names[names->count++] != NULL;
}

static int compare_names(const void *left, const void *right) {
    return strcmp(*(char *const *)left, *(char *const *)right);
}

/* Reads the visible names of a folder, sorted. Returns 0 with errno set
 * when the folder cannot be opened or read. */
static int read_folder_names(const char *path, name_list *names, int *out_of_memory) {
    DIR *folder = opendir(path);
    if (folder == NULL) {
        return 0;
    }
    for (;;) {
        errno = 0;
        const struct dirent *entry = readdir(folder);
        if (entry == NULL) {
            break;
        }
        if (entry->d_name[0] == '.') {
            continue;
        }
        if (!name_list_add(names, entry->d_name)) {
            *out_of_memory = 1;
            break;
        }
    }
    const int saved = errno;
    closedir(folder);
    if (saved != 0 && !*out_of_memory) {
        errno = saved;
        return 0;
    }
    if (names->count > 1) {
        qsort(names->names, names->count, sizeof(*names->names), compare_names);
    }
    return 1;
}

static void walk_folder(walk_state *state, const char *path, const struct stat *info);

static void walk_entry(walk_state *state, const char *path, const char *name) {
    struct stat info;
    if (stat(path, &info) != 0) {
        /* A broken link or a file that vanished: only worth a message when
         * it looks like a photo. */
        if (photo_walk_has_photo_extension(name)) {
            report(state, WALK_CANNOT_READ_PHOTO, path, errno);
        }
        return;
    }
    if (S_ISDIR(info.st_mode)) {
        walk_folder(state, path, &info);
    } else if (S_ISREG(info.st_mode)) {
        if (photo_walk_has_photo_extension(name) ||
            (state->options->by_content && looks_like_photo(path))) {
            add_photo(state, path, &info);
        }
    }
}

static void walk_folder(walk_state *state, const char *path, const struct stat *info) {
    const int added = inode_set_add(&state->folders, info->st_dev, info->st_ino);
    if (added <= 0) {
        state->out_of_memory |= added < 0;
        return;
    }
    if (state->options->on_folder != NULL) {
        state->options->on_folder(state->options->user, path);
    }

    name_list names = {0};
    if (!read_folder_names(path, &names, &state->out_of_memory)) {
        report(state, WALK_CANNOT_READ_FOLDER, path, errno);
    } else {
        for (size_t i = 0; i < names.count && !state->out_of_memory; i++) {
            char *child = join_path(path, names.names[i]);
            if (child == NULL) {
                state->out_of_memory = 1;
                break;
            }
            walk_entry(state, child, names.names[i]);
            free(child);
        }
    }
    name_list_free(&names);
}

static void walk_named_path(walk_state *state, const char *path) {
    struct stat info;
    if (stat(path, &info) != 0) {
        report(state, WALK_CANNOT_FIND_PATH, path, errno);
    } else if (S_ISDIR(info.st_mode)) {
        walk_folder(state, path, &info);
    } else if (S_ISREG(info.st_mode)) {
        add_photo(state, path, &info);
    } else {
        report(state, WALK_NOT_A_PHOTO_OR_FOLDER, path, 0);
    }
}

int photo_walk(const char *const *paths, size_t path_count, const photo_walk_options *options,
               photo_list *list) {
    walk_state state = {.options = options, .list = list};
    for (size_t i = 0; i < path_count && !state.out_of_memory; i++) {
        walk_named_path(&state, paths[i]);
    }
    inode_set_free(&state.folders);
    inode_set_free(&state.files);
    return !state.out_of_memory;
}
