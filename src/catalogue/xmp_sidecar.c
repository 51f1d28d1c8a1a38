/* XMP sidecar files: their names, and writing picotag's keywords into them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "catalogue/xmp_internal.h"
#include "engine/error.h"
#include "engine/utf8.h"

static int ends_with_xmp(const char *path, size_t length) {
    return length >= 4 && strcasecmp(path + length - 4, ".xmp") == 0;
}

picotag_status picotag_xmp_sidecar_path(const char *photo_path, picotag_xmp_naming naming,
                                        char *sidecar_path, size_t capacity,
                                        picotag_error *error) {
    if (photo_path == NULL || photo_path[0] == '\0' || sidecar_path == NULL || capacity == 0) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "picotag_xmp_sidecar_path: the photo path or buffer is missing");
    }
    size_t length = strlen(photo_path);
    if (ends_with_xmp(photo_path, length)) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "%s: is itself an XMP file, not a photo", photo_path);
    }
    if (naming != PICOTAG_XMP_APPEND_EXTENSION && naming != PICOTAG_XMP_REPLACE_EXTENSION) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "%s: unknown sidecar naming %d", photo_path, (int)naming);
    }

    size_t stem_length = length;
    if (naming == PICOTAG_XMP_REPLACE_EXTENSION) {
        const char *slash = strrchr(photo_path, '/');
        const char *base = slash != NULL ? slash + 1 : photo_path;
        const char *dot = strrchr(base, '.');
        /* A leading dot starts a hidden name, not an extension. */
        if (dot != NULL && dot != base) {
            stem_length = (size_t)(dot - photo_path);
        }
    }

    int written = snprintf(sidecar_path, capacity, "%.*s.xmp", (int)stem_length, photo_path);
    if (written < 0 || (size_t)written >= capacity) {
        sidecar_path[0] = '\0';
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "%s: the sidecar path needs %d bytes; the buffer has %zu",
                                 photo_path, written + 1, capacity);
    }
    return PICOTAG_OK;
}

static int is_valid_keyword_text(const char *text) {
    if (text == NULL || text[0] == '\0') {
        return 0;
    }
    size_t invalid_offset = 0;
    if (!picotag_utf8_validate((const uint8_t *)text, strlen(text), &invalid_offset)) {
        return 0;
    }
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        if (*p < 0x20 || *p == '|') {
            return 0;
        }
    }
    return 1;
}

static picotag_status validate_keywords(const char *sidecar_path,
                                        const picotag_xmp_keyword *keywords, size_t count,
                                        picotag_error *error) {
    if (count > 0 && keywords == NULL) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "sidecar %s: %zu keywords announced but none given",
                                 sidecar_path, count);
    }
    for (size_t i = 0; i < count; i++) {
        const char *group = keywords[i].group;
        if (!is_valid_keyword_text(keywords[i].name) ||
            (group != NULL && group[0] != '\0' && !is_valid_keyword_text(group))) {
            return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                     "sidecar %s: keyword %zu is empty, not UTF-8, or contains "
                                     "'|' or a control character",
                                     sidecar_path, i);
        }
    }
    return PICOTAG_OK;
}

