/* The inotify watches of `picotag watch`, found by linear search: a photo
 * library has thousands of folders at most, and events are few per second. */
#include "tools/watch_table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

/* Photos complete (IN_CLOSE_WRITE), moved in or out, deleted; folders
 * created; the folder itself deleted. IN_ONLYDIR: never a file. */
#define WATCH_EVENTS                                                                  \
    (IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE | IN_CREATE |          \
     IN_DELETE_SELF | IN_ONLYDIR)

int watch_table_init(watch_table *table) {
    memset(table, 0, sizeof(*table));
    table->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    return table->inotify_fd >= 0;
}

static folder_watch *find_watch(const watch_table *table, int descriptor) {
    for (size_t i = 0; i < table->count; i++) {
        if (table->items[i].descriptor == descriptor) {
            return &table->items[i];
        }
    }
    return NULL;
}

int watch_table_add(watch_table *table, const char *path) {
    const int descriptor = inotify_add_watch(table->inotify_fd, path, WATCH_EVENTS);
    if (descriptor < 0) {
        return 0;
    }
    char *copy = strdup(path);
    if (copy == NULL) {
        errno = ENOMEM;
        return 0;
    }

    folder_watch *existing = find_watch(table, descriptor);
    if (existing != NULL) {
        free(existing->path);
        existing->path = copy;
        return 1;
    }
    if (table->count == table->capacity) {
        const size_t capacity = table->capacity == 0 ? 16 : table->capacity * 2;
        folder_watch *grown = realloc(table->items, capacity * sizeof(*grown));
        if (grown == NULL) {
            free(copy);
            errno = ENOMEM;
            return 0;
        }
        table->items = grown;
        table->capacity = capacity;
    }
    table->items[table->count].descriptor = descriptor;
    table->items[table->count].path = copy;
    table->count++;
    return 1;
}

const char *watch_table_path(const watch_table *table, int descriptor) {
    const folder_watch *watch = find_watch(table, descriptor);
    return watch != NULL ? watch->path : NULL;
}

static void remove_at(watch_table *table, size_t index) {
    free(table->items[index].path);
    table->items[index] = table->items[table->count - 1];
    table->count--;
}

void watch_table_forget(watch_table *table, int descriptor) {
    for (size_t i = 0; i < table->count; i++) {
        if (table->items[i].descriptor == descriptor) {
            remove_at(table, i);
            return;
        }
    }
}

static int is_in_tree(const char *path, const char *root) {
    const size_t length = strlen(root);
    return strncmp(path, root, length) == 0 && (path[length] == '\0' || path[length] == '/');
}

void watch_table_remove_tree(watch_table *table, const char *path) {
    size_t i = 0;
    while (i < table->count) {
        if (is_in_tree(table->items[i].path, path)) {
            inotify_rm_watch(table->inotify_fd, table->items[i].descriptor);
            remove_at(table, i);
        } else {
            i++;
        }
    }
}

void watch_table_free(watch_table *table) {
    for (size_t i = 0; i < table->count; i++) {
        free(table->items[i].path);
    }
    free(table->items);
    if (table->inotify_fd >= 0) {
        close(table->inotify_fd);
    }
    memset(table, 0, sizeof(*table));
    table->inotify_fd = -1;
}
