/* picotag info MODEL: what a model file contains. */
#include <stdio.h>
#include <string.h>

#include "picotag.h"
#include "tools/commands.h"
#include "tools/tool_model.h"

static void print_info_usage(FILE *stream) {
    fprintf(stream,
            "usage: picotag info MODEL\n"
            "\n"
            "Validates MODEL (a .ptm file) and prints its format version, size, SHA-256\n"
            "(the identity the catalogue records), graph, input size and preprocessing,\n"
            "labels in English and Korean with their categories and thresholds, and\n"
            "provenance.\n"
            "\n"
            "Exit status: 0 the model is valid, 1 it cannot be read or is invalid (the\n"
            "message names the field at fault), 2 usage error.\n");
}

static const char *resize_mode_name(uint32_t mode) {
    switch (mode) {
    case PICOTAG_RESIZE_SHORT_SIDE_CENTER_CROP:
        return "resize the short side, then crop the centre";
    case PICOTAG_RESIZE_STRETCH:
        return "stretch to the input size";
    default:
        return "unknown";
    }
}

static void print_model(const char *path, const char *sha256, const picotag_model *model) {
    picotag_model_summary summary;
    picotag_model_summarize(model, &summary);
    const picotag_preprocess *pre = picotag_model_preprocess(model);

    printf("model            %s\n", path);
    printf("format version   %u\n", (unsigned)summary.format_version);
    printf("file size        %llu bytes\n", (unsigned long long)summary.file_bytes);
    printf("sha256           %s\n", sha256);
    printf("operators        %d (%d convolutions)\n", summary.op_count, summary.conv_count);
    printf("parameters       %llu (%llu bytes of int8 weights)\n",
           (unsigned long long)summary.parameter_count, (unsigned long long)summary.weight_bytes);
    printf("input            %u x %u pixels (height x width), RGB, uint8\n",
           (unsigned)pre->input_height, (unsigned)pre->input_width);
    printf("resize           %s", resize_mode_name(pre->resize_mode));
    if (pre->resize_mode == PICOTAG_RESIZE_SHORT_SIDE_CENTER_CROP) {
        printf(" (short side %u pixels)", (unsigned)pre->resize_short);
    }
    printf(", antialiased bilinear\n");
    const int views = picotag_preprocess_view_count(pre);
    printf("views            %d per photo: the whole photo", views);
    if (pre->view_grid > 0) {
        printf(", %u x %u crops of %u.%03u of its side", (unsigned)pre->view_grid,
               (unsigned)pre->view_grid, (unsigned)pre->view_crop_permille / 1000,
               (unsigned)pre->view_crop_permille % 1000);
    }
    if (pre->view_flip) {
        printf(", each also mirrored");
    }
    printf("%s\n", views > 1 ? "; logits averaged" : "");
    printf("zero points      R %u, G %u, B %u\n", pre->zero_point[0], pre->zero_point[1],
           pre->zero_point[2]);
    printf("mean             %.4f %.4f %.4f\n", (double)pre->mean[0], (double)pre->mean[1],
           (double)pre->mean[2]);
    printf("std              %.4f %.4f %.4f\n", (double)pre->std[0], (double)pre->std[1],
           (double)pre->std[2]);

    const int classes = picotag_model_class_count(model);
    printf("\nlabels (%d; tagged when logit >= threshold)\n", classes);
    for (int k = 0; k < classes; k++) {
        const picotag_label *label = picotag_model_label(model, k);
        printf("  %4d  %s / %s", k, label->name_en, label->name_ko);
        if (label->group_en[0] != '\0' || label->group_ko[0] != '\0') {
            printf("  [%s / %s]", label->group_en, label->group_ko);
        }
        printf("  threshold %d  logit_scale %g\n", (int)label->threshold, (double)label->logit_scale);
    }

    const int meta_count = picotag_model_meta_count(model);
    printf("\nprovenance (%d entries)\n", meta_count);
    for (int i = 0; i < meta_count; i++) {
        const char *key = NULL;
        const char *value = NULL;
        picotag_model_meta_entry(model, i, &key, &value);
        printf("  %-14s %s\n", key, value);
    }
}

int command_info(int argc, char **argv) {
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            print_info_usage(stdout);
            return EXIT_STATUS_OK;
        }
        if (argv[i][0] == '-' || path != NULL) {
            fprintf(stderr, "picotag info: unexpected argument '%s'\n", argv[i]);
            print_info_usage(stderr);
            return EXIT_STATUS_USAGE_ERROR;
        }
        path = argv[i];
    }
    if (path == NULL) {
        fprintf(stderr, "picotag info: missing MODEL\n");
        print_info_usage(stderr);
        return EXIT_STATUS_USAGE_ERROR;
    }

    picotag_model *model = NULL;
    picotag_error error;
    if (picotag_model_load(path, &model, &error) != PICOTAG_OK) {
        fprintf(stderr, "picotag info: %s\n", error.message);
        return EXIT_STATUS_RUNTIME_ERROR;
    }
    char sha256[65];
    if (tool_model_hash_file(path, sha256, &error) != PICOTAG_OK) {
        fprintf(stderr, "picotag info: %s\n", error.message);
        picotag_model_free(model);
        return EXIT_STATUS_RUNTIME_ERROR;
    }
    print_model(path, sha256, model);
    picotag_model_free(model);
    return EXIT_STATUS_OK;
}
