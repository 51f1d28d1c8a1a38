#include "test_network_support.h"

uint8_t *random_image(int height, int width, uint32_t seed, uint32_t stream) {
    uint8_t *rgb = malloc((size_t)height * width * 3);
    uint32_t state = seed * 2654435761u + stream;
    for (size_t i = 0; i < (size_t)height * width * 3; i++) {
        state = state * 1664525u + 1013904223u;
        rgb[i] = (uint8_t)(state >> 24);
    }
    return rgb;
}

void free_network_run(network_run *run) {
    for (int v = 0; v < TM_MAX_VALUES; v++) {
        free(run->values[v]);
    }
}
