/* Opening the catalogue for a command. */
#include "tools/tool_catalogue.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Writes the catalogue path: `option` when given, else the default. */
static int choose_path(const char *command, const char *option, char *path, size_t capacity) {
    if (option != NULL) {
        const int written = snprintf(path, capacity, "%s", option);
        if (written < 0 || (size_t)written >= capacity) {
            fprintf(stderr, "picotag %s: the catalogue path is too long: %s\n", command, option);
            return 0;
        }
        return 1;
    }
    picotag_error error;
    if (picotag_catalogue_default_path(path, capacity, &error) != PICOTAG_OK) {
        fprintf(stderr, "picotag %s: %s\n", command, error.message);
        return 0;
    }
    return 1;
}

picotag_catalogue *tool_catalogue_open_for_tagging(const char *command, const char *option,
                                                   const tool_model *model) {
    char path[PATH_MAX];
    if (!choose_path(command, option, path, sizeof(path))) {
        return NULL;
    }

    picotag_catalogue *catalogue = NULL;
    picotag_error error;
    if (picotag_catalogue_open(path, NULL, &catalogue, &error) != PICOTAG_OK) {
        fprintf(stderr, "picotag %s: %s\n", command, error.message);
        return NULL;
    }
    const picotag_catalogue_model identity = {
        .name = model->name,
        .identity = model->sha256,
        .arch = model->arch,
    };
    if (picotag_catalogue_use_model(catalogue, &identity, NULL, &error) != PICOTAG_OK) {
        fprintf(stderr, "picotag %s: %s\n", command, error.message);
        picotag_catalogue_close(catalogue);
        return NULL;
    }
    return catalogue;
}

picotag_catalogue *tool_catalogue_open_for_reading(const char *command, const char *option) {
    char path[PATH_MAX];
    if (!choose_path(command, option, path, sizeof(path))) {
        return NULL;
    }

    struct stat info;
    if (stat(path, &info) != 0 && errno == ENOENT) {
        fprintf(stderr,
                "picotag %s: no catalogue at %s; tag photos first with 'picotag tag PATH...', "
                "or name the catalogue with --catalog FILE\n",
                command, path);
        return NULL;
    }

    picotag_catalogue *catalogue = NULL;
    picotag_error error;
    const picotag_catalogue_options options = {.read_only = 1};
    if (picotag_catalogue_open(path, &options, &catalogue, &error) != PICOTAG_OK) {
        fprintf(stderr, "picotag %s: %s\n", command, error.message);
        return NULL;
    }
    return catalogue;
}
