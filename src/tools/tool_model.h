/* Finding, loading and identifying the model that a command runs. */
#ifndef PICOTAG_TOOLS_TOOL_MODEL_H
#define PICOTAG_TOOLS_TOOL_MODEL_H

#include <limits.h>

#include "picotag.h"

/* File name of the default model in a models folder. */
#define TOOL_DEFAULT_MODEL_NAME "default.ptm"

typedef struct tool_model {
    picotag_model *model;
    char path[PATH_MAX];
    /* Hex SHA-256 of the model file: the catalogue's model identity. */
    char sha256[65];
    /* For people: the META "name" entry, else the file name without .ptm. */
    char name[256];
    /* The META "arch" entry, else "unknown". */
    const char *arch;
} tool_model;

/* Chooses the model file: `option` (--model) when given, else the
 * environment variable PICOTAG_MODEL when set, else the first existing
 * default: models/default.ptm three folders above the executable (a build
 * tree: build/src/tools/picotag), then share/picotag/models/default.ptm
 * beside the executable's folder (an installation, also under another
 * prefix), then PICOTAG_MODEL_DIR/default.ptm set at build time. Returns 1 with `path` filled, or 0 with `message` saying what
 * was tried. */
int tool_model_locate(const char *option, char *path, size_t path_capacity, char *message,
                      size_t message_capacity);

/* Writes PICOTAG_MODEL_DIR/default.ptm, the installed default model's path. */
void tool_model_installed_default(char *path, size_t capacity);

/* Locates, loads and hashes the model. On failure prints
 * "picotag COMMAND: ..." on stderr and returns 0. */
int tool_model_open(const char *command, const char *option, tool_model *model);

void tool_model_close(tool_model *model);

/* Computes the hex SHA-256 of the file at `path` into `hex`. */
picotag_status tool_model_hash_file(const char *path, char hex[65], picotag_error *error);

#endif
