/* Finding, loading and identifying the model that a command runs. */
#include "tools/tool_model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "picotag_catalogue.h"

#ifndef PICOTAG_MODEL_DIR
#define PICOTAG_MODEL_DIR "/usr/local/share/picotag/models"
#endif

static int is_regular_file(const char *path) {
    struct stat info;
    return stat(path, &info) == 0 && S_ISREG(info.st_mode);
}

/* Writes <folder of the executable>/<relative>/default.ptm into `path`;
 * returns 0 when the executable's path is unknown. */
static int executable_relative_model(const char *relative, char *path, size_t capacity) {
    char executable[PATH_MAX];
    const ssize_t length = readlink("/proc/self/exe", executable, sizeof(executable) - 1);
    if (length <= 0) {
        return 0;
    }
    executable[length] = '\0';
    char *slash = strrchr(executable, '/');
    if (slash == NULL) {
        return 0;
    }
    *slash = '\0';
    const int written = snprintf(path, capacity, "%s/%s/%s", executable, relative, TOOL_DEFAULT_MODEL_NAME);
    return written > 0 && (size_t)written < capacity;
}

void tool_model_installed_default(char *path, size_t capacity) {
    snprintf(path, capacity, "%s/%s", PICOTAG_MODEL_DIR, TOOL_DEFAULT_MODEL_NAME);
}

int tool_model_locate(const char *option, char *path, size_t path_capacity, char *message,
                      size_t message_capacity) {
    const char *chosen = option;
    if (chosen == NULL) {
        const char *from_environment = getenv("PICOTAG_MODEL");
        if (from_environment != NULL && from_environment[0] != '\0') {
            chosen = from_environment;
        }
    }
    if (chosen != NULL) {
        /* A model named by the person is used as named; loading it reports
         * a missing file. */
        const int written = snprintf(path, path_capacity, "%s", chosen);
        if (written < 0 || (size_t)written >= path_capacity) {
            snprintf(message, message_capacity, "the model path is too long: %s", chosen);
            return 0;
        }
        return 1;
    }

    /* A build tree (build/src/tools/picotag), then an installation moved
     * with its prefix (PREFIX/bin/picotag beside PREFIX/share/picotag). */
    char relative[PATH_MAX];
    const int have_relative = executable_relative_model("../../../models", relative, sizeof(relative));
    if (have_relative && is_regular_file(relative)) {
        snprintf(path, path_capacity, "%s", relative);
        return 1;
    }
    char prefixed[PATH_MAX];
    const int have_prefixed = executable_relative_model("../share/picotag/models", prefixed, sizeof(prefixed));
    if (have_prefixed && is_regular_file(prefixed)) {
        snprintf(path, path_capacity, "%s", prefixed);
        return 1;
    }
    char installed[PATH_MAX];
    tool_model_installed_default(installed, sizeof(installed));
    if (is_regular_file(installed)) {
        snprintf(path, path_capacity, "%s", installed);
        return 1;
    }

    snprintf(message, message_capacity,
             "no model given and no default model found (looked for %s%s%s%s%s); pass --model FILE "
             "or set PICOTAG_MODEL",
             have_relative ? relative : "", have_relative ? ", " : "", have_prefixed ? prefixed : "",
             have_prefixed ? " and " : "", installed);
    return 0;
}

picotag_status tool_model_hash_file(const char *path, char hex[65], picotag_error *error) {
    uint8_t hash[PICOTAG_CONTENT_HASH_BYTES];
    const picotag_status status = picotag_content_hash_file(path, hash, NULL, error);
    if (status != PICOTAG_OK) {
        return status;
    }
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof(hash); i++) {
        hex[2 * i] = digits[hash[i] >> 4];
        hex[2 * i + 1] = digits[hash[i] & 15];
    }
    hex[2 * sizeof(hash)] = '\0';
    return PICOTAG_OK;
}

/* The file name without its folder and without a ".ptm" extension. */
static void name_from_path(const char *path, char *name, size_t capacity) {
    const char *slash = strrchr(path, '/');
    const char *base = slash != NULL ? slash + 1 : path;
    size_t length = strlen(base);
    if (length > 4 && strcmp(base + length - 4, ".ptm") == 0) {
        length -= 4;
    }
    snprintf(name, capacity, "%.*s", (int)length, base);
}

int tool_model_open(const char *command, const char *option, tool_model *model) {
    memset(model, 0, sizeof(*model));
    char message[2 * PATH_MAX + 256];
    if (!tool_model_locate(option, model->path, sizeof(model->path), message, sizeof(message))) {
        fprintf(stderr, "picotag %s: %s\n", command, message);
        return 0;
    }

    picotag_error error;
    if (picotag_model_load(model->path, &model->model, &error) != PICOTAG_OK) {
        fprintf(stderr, "picotag %s: %s\n", command, error.message);
        return 0;
    }
    if (tool_model_hash_file(model->path, model->sha256, &error) != PICOTAG_OK) {
        fprintf(stderr, "picotag %s: %s\n", command, error.message);
        tool_model_close(model);
        return 0;
    }

    const char *meta_name = picotag_model_meta(model->model, "name");
    if (meta_name != NULL && meta_name[0] != '\0') {
        snprintf(model->name, sizeof(model->name), "%s", meta_name);
    } else {
        name_from_path(model->path, model->name, sizeof(model->name));
    }
    const char *arch = picotag_model_meta(model->model, "arch");
    model->arch = arch != NULL && arch[0] != '\0' ? arch : "unknown";
    return 1;
}

void tool_model_close(tool_model *model) {
    picotag_model_free(model->model);
    model->model = NULL;
}
