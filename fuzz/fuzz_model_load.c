/*
 * libFuzzer harness for the model loader and runner.
 *
 * Each input is treated as a model file. The harness first rewrites the
 * checksum field with the input's correct CRC-32, so that mutations reach
 * the structural checks and, when those pass, the runner, instead of
 * stopping at the checksum. A model that loads is planned for two small
 * input sizes and run once on a constant image.
 *
 * Build and run (clang only):
 *     CC=clang cmake -B build-fuzz -DPICOTAG_FUZZ=ON -DPICOTAG_SANITIZE=ON
 *     cmake --build build-fuzz --target fuzz_model_load
 *     mkdir -p corpus && cp build/tests/c/cli_fixture/model.ptm corpus/
 *     build-fuzz/fuzz/fuzz_model_load corpus -max_total_time=60
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "picotag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stores the CRC-32 of `bytes`, computed with the checksum field (bytes 24
 * to 27) zeroed, into that field. */
static void seal_checksum(uint8_t *bytes, size_t size) {
    if (size < 28) {
        return;
    }
    memset(bytes + 24, 0, 4);
    const uLong crc = crc32(crc32(0L, Z_NULL, 0), bytes, (uInt)size);
    for (int b = 0; b < 4; b++) {
        bytes[24 + b] = (uint8_t)(crc >> (8 * b));
    }
}

static void run_once(const picotag_model *model, int height, int width) {
    picotag_runner *runner = NULL;
    if (picotag_runner_create(model, height, width, NULL, &runner, NULL) != PICOTAG_OK) {
        return;
    }
    static uint8_t rgb[16 * 16 * 3];
    memset(rgb, 0x80, sizeof(rgb));
    static int32_t logits[PICOTAG_MAX_CLASSES];
    picotag_runner_run(runner, rgb, logits, NULL);
    picotag_runner_free(runner);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *copy = malloc(size > 0 ? size : 1);
    if (copy == NULL) {
        return 0;
    }
    if (size > 0) {
        memcpy(copy, data, size);
    }
    seal_checksum(copy, size);

    picotag_model *model = NULL;
    picotag_error error;
    if (picotag_model_load_memory(copy, size, "fuzz.ptm", &model, &error) == PICOTAG_OK) {
        picotag_model_summary summary;
        picotag_model_summarize(model, &summary);
        for (int k = 0; k < picotag_model_class_count(model); k++) {
            (void)strlen(picotag_model_label(model, k)->name_en);
        }
        run_once(model, 16, 16);
        run_once(model, 7, 9);
        picotag_model_free(model);
    }
    free(copy);
    return 0;
}
