/* The inotify watches of `picotag watch`: one per folder, with the folder's
 * current path, because event names are relative to it. */
#ifndef PICOTAG_TOOLS_WATCH_TABLE_H
#define PICOTAG_TOOLS_WATCH_TABLE_H

#include <stddef.h>

typedef struct folder_watch {
    int descriptor;   /* inotify watch descriptor */
    char *path;
} folder_watch;

typedef struct watch_table {
    int inotify_fd;
    folder_watch *items;
    size_t count;
    size_t capacity;
} watch_table;

/* Creates the inotify instance (non-blocking, close-on-exec). Returns 0
 * with errno set on failure. */
int watch_table_init(watch_table *table);

/* Watches `path` for photos written, moved and deleted and for folders
 * created. A folder already watched under another path (it was renamed)
 * takes the new path. Returns 0 with errno set on failure. */
int watch_table_add(watch_table *table, const char *path);

/* Returns the folder path of a watch descriptor, or NULL. */
const char *watch_table_path(const watch_table *table, int descriptor);

/* Forgets a descriptor that the kernel removed (IN_IGNORED). */
void watch_table_forget(watch_table *table, int descriptor);

/* Stops watching `path` and every folder under it, for a folder that left
 * the watched tree. */
void watch_table_remove_tree(watch_table *table, const char *path);

/* Closes the inotify instance and frees the table. */
void watch_table_free(watch_table *table);

#endif
