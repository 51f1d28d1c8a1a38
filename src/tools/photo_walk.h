/*
 * Finding the photos under the paths a person names: folders are walked
 * recursively, in byte order of the names, so the order is the same on
 * every run. In a folder, a file counts as a photo by its extension (.jpg,
 * .jpeg, .jpe, .png, .webp, .heic, .heif, .hif, .avif, in any case), or with
 * `by_content` by its first bytes. A file named directly is always a
 * candidate, whatever its name. Names starting with '.' are skipped inside
 * folders (thumbnail caches, macOS "._" files). A folder reached twice, for
 * example through a symbolic link loop, is walked once. A photo reached by
 * two paths is listed once.
 */
#ifndef PICOTAG_TOOLS_PHOTO_WALK_H
#define PICOTAG_TOOLS_PHOTO_WALK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct photo_file {
    char *path;             /* as reached: the named path, then the names walked */
    char *canonical_path;   /* realpath(): absolute, without symbolic links */
    dev_t device;
    ino_t inode;
    int64_t size_bytes;
    int64_t mtime_ns;       /* nanoseconds since the epoch */
} photo_file;

typedef struct photo_list {
    photo_file *items;
    size_t count;
    size_t capacity;
} photo_list;

typedef enum walk_problem {
    WALK_CANNOT_FIND_PATH,       /* a named path does not exist or cannot be reached */
    WALK_CANNOT_READ_FOLDER,     /* opening or reading a folder failed; it is skipped */
    WALK_CANNOT_READ_PHOTO,      /* a photo's file facts or real path cannot be read */
    WALK_NOT_A_PHOTO_OR_FOLDER   /* a named path is a device, socket or pipe */
} walk_problem;

typedef struct photo_walk_options {
    int by_content;
    /* Called for each problem with the path and errno (0 when none applies). */
    void (*on_problem)(void *user, walk_problem problem, const char *path, int error_number);
    /* Called for each folder before its entries are read, named folders
     * included; may be NULL. */
    void (*on_folder)(void *user, const char *path);
    void *user;
} photo_walk_options;

/* Appends the photos found under `paths` to `list`. Returns 0 only when
 * memory ran out; every other problem goes to on_problem and the walk goes
 * on. */
int photo_walk(const char *const *paths, size_t path_count, const photo_walk_options *options,
               photo_list *list);

/* Fills `file` for one path (stat and realpath). Returns 0 with errno set
 * when either fails or the path is not a regular file (EINVAL). */
int photo_file_read(const char *path, photo_file *file);

void photo_file_free(photo_file *file);
void photo_list_free(photo_list *list);

/* Returns 1 when the name ends in one of the photo extensions. */
int photo_walk_has_photo_extension(const char *name);

#endif
