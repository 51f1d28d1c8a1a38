/*
 * Loading a model file: mapping or copying its bytes, running the
 * validation steps in the documented order, and the read-only accessors of
 * the public API.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/byte_order.h"
#include "engine/model_internal.h"

picotag_status model_fail(const picotag_model *model, picotag_error *error, picotag_status status,
                          const char *format, ...) {
    va_list args;
    va_start(args, format);
    picotag_error_set_prefixed(error, status, model->name, format, args);
    va_end(args);
    return status;
}

const char *model_section_name(uint32_t type) {
    static const char *const names[] = {"PREPROCESS", "VALUES", "OPS",     "TENSORS",
                                        "DATA",       "LABELS", "STRINGS", "META"};
    if (type >= 1 && type <= MODEL_SECTION_TYPE_COUNT) {
        return names[type - 1];
    }
    return "unknown";
}

const char *model_op_name(uint32_t type) {
    switch (type) {
    case MODEL_OP_CONV2D:
        return "CONV2D";
    case MODEL_OP_MAXPOOL:
        return "MAXPOOL";
    case MODEL_OP_GLOBAL_AVGPOOL:
        return "GLOBAL_AVGPOOL";
    case MODEL_OP_FULLY_CONNECTED:
        return "FULLY_CONNECTED";
    default:
        return "unknown";
    }
}

const char *model_dtype_name(uint32_t dtype) {
    switch (dtype) {
    case MODEL_DTYPE_U8:
        return "U8";
    case MODEL_DTYPE_I8:
        return "I8";
    case MODEL_DTYPE_I32:
        return "I32";
    default:
        return "unknown";
    }
}

/* Counts operators and the parameters of the weight and bias tensors,
 * each tensor once even when several operators share it. */
static picotag_status summarize_graph(picotag_model *model, picotag_error *error) {
    uint8_t *counted = calloc(model->tensor_count > 0 ? model->tensor_count : 1, 1);
    if (counted == NULL) {
        return model_fail(model, error, PICOTAG_ERROR_OUT_OF_MEMORY,
                          "out of memory while summarizing %u tensors", model->tensor_count);
    }

    picotag_model_summary *summary = &model->summary;
    summary->op_count = (int)model->op_count;
    summary->file_bytes = model->size;
    summary->format_version = MODEL_FORMAT_VERSION;

    for (uint32_t i = 0; i < model->op_count; i++) {
        const model_op *op = &model->ops[i];
        if (op->type == MODEL_OP_CONV2D) {
            summary->conv_count++;
        }
        const uint32_t parameter_tensors[2] = {op->weight_tensor, op->bias_tensor};
        for (int k = 0; k < 2; k++) {
            const uint32_t t = parameter_tensors[k];
            if (t == MODEL_NONE || counted[t]) {
                continue;
            }
            counted[t] = 1;
            const model_tensor *tensor = &model->tensors[t];
            const uint64_t elements = tensor->dtype == MODEL_DTYPE_I32 ? tensor->nbytes / 4 : tensor->nbytes;
            summary->parameter_count += elements;
            if (k == 0) {
                summary->weight_bytes += tensor->nbytes;
            }
        }
    }

    free(counted);
    return PICOTAG_OK;
}

static picotag_status validate_model(picotag_model *model, picotag_error *error) {
    typedef picotag_status (*validation_step)(picotag_model *, picotag_error *);
    static const validation_step steps[] = {
        model_validate_header,  model_validate_section_table, model_validate_preprocess,
        model_validate_strings, model_validate_tensors,       model_validate_values,
        model_validate_ops,     model_validate_labels,        model_validate_meta,
        model_validate_checksum,
    };

    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        const picotag_status status = steps[i](model, error);
        if (status != PICOTAG_OK) {
            return status;
        }
    }
    return summarize_graph(model, error);
}

