/* Removing the records of photos whose files are gone. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catalogue/catalogue_internal.h"

typedef struct gone_photo {
    int64_t id;
    char *path;
} gone_photo;

typedef struct gone_list {
    gone_photo *items;
    size_t count;
    size_t capacity;
} gone_list;

static void gone_list_free(gone_list *list) {
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i].path);
    }
    free(list->items);
}

static int gone_list_add(gone_list *list, int64_t id, const char *path) {
    if (list->count == list->capacity) {
        size_t capacity = list->capacity == 0 ? 64 : list->capacity * 2;
        gone_photo *items = realloc(list->items, capacity * sizeof(*items));
        if (items == NULL) {
            return 0;
        }
        list->items = items;
        list->capacity = capacity;
    }
    char *copy = strdup(path);
    if (copy == NULL) {
        return 0;
    }
    list->items[list->count].id = id;
    list->items[list->count].path = copy;
    list->count++;
    return 1;
}

/* Only ENOENT and ENOTDIR prove that a file is gone; EACCES or EIO prove
 * nothing, so those records stay. */
static int file_is_gone(const char *path) {
    struct stat info;
    if (stat(path, &info) == 0) {
        return 0;
    }
    return errno == ENOENT || errno == ENOTDIR;
}

/* The paths under `folder` are the byte strings in ["folder/", "folder0"),
 * because '0' is the byte after '/'. An empty prefix (folder "/") means all. */
static picotag_status folder_range(const picotag_catalogue *catalogue, const char *folder,
                                   char **lower, char **upper, picotag_error *error) {
    *lower = NULL;
    *upper = NULL;
    if (folder == NULL) {
        return PICOTAG_OK;
    }
    picotag_status status = catalogue_check_path(catalogue, folder, "the folder to prune", error);
    if (status != PICOTAG_OK) {
        return status;
    }

    struct stat info;
    const char *problem = NULL;
    if (stat(folder, &info) != 0) {
        problem = strerror(errno);
    } else if (!S_ISDIR(info.st_mode)) {
        problem = "not a folder";
    }
    if (problem != NULL) {
        return picotag_error_set(error, PICOTAG_ERROR_IO,
                                 "%s: cannot prune under %s: %s; if it is on a removable drive, "
                                 "mount it first (nothing was removed)",
                                 catalogue->path, folder, problem);
    }

    size_t length = strlen(folder);
    while (length > 0 && folder[length - 1] == '/') {
        length--;
    }
    if (length == 0) {
        return PICOTAG_OK;
    }
    *lower = malloc(length + 2);
    *upper = malloc(length + 2);
    if (*lower == NULL || *upper == NULL) {
        free(*lower);
        free(*upper);
        *lower = NULL;
        *upper = NULL;
        return picotag_error_set(error, PICOTAG_ERROR_OUT_OF_MEMORY,
                                 "%s: out of memory while pruning", catalogue->path);
    }
    memcpy(*lower, folder, length);
    memcpy(*upper, folder, length);
    (*lower)[length] = '/';
    (*upper)[length] = '0';
    (*lower)[length + 1] = '\0';
    (*upper)[length + 1] = '\0';
    return PICOTAG_OK;
}

/* Reads the candidate records without holding the write lock, because
 * stat on every photo of a large catalogue takes a while. */
