/*
 * Memory plan: offsets of the activation buffers inside one arena, reusing
 * memory between values whose lifetimes do not overlap.
 */
#ifndef PICOTAG_ENGINE_MEMORY_PLAN_H
#define PICOTAG_ENGINE_MEMORY_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "picotag.h"

typedef struct memory_plan_buffer {
    size_t bytes;        /* 0 for a value that needs no buffer */
    /* Lifetime in operator indices, inclusive: the operator that writes the
     * buffer (-1 for data present before the first operator) to the last
     * one that reads it. An operator's input and output overlap at that
     * operator, so they never share memory. */
    int32_t first_op;
    int32_t last_op;
    size_t offset;       /* result: bytes from the start of the arena */
} memory_plan_buffer;

/*
 * Assigns every buffer an offset that is a multiple of `alignment` (a power
 * of two) and stores the arena size in *arena_bytes, a multiple of
 * `alignment`. With `share_buffers`, buffers with disjoint lifetimes may
 * overlap in memory. The plan places the largest buffers first, each at
 * the lowest offset that is free for its whole lifetime. Without
 * `share_buffers`, every buffer gets its own memory. Returns PICOTAG_ERROR_OUT_OF_MEMORY if the
 * sizes overflow size_t or scratch memory runs out.
 */
picotag_status memory_plan_compute(memory_plan_buffer *buffers, size_t count, int share_buffers,
                                   size_t alignment, size_t *arena_bytes);

#endif