void picotag_model_free(picotag_model *model) {
    if (model == NULL) {
        return;
    }
    if (model->mapping != NULL) {
        munmap(model->mapping, (size_t)model->size);
    }
    free(model->copy);
    free(model->tensors);
    free(model->i32_storage);
    free(model->values);
    free(model->ops);
    free(model->labels);
    free(model->meta);
    free(model->name);
    if (model->packed != NULL) {
        /* Runners must not outlive their model, so the list is normally
         * empty here. Entries left by a caller that broke that rule are
         * freed all the same. */
        model_packed_weights *entry = model->packed->entries;
        while (entry != NULL) {
            model_packed_weights *next = entry->next;
            free(entry->data);
            free(entry);
            entry = next;
        }
        pthread_mutex_destroy(&model->packed->lock);
        free(model->packed);
    }
    free(model);
}

static picotag_model *allocate_model(const char *name) {
    picotag_model *model = calloc(1, sizeof(*model));
    if (model == NULL) {
        return NULL;
    }
    model->name = strdup(name);
    model->packed = calloc(1, sizeof(*model->packed));
    if (model->name == NULL || model->packed == NULL || pthread_mutex_init(&model->packed->lock, NULL) != 0) {
        free(model->name);
        free(model->packed);
        free(model);
        return NULL;
    }
    return model;
}

/* Limitation: big-endian hosts are rejected. The loader itself reads every
 * field byte by byte, but the kernels and any future packed weight layouts
 * are tested on little-endian CPUs only. */
static picotag_status check_host(const char *name, picotag_error *error) {
    if (!host_is_little_endian()) {
        return picotag_error_set(error, PICOTAG_ERROR_UNSUPPORTED,
                                 "%s: this host is big-endian; picotag runs only on "
                                 "little-endian hosts",
                                 name);
    }
    return PICOTAG_OK;
}

static picotag_status finish_load(picotag_model *model, picotag_model **out, picotag_error *error) {
    const picotag_status status = validate_model(model, error);
    if (status != PICOTAG_OK) {
        picotag_model_free(model);
        return status;
    }
    picotag_error_clear(error);
    *out = model;
    return PICOTAG_OK;
}

/*
 * NOTE: the mapping is MAP_PRIVATE and read-only, but if another process
 * truncates or rewrites the file while it is mapped, later reads may see
 * the new bytes or fault (SIGBUS). Model files are expected to be replaced
 * by rename, which leaves the mapped file intact.
 */
picotag_status picotag_model_load(const char *path, picotag_model **model, picotag_error *error) {
    if (model != NULL) {
        *model = NULL;
    }
    if (path == NULL || model == NULL) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "picotag_model_load: path and model must not be NULL");
    }
    picotag_status status = check_host(path, error);
    if (status != PICOTAG_OK) {
        return status;
    }

    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return picotag_error_set(error, PICOTAG_ERROR_IO, "%s: cannot open: %s", path, strerror(errno));
    }
    struct stat info;
    if (fstat(fd, &info) != 0) {
        const int saved = errno;
        close(fd);
        return picotag_error_set(error, PICOTAG_ERROR_IO, "%s: cannot stat: %s", path, strerror(saved));
    }
    if (!S_ISREG(info.st_mode)) {
        close(fd);
        return picotag_error_set(error, PICOTAG_ERROR_IO, "%s: not a regular file", path);
    }
    if ((uint64_t)info.st_size > SIZE_MAX) {
        close(fd);
        return picotag_error_set(error, PICOTAG_ERROR_IO,
                                 "%s: file of %lld bytes is too large to map on this host", path,
                                 (long long)info.st_size);
    }

    picotag_model *loaded = allocate_model(path);
    if (loaded == NULL) {
        close(fd);
        return picotag_error_set(error, PICOTAG_ERROR_OUT_OF_MEMORY, "%s: out of memory", path);
    }

    /* An empty file cannot be mapped; it fails the header check with a
     * pointer to nothing. */
    static const uint8_t no_bytes[1] = {0};
    loaded->bytes = no_bytes;
    loaded->size = (uint64_t)info.st_size;
    if (info.st_size > 0) {
        void *mapping = mmap(NULL, (size_t)info.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (mapping == MAP_FAILED) {
            const int saved = errno;
            close(fd);
            picotag_model_free(loaded);
            return picotag_error_set(error, PICOTAG_ERROR_IO, "%s: cannot map %lld bytes: %s", path,
                                     (long long)info.st_size, strerror(saved));
        }
        loaded->mapping = mapping;
        loaded->bytes = mapping;
    }
    close(fd);

    return finish_load(loaded, model, error);
}