/* Reads the existing sidecar. *exists is 0 when there is none. */
static picotag_status read_sidecar(const char *path, char **data, size_t *length,
                                   struct stat *info, int *exists, picotag_error *error) {
    *data = NULL;
    *length = 0;
    *exists = 0;
    if (lstat(path, info) != 0) {
        if (errno == ENOENT) {
            return PICOTAG_OK;
        }
        return picotag_error_set(error, PICOTAG_ERROR_IO, "sidecar %s: cannot inspect: %s",
                                 path, strerror(errno));
    }
    if (S_ISLNK(info->st_mode)) {
        return picotag_error_set(error, PICOTAG_ERROR_UNSUPPORTED,
                                 "sidecar %s: is a symbolic link, which writing by rename would "
                                 "replace; the sidecar was not changed",
                                 path);
    }
    if (!S_ISREG(info->st_mode)) {
        return picotag_error_set(error, PICOTAG_ERROR_UNSUPPORTED,
                                 "sidecar %s: is not a regular file; it was not changed", path);
    }
    if (info->st_size > XMP_MAX_SIDECAR_BYTES) {
        return picotag_error_set(error, PICOTAG_ERROR_UNSUPPORTED,
                                 "sidecar %s: %lld bytes, larger than the %d that picotag "
                                 "reads; the sidecar was not changed",
                                 path, (long long)info->st_size, XMP_MAX_SIDECAR_BYTES);
    }

    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        return picotag_error_set(error, PICOTAG_ERROR_IO, "sidecar %s: cannot open: %s", path,
                                 strerror(errno));
    }
    /* The file read is the one whose state the replacement is checked
     * against, even if the path changed since lstat. */
    if (fstat(fd, info) != 0 || !S_ISREG(info->st_mode) ||
        info->st_size > XMP_MAX_SIDECAR_BYTES) {
        close(fd);
        return picotag_error_set(error, PICOTAG_ERROR_IO,
                                 "sidecar %s: changed while being opened; the sidecar was not "
                                 "changed, run again",
                                 path);
    }
    size_t capacity = (size_t)info->st_size + 1;
    char *buffer = malloc(capacity);
    size_t used = 0;
    picotag_status status = PICOTAG_OK;
    if (buffer == NULL) {
        status = picotag_error_set(error, PICOTAG_ERROR_OUT_OF_MEMORY,
                                   "sidecar %s: out of memory reading it", path);
    }
    while (status == PICOTAG_OK) {
        ssize_t got = read(fd, buffer + used, capacity - used);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            status = picotag_error_set(error, PICOTAG_ERROR_IO, "sidecar %s: cannot read: %s",
                                       path, strerror(errno));
        } else if (got == 0) {
            break;
        } else if ((used += (size_t)got) == capacity) {
            /* It grew after lstat: someone is writing it right now. */
            status = picotag_error_set(error, PICOTAG_ERROR_IO,
                                       "sidecar %s: changed while being read; the sidecar was "
                                       "not changed, run again",
                                       path);
        }
    }
    close(fd);
    if (status != PICOTAG_OK) {
        free(buffer);
        return status;
    }
    *data = buffer;
    *length = used;
    *exists = 1;
    return PICOTAG_OK;
}

picotag_status picotag_xmp_write_keywords(const char *sidecar_path,
                                          const picotag_xmp_keyword *keywords,
                                          size_t keyword_count, picotag_xmp_result *result,
                                          picotag_error *error) {
    if (result != NULL) {
        *result = PICOTAG_XMP_UNCHANGED;
    }
    if (sidecar_path == NULL || !ends_with_xmp(sidecar_path, strlen(sidecar_path))) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "sidecar %s: a sidecar path must end in .xmp; nothing written",
                                 sidecar_path != NULL ? sidecar_path : "(none)");
    }
    picotag_status status = validate_keywords(sidecar_path, keywords, keyword_count, error);
    if (status != PICOTAG_OK) {
        return status;
    }

    char *original = NULL;
    size_t original_length = 0;
    struct stat original_info;
    int exists = 0;
    status = read_sidecar(sidecar_path, &original, &original_length, &original_info, &exists,
                          error);
    if (status != PICOTAG_OK || (!exists && keyword_count == 0)) {
        return status;
    }

    char *merged = NULL;
    size_t merged_length = 0;
    int changed = 0;
    status = xmp_merge_keywords(exists ? original : NULL, original_length, sidecar_path,
                                keywords, keyword_count, &merged, &merged_length, &changed,
                                error);
    free(original);
    if (status == PICOTAG_OK && changed) {
        status = atomic_file_replace(sidecar_path, merged, merged_length,
                                     exists ? &original_info : NULL, error);
        if (status == PICOTAG_OK && result != NULL) {
            *result = exists ? PICOTAG_XMP_UPDATED : PICOTAG_XMP_CREATED;
        }
    }
    free(merged);
    return status;
}
