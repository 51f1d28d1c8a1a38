/*
 * Writes the files that the command-line tests use into DIRECTORY:
 * model.ptm (the mini ResNet), image.rgb (a random 32x32 RGB image),
 * short.rgb (one byte too short) and expected_logits.txt, the logits of
 * image.rgb computed through the library.
 */
#include <stdio.h>
#include <stdlib.h>

#include "picotag.h"
#include "test_model_writer.h"

static int write_bytes(const char *directory, const char *name, const void *bytes, size_t size) {
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", directory, name);
    FILE *file = fopen(path, "wb");
    if (file == NULL) {
        fprintf(stderr, "make_cli_fixture: cannot create %s\n", path);
        return -1;
    }
    const size_t written = fwrite(bytes, 1, size, file);
    return fclose(file) == 0 && written == size ? 0 : -1;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: make_cli_fixture DIRECTORY\n");
        return 2;
    }
    const char *directory = argv[1];

    test_model *description = tm_mini_resnet(21);
    test_model_file file;
    if (tm_serialize(description, &file) != 0 ||
        write_bytes(directory, "model.ptm", file.bytes, file.size) != 0) {
        return 1;
    }

    uint8_t rgb[32 * 32 * 3];
    uint32_t state = 12345;
    for (size_t i = 0; i < sizeof(rgb); i++) {
        state = state * 1664525u + 1013904223u;
        rgb[i] = (uint8_t)(state >> 24);
    }
    if (write_bytes(directory, "image.rgb", rgb, sizeof(rgb)) != 0 ||
        write_bytes(directory, "short.rgb", rgb, sizeof(rgb) - 1) != 0) {
        return 1;
    }

    picotag_model *model = NULL;
    picotag_runner *runner = NULL;
    picotag_error error;
    int32_t logits[PICOTAG_MAX_CLASSES];
    if (picotag_model_load_memory(file.bytes, file.size, "model.ptm", &model, &error) != PICOTAG_OK ||
        picotag_runner_create(model, 32, 32, NULL, &runner, &error) != PICOTAG_OK ||
        picotag_runner_run(runner, rgb, logits, &error) != PICOTAG_OK) {
        fprintf(stderr, "make_cli_fixture: %s\n", error.message);
        return 1;
    }

    char text[PICOTAG_MAX_CLASSES * 13];
    size_t used = 0;
    for (int k = 0; k < picotag_model_class_count(model); k++) {
        used += (size_t)snprintf(text + used, sizeof(text) - used, "%d\n", (int)logits[k]);
    }
    const int status = write_bytes(directory, "expected_logits.txt", text, used);

    picotag_runner_free(runner);
    picotag_model_free(model);
    tm_file_free(&file);
    tm_destroy(description);
    return status == 0 ? 0 : 1;
}