static picotag_status collect_gone_photos(picotag_catalogue *catalogue, const char *lower,
                                          const char *upper, gone_list *gone,
                                          picotag_error *error) {
    const char *sql = lower != NULL
                          ? "SELECT id, path FROM photos WHERE path >= ?1 AND path < ?2"
                          : "SELECT id, path FROM photos";
    sqlite3_stmt *statement = NULL;
    int rc = sqlite3_prepare_v2(catalogue->db, sql, -1, &statement, NULL);
    if (rc != SQLITE_OK) {
        return catalogue_sqlite_error(catalogue, rc, "cannot list photos to prune", error);
    }
    if (lower != NULL) {
        sqlite3_bind_blob(statement, 1, lower, (int)strlen(lower), SQLITE_STATIC);
        sqlite3_bind_blob(statement, 2, upper, (int)strlen(upper), SQLITE_STATIC);
    }

    picotag_status status = PICOTAG_OK;
    while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
        const char *path = (const char *)sqlite3_column_text(statement, 1);
        if (path == NULL || !file_is_gone(path)) {
            continue;
        }
        if (!gone_list_add(gone, sqlite3_column_int64(statement, 0), path)) {
            status = picotag_error_set(error, PICOTAG_ERROR_OUT_OF_MEMORY,
                                       "%s: out of memory while pruning", catalogue->path);
            break;
        }
    }
    if (status == PICOTAG_OK && rc != SQLITE_DONE) {
        status = catalogue_sqlite_error(catalogue, rc, "cannot list photos to prune", error);
    }
    sqlite3_finalize(statement);
    return status;
}

/* Deletes the records. A record whose path changed since it was read (moved
 * by another process) no longer matches and stays. Its entry's path is then
 * emptied, so that no callback reports it. */
static picotag_status delete_gone_photos(picotag_catalogue *catalogue, gone_list *gone,
                                         int64_t *removed, picotag_error *error) {
    const char *action = "cannot remove photos whose files are gone";
    catalogue_write_scope scope;
    picotag_status status = catalogue_write_begin(catalogue, &scope, action, error);
    if (status != PICOTAG_OK) {
        return status;
    }

    int64_t count = 0;
    for (size_t i = 0; i < gone->count && status == PICOTAG_OK; i++) {
        sqlite3_stmt *statement = catalogue_statement(catalogue, STATEMENT_DELETE_PHOTO, error);
        if (statement == NULL) {
            status = PICOTAG_ERROR_IO;
            break;
        }
        sqlite3_bind_int64(statement, 1, gone->items[i].id);
        sqlite3_bind_blob(statement, 2, gone->items[i].path, (int)strlen(gone->items[i].path),
                          SQLITE_STATIC);
        status = catalogue_step_done(catalogue, statement, action, error);
        if (status != PICOTAG_OK) {
            break;
        }
        if (sqlite3_changes(catalogue->db) == 0) {
            gone->items[i].path[0] = '\0';
        } else {
            count++;
        }
    }

    status = catalogue_write_end(catalogue, &scope, status, action, error);
    if (status == PICOTAG_OK) {
        *removed = count;
    }
    return status;
}

picotag_status picotag_catalogue_prune(picotag_catalogue *catalogue, const char *folder,
                                       picotag_prune_callback callback, void *user,
                                       int64_t *removed, picotag_error *error) {
    if (removed != NULL) {
        *removed = 0;
    }
    if (catalogue->batch_open) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "%s: cannot prune while a batch is open; commit it first",
                                 catalogue->path);
    }
    if (catalogue->read_only) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "%s: cannot prune: the catalogue was opened read-only",
                                 catalogue->path);
    }

    char *lower = NULL;
    char *upper = NULL;
    picotag_status status = folder_range(catalogue, folder, &lower, &upper, error);
    if (status != PICOTAG_OK) {
        return status;
    }

    gone_list gone = {0};
    int64_t count = 0;
    status = collect_gone_photos(catalogue, lower, upper, &gone, error);
    if (status == PICOTAG_OK && gone.count > 0) {
        status = delete_gone_photos(catalogue, &gone, &count, error);
    }

    if (status == PICOTAG_OK) {
        for (size_t i = 0; i < gone.count && callback != NULL; i++) {
            if (gone.items[i].path[0] != '\0') {
                callback(gone.items[i].path, user);
            }
        }
        if (removed != NULL) {
            *removed = count;
        }
    }
    gone_list_free(&gone);
    free(lower);
    free(upper);
    return status;
}