picotag_status picotag_model_load_memory(const void *data, size_t size, const char *name,
                                         picotag_model **model, picotag_error *error) {
    if (model != NULL) {
        *model = NULL;
    }
    if (name == NULL) {
        name = "<memory>";
    }
    if (model == NULL || (data == NULL && size > 0)) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "%s: picotag_model_load_memory: model must not be NULL, and data "
                                 "must not be NULL unless size is 0",
                                 name);
    }
    picotag_status status = check_host(name, error);
    if (status != PICOTAG_OK) {
        return status;
    }

    picotag_model *loaded = allocate_model(name);
    if (loaded == NULL) {
        return picotag_error_set(error, PICOTAG_ERROR_OUT_OF_MEMORY, "%s: out of memory", name);
    }

    /* The copy starts at a 64-byte boundary, like a mapping, so that the
     * 64-byte aligned sections and tensors are aligned in memory too. */
    const size_t alignment = MODEL_SECTION_ALIGNMENT;
    if (size > SIZE_MAX - alignment) {
        picotag_model_free(loaded);
        return picotag_error_set(error, PICOTAG_ERROR_OUT_OF_MEMORY, "%s: %zu bytes is too large",
                                 name, size);
    }
    const size_t capacity = (size + alignment - 1) / alignment * alignment + alignment;
    loaded->copy = aligned_alloc(alignment, capacity);
    if (loaded->copy == NULL) {
        picotag_model_free(loaded);
        return picotag_error_set(error, PICOTAG_ERROR_OUT_OF_MEMORY,
                                 "%s: out of memory copying %zu bytes", name, size);
    }
    if (size > 0) {
        memcpy(loaded->copy, data, size);
    }
    loaded->bytes = loaded->copy;
    loaded->size = size;

    return finish_load(loaded, model, error);
}

int picotag_model_class_count(const picotag_model *model) {
    return model != NULL ? model->class_count : 0;
}

const picotag_label *picotag_model_label(const picotag_model *model, int class_index) {
    if (model == NULL || class_index < 0 || class_index >= model->class_count) {
        return NULL;
    }
    return &model->labels[class_index];
}

const picotag_preprocess *picotag_model_preprocess(const picotag_model *model) {
    return model != NULL ? &model->preprocess : NULL;
}

const char *picotag_model_meta(const picotag_model *model, const char *key) {
    if (model == NULL || key == NULL) {
        return NULL;
    }
    for (int i = 0; i < model->meta_count; i++) {
        if (strcmp(model->meta[i].key, key) == 0) {
            return model->meta[i].value;
        }
    }
    return NULL;
}

int picotag_model_meta_count(const picotag_model *model) {
    return model != NULL ? model->meta_count : 0;
}

void picotag_model_meta_entry(const picotag_model *model, int index, const char **key,
                              const char **value) {
    const int valid = model != NULL && index >= 0 && index < model->meta_count;
    if (key != NULL) {
        *key = valid ? model->meta[index].key : NULL;
    }
    if (value != NULL) {
        *value = valid ? model->meta[index].value : NULL;
    }
}

void picotag_model_summarize(const picotag_model *model, picotag_model_summary *summary) {
    if (summary == NULL) {
        return;
    }
    if (model == NULL) {
        memset(summary, 0, sizeof(*summary));
        return;
    }
    *summary = model->summary;
}
