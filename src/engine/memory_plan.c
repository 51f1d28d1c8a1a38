#include "engine/memory_plan.h"

#include <stdlib.h>

static int lifetimes_overlap(const memory_plan_buffer *a, const memory_plan_buffer *b) {
    return a->first_op <= b->last_op && b->first_op <= a->last_op;
}

static int round_up(size_t bytes, size_t alignment, size_t *rounded) {
    if (bytes > SIZE_MAX - (alignment - 1)) {
        return 0;
    }
    *rounded = (bytes + alignment - 1) & ~(alignment - 1);
    return 1;
}

typedef struct plan_order_entry {
    size_t bytes;
    size_t index;
} plan_order_entry;

/* Largest first; ties in index order, so the plan does not depend on qsort. */
static int compare_largest_first(const void *a, const void *b) {
    const plan_order_entry *x = a;
    const plan_order_entry *y = b;
    if (x->bytes != y->bytes) {
        return x->bytes > y->bytes ? -1 : 1;
    }
    return x->index < y->index ? -1 : (x->index > y->index);
}

static picotag_status plan_separate(memory_plan_buffer *buffers, size_t count, size_t alignment,
                                    size_t *arena_bytes) {
    size_t total = 0;
    for (size_t i = 0; i < count; i++) {
        size_t rounded;
        if (!round_up(buffers[i].bytes, alignment, &rounded) || rounded > SIZE_MAX - total) {
            return PICOTAG_ERROR_OUT_OF_MEMORY;
        }
        buffers[i].offset = total;
        total += rounded;
    }
    *arena_bytes = total;
    return PICOTAG_OK;
}

static picotag_status plan_shared(memory_plan_buffer *buffers, size_t count, size_t alignment,
                                  size_t *arena_bytes) {
    plan_order_entry *order = malloc((count > 0 ? count : 1) * sizeof(*order));
    /* Indices of the buffers placed so far, sorted by offset. */
    size_t *placed = malloc((count > 0 ? count : 1) * sizeof(*placed));
    /* Sizes rounded up to the alignment, by buffer index. */
    size_t *rounded = calloc(count > 0 ? count : 1, sizeof(*rounded));
    picotag_status status = PICOTAG_OK;
    if (order == NULL || placed == NULL || rounded == NULL) {
        status = PICOTAG_ERROR_OUT_OF_MEMORY;
        goto done;
    }

    size_t order_count = 0;
    for (size_t i = 0; i < count; i++) {
        buffers[i].offset = 0;
        if (buffers[i].bytes > 0) {
            if (!round_up(buffers[i].bytes, alignment, &rounded[i])) {
                status = PICOTAG_ERROR_OUT_OF_MEMORY;
                goto done;
            }
            order[order_count].bytes = rounded[i];
            order[order_count].index = i;
            order_count++;
        }
    }
    qsort(order, order_count, sizeof(*order), compare_largest_first);

    size_t placed_count = 0;
    size_t total = 0;
    for (size_t n = 0; n < order_count; n++) {
        memory_plan_buffer *buffer = &buffers[order[n].index];
        const size_t size = order[n].bytes;

        /* Walk the live neighbours in offset order and take the first gap
         * that is large enough. */
        size_t candidate = 0;
        size_t insert_at = placed_count;
        for (size_t p = 0; p < placed_count; p++) {
            const memory_plan_buffer *other = &buffers[placed[p]];
            if (!lifetimes_overlap(buffer, other)) {
                continue;
            }
            if (candidate <= other->offset && size <= other->offset - candidate) {
                break;
            }
            const size_t other_end = other->offset + rounded[placed[p]];
            if (other_end > candidate) {
                candidate = other_end;
            }
        }
        if (size > SIZE_MAX - candidate) {
            status = PICOTAG_ERROR_OUT_OF_MEMORY;
            goto done;
        }
        buffer->offset = candidate;
        if (candidate + size > total) {
            total = candidate + size;
        }

        for (size_t p = 0; p < placed_count; p++) {
            if (buffers[placed[p]].offset > candidate) {
                insert_at = p;
                break;
            }
        }
        for (size_t p = placed_count; p > insert_at; p--) {
            placed[p] = placed[p - 1];
        }
        placed[insert_at] = order[n].index;
        placed_count++;
    }

    *arena_bytes = total;

done:
    free(order);
    free(placed);
    free(rounded);
    return status;
}

picotag_status memory_plan_compute(memory_plan_buffer *buffers, size_t count, int share_buffers,
                                   size_t alignment, size_t *arena_bytes) {
    if (share_buffers) {
        return plan_shared(buffers, count, alignment, arena_bytes);
    }
    return plan_separate(buffers, count, alignment, arena_bytes);
}
