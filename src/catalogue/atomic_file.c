/* Replacing a file atomically: temporary file, fsync, rename, fsync folder. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "catalogue/xmp_internal.h"
#include "engine/error.h"

static picotag_status io_error(const char *path, const char *action, int error_number,
                               picotag_error *error) {
    return picotag_error_set(error, PICOTAG_ERROR_IO, "%s: %s: %s; the file was not changed",
                             path, action, strerror(error_number));
}

/* Splits `path` into its folder ("." when it has none). */
static char *folder_of(const char *path) {
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        return strdup(".");
    }
    if (slash == path) {
        return strdup("/");
    }
    return strndup(path, (size_t)(slash - path));
}

/* Creates "<folder>/.<name>.<pid>-<n>.tmp" with O_EXCL: hidden, so that
 * photo managers watching the folder ignore it, and created with mode 0666
 * less the umask, as the final file would be. */
static int create_temporary(const char *path, char **temporary_path) {
    const char *slash = strrchr(path, '/');
    const char *base = slash != NULL ? slash + 1 : path;
    size_t folder_length = (size_t)(base - path);
    size_t capacity = strlen(path) + 64;
    char *name = malloc(capacity);
    if (name == NULL) {
        errno = ENOMEM;
        return -1;
    }

    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    for (unsigned attempt = 0; attempt < 100; attempt++) {
        snprintf(name, capacity, "%.*s.%s.%ld-%lx%u.tmp", (int)folder_length, path, base,
                 (long)getpid(), (unsigned long)now.tv_nsec, attempt);
        int fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
        if (fd >= 0) {
            *temporary_path = name;
            return fd;
        }
        if (errno != EEXIST) {
            break;
        }
    }
    int saved = errno;
    free(name);
    errno = saved;
    return -1;
}

static int write_all(int fd, const char *data, size_t length) {
    while (length > 0) {
        ssize_t written = write(fd, data, length);
        if (written < 0 && errno == EINTR) {
            continue;
        }
        if (written < 0) {
            return 0;
        }
        data += written;
        length -= (size_t)written;
    }
    return 1;
}

static int same_file_state(const struct stat *a, const struct stat *b) {
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Fails when the file at `path` is no longer what was read (or appeared
 * while a new one was being created). */
static picotag_status check_unchanged(const char *path, const struct stat *original,
                                      picotag_error *error) {
    struct stat now;
    int exists = lstat(path, &now) == 0;
    if (original == NULL ? exists : !exists || !same_file_state(original, &now)) {
        return picotag_error_set(error, PICOTAG_ERROR_IO,
                                 "%s: another program changed the file while picotag was "
                                 "merging it; the file was not changed, run again",
                                 path);
    }
    return PICOTAG_OK;
}

static picotag_status write_temporary(int fd, const char *temporary, const void *data,
                                      size_t length,
                                      const struct stat *original, picotag_error *error) {
    if (original != NULL) {
        /* Keep the owner and mode of the file being replaced; changing the
         * owner fails unless running as root, which is the case it is for. */
        if (fchown(fd, original->st_uid, original->st_gid) != 0 && errno != EPERM) {
            return io_error(temporary, "cannot set the owner", errno, error);
        }
        if (fchmod(fd, original->st_mode & 07777) != 0) {
            return io_error(temporary, "cannot set the mode", errno, error);
        }
    }
    if (!write_all(fd, data, length)) {
        return io_error(temporary, "cannot write", errno, error);
    }
    if (fsync(fd) != 0) {
        return io_error(temporary, "cannot flush to disk", errno, error);
    }
    return PICOTAG_OK;
}

/* Renames `temporary` to `path`. When creating, RENAME_NOREPLACE makes the
 * rename fail with EEXIST instead of replacing a file that another program
 * created meanwhile. File systems without it get a plain rename.
 * Limitation: when replacing, another program can still change the file
 * between check_unchanged and the rename, a window of microseconds. */
static int move_into_place(const char *temporary, const char *path, int creating) {
    if (creating) {
        int result = renameat2(AT_FDCWD, temporary, AT_FDCWD, path, RENAME_NOREPLACE);
        if (result == 0 || (errno != EINVAL && errno != ENOSYS)) {
            return result;
        }
    }
    return rename(temporary, path);
}

/* Makes the rename itself durable. */
static picotag_status sync_folder(const char *path, picotag_error *error) {
    char *folder = folder_of(path);
    if (folder == NULL) {
        return picotag_error_set(error, PICOTAG_ERROR_OUT_OF_MEMORY, "%s: out of memory", path);
    }
    int fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int ok = fd >= 0 && fsync(fd) == 0;
    int saved = errno;
    if (fd >= 0) {
        close(fd);
    }
    picotag_status status = PICOTAG_OK;
    if (!ok) {
        status = picotag_error_set(error, PICOTAG_ERROR_IO,
                                   "%s: written, but flushing the folder %s failed: %s; a power "
                                   "loss now may undo the write",
                                   path, folder, strerror(saved));
    }
    free(folder);
    return status;
}

picotag_status atomic_file_replace(const char *path, const void *data, size_t length,
                                   const struct stat *original, picotag_error *error) {
    char *temporary = NULL;
    int fd = create_temporary(path, &temporary);
    if (fd < 0) {
        return io_error(path, "cannot create a temporary file beside it", errno, error);
    }

    picotag_status status =
        write_temporary(fd, temporary, data, length, original, error);
    if (close(fd) != 0 && status == PICOTAG_OK) {
        status = io_error(temporary, "cannot close", errno, error);
    }
    if (status == PICOTAG_OK) {
        status = check_unchanged(path, original, error);
    }
    if (status == PICOTAG_OK && move_into_place(temporary, path, original == NULL) != 0) {
        status = errno == EEXIST ? check_unchanged(path, NULL, error)
                                 : io_error(path, "cannot rename the temporary file over it",
                                            errno, error);
    }
    if (status != PICOTAG_OK) {
        unlink(temporary);
        free(temporary);
        return status;
    }
    free(temporary);
    return sync_folder(path, error);
}
