/* The default catalogue location, following the XDG Base Directory
 * Specification: $XDG_DATA_HOME, or ~/.local/share when that is unset,
 * empty or relative (the specification requires relative values to be
 * ignored). */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalogue/catalogue_internal.h"

#define CATALOGUE_FOLDER "picotag"
#define CATALOGUE_FILE_NAME "catalog.sqlite"

static int is_absolute(const char *path) {
    return path != NULL && path[0] == '/';
}

/* Copies the home folder into `home`: $HOME, else the password database. */
static picotag_status find_home(char *home, size_t capacity, picotag_error *error) {
    const char *from_environment = getenv("HOME");
    if (is_absolute(from_environment)) {
        snprintf(home, capacity, "%s", from_environment);
        return PICOTAG_OK;
    }

    struct passwd entry;
    struct passwd *found = NULL;
    char buffer[4096];
    if (getpwuid_r(getuid(), &entry, buffer, sizeof(buffer), &found) == 0 && found != NULL &&
        is_absolute(found->pw_dir)) {
        snprintf(home, capacity, "%s", found->pw_dir);
        return PICOTAG_OK;
    }
    return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                             "cannot find the default catalogue: neither XDG_DATA_HOME nor HOME "
                             "is set to an absolute path; give the catalogue path explicitly");
}

/* Creates every missing folder of `path` with mode 0700, the mode the XDG
 * specification requires for data folders. Existing folders keep theirs. */
static picotag_status make_folders(char *path, picotag_error *error) {
    for (char *slash = path + 1;; slash++) {
        if (*slash != '/' && *slash != '\0') {
            continue;
        }
        char saved = *slash;
        *slash = '\0';
        /* mkdir may fail with EACCES or EROFS on a folder that exists, so
         * stat decides. */
        int made = mkdir(path, 0700) == 0;
        if (!made) {
            int mkdir_errno = errno;
            struct stat info;
            if (stat(path, &info) == 0) {
                made = S_ISDIR(info.st_mode);
                errno = ENOTDIR;
            } else {
                errno = mkdir_errno;
            }
        }
        if (!made) {
            picotag_status status = picotag_error_set(
                error, PICOTAG_ERROR_IO, "cannot create the catalogue folder %s: %s", path,
                strerror(errno));
            *slash = saved;
            return status;
        }
        *slash = saved;
        if (saved == '\0') {
            return PICOTAG_OK;
        }
    }
}

picotag_status picotag_catalogue_default_path(char *path, size_t capacity, picotag_error *error) {
    if (path == NULL || capacity == 0) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "picotag_catalogue_default_path: no buffer given");
    }

    char folder[4096];
    const char *data_home = getenv("XDG_DATA_HOME");
    int written;
    if (is_absolute(data_home)) {
        written = snprintf(folder, sizeof(folder), "%s/%s", data_home, CATALOGUE_FOLDER);
    } else {
        char home[4096];
        picotag_status status = find_home(home, sizeof(home), error);
        if (status != PICOTAG_OK) {
            return status;
        }
        written = snprintf(folder, sizeof(folder), "%s/.local/share/%s", home, CATALOGUE_FOLDER);
    }
    if (written < 0 || (size_t)written >= sizeof(folder)) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "cannot find the default catalogue: the data folder path is "
                                 "longer than %zu bytes",
                                 sizeof(folder) - 1);
    }

    written = snprintf(path, capacity, "%s/%s", folder, CATALOGUE_FILE_NAME);
    if (written < 0 || (size_t)written >= capacity) {
        path[0] = '\0';
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "the default catalogue path %s/%s needs %d bytes; the buffer "
                                 "has %zu",
                                 folder, CATALOGUE_FILE_NAME, written + 1, capacity);
    }
    return make_folders(folder, error);
}
