/* The kernel sets built into this library, in order of preference. */
#include "kernels/kernels.h"

#include <stdio.h>
#include <string.h>

/* The fastest set comes first; picotag_kernel_set_best returns the first
 * one whose is_supported() holds on this CPU. The reference set is last
 * and runs everywhere. */
static const picotag_kernel_set *const kernel_sets[] = {
#if defined(PICOTAG_X86_KERNELS)
    &picotag_avx512vnni_kernel_set,
    &picotag_avx2_kernel_set,
#endif
#if defined(PICOTAG_ARM_KERNELS)
    &picotag_i8mm_kernel_set,
    &picotag_dotprod_kernel_set,
    &picotag_neon_kernel_set,
#endif
    &picotag_reference_kernel_set,
};

#define KERNEL_SET_COUNT (sizeof(kernel_sets) / sizeof(kernel_sets[0]))

const picotag_kernel_set *picotag_kernel_set_find(const char *name) {
    if (name == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < KERNEL_SET_COUNT; i++) {
        if (strcmp(kernel_sets[i]->name, name) == 0) {
            return kernel_sets[i];
        }
    }
    return NULL;
}

size_t picotag_kernel_set_count(void) {
    return KERNEL_SET_COUNT;
}

const picotag_kernel_set *picotag_kernel_set_at(size_t index) {
    return index < KERNEL_SET_COUNT ? kernel_sets[index] : NULL;
}

const picotag_kernel_set *picotag_kernel_set_best(void) {
    for (size_t i = 0; i < KERNEL_SET_COUNT; i++) {
        if (kernel_sets[i]->is_supported()) {
            return kernel_sets[i];
        }
    }
    return &picotag_reference_kernel_set;
}

void picotag_kernel_set_names(char *buffer, size_t capacity) {
    if (buffer == NULL || capacity == 0) {
        return;
    }
    buffer[0] = '\0';

    size_t used = 0;
    for (size_t i = 0; i < KERNEL_SET_COUNT; i++) {
        const int written = snprintf(buffer + used, capacity - used, "%s%s", i > 0 ? ", " : "",
                                     kernel_sets[i]->name);
        if (written < 0 || (size_t)written >= capacity - used) {
            return;
        }
        used += (size_t)written;
    }
}
