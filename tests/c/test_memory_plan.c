/* Memory plan: buffers that are live at the same time never share memory. */
#include <stdlib.h>

#include "engine/memory_plan.h"
#include "test_check.h"

static uint64_t random_state = 0xDEADBEEFCAFEF00Du;

static uint32_t next_random(void) {
    random_state ^= random_state << 13;
    random_state ^= random_state >> 7;
    random_state ^= random_state << 17;
    return (uint32_t)(random_state >> 16);
}

static size_t rounded_to_64(size_t bytes) {
    return (bytes + 63) & ~(size_t)63;
}

static int lifetimes_overlap(const memory_plan_buffer *a, const memory_plan_buffer *b) {
    return a->first_op <= b->last_op && b->first_op <= a->last_op;
}

/* Returns the number of pairs of live-together buffers whose memory overlaps. */
static int count_conflicts(const memory_plan_buffer *buffers, size_t count) {
    int conflicts = 0;
    for (size_t i = 0; i < count; i++) {
        for (size_t j = i + 1; j < count; j++) {
            if (buffers[i].bytes == 0 || buffers[j].bytes == 0 || !lifetimes_overlap(&buffers[i], &buffers[j])) {
                continue;
            }
            const size_t end_i = buffers[i].offset + buffers[i].bytes;
            const size_t end_j = buffers[j].offset + buffers[j].bytes;
            if (buffers[i].offset < end_j && buffers[j].offset < end_i) {
                conflicts++;
            }
        }
    }
    return conflicts;
}

static void shared_plan_keeps_live_buffers_apart(void) {
    int conflicts = 0, misaligned = 0, outside = 0, below_peak = 0;
    for (int trial = 0; trial < 300; trial++) {
        memory_plan_buffer buffers[30];
        const size_t count = 1 + next_random() % 30;
        for (size_t i = 0; i < count; i++) {
            buffers[i].bytes = next_random() % 4 == 0 ? 0 : next_random() % 5000 + 1;
            buffers[i].first_op = (int32_t)(next_random() % 22) - 1;
            buffers[i].last_op = buffers[i].first_op + (int32_t)(next_random() % 6);
        }
        size_t arena = 0;
        CHECK_STATUS(PICOTAG_OK, memory_plan_compute(buffers, count, 1, 64, &arena), "");

        conflicts += count_conflicts(buffers, count);
        size_t peak = 0;
        for (int32_t op = -1; op < 30; op++) {
            size_t live = 0;
            for (size_t i = 0; i < count; i++) {
                if (buffers[i].bytes > 0 && buffers[i].first_op <= op && op <= buffers[i].last_op) {
                    live += rounded_to_64(buffers[i].bytes);
                }
            }
            peak = live > peak ? live : peak;
        }
        below_peak += arena < peak;
        for (size_t i = 0; i < count; i++) {
            if (buffers[i].bytes == 0) {
                continue;
            }
            misaligned += buffers[i].offset % 64 != 0;
            outside += buffers[i].offset + buffers[i].bytes > arena;
        }
        misaligned += arena % 64 != 0;
    }
    CHECK_EQ(0, conflicts);
    CHECK_EQ(0, misaligned);
    CHECK_EQ(0, outside);
    CHECK_EQ(0, below_peak);
}

/* A chain where each operator reads the previous output needs exactly two
 * buffers of memory, used in turn. */
static void shared_plan_reuses_memory_along_a_chain(void) {
    memory_plan_buffer buffers[6];
    for (int i = 0; i < 6; i++) {
        buffers[i].bytes = 1000;
        buffers[i].first_op = i - 1;
        buffers[i].last_op = i;
    }
    size_t arena = 0;
    CHECK_STATUS(PICOTAG_OK, memory_plan_compute(buffers, 6, 1, 64, &arena), "");
    CHECK_EQ(2 * 1024, arena);
    CHECK_EQ(0, count_conflicts(buffers, 6));
}

static void separate_plan_gives_every_buffer_its_own_memory(void) {
    memory_plan_buffer buffers[4] = {
        {.bytes = 10, .first_op = -1, .last_op = 0},
        {.bytes = 100, .first_op = 0, .last_op = 1},
        {.bytes = 70, .first_op = 1, .last_op = 2},
        {.bytes = 1, .first_op = 2, .last_op = 2},
    };
    size_t arena = 0;
    CHECK_STATUS(PICOTAG_OK, memory_plan_compute(buffers, 4, 0, 64, &arena), "");
    CHECK_EQ(64 + 128 + 128 + 64, arena);
    for (int i = 0; i < 4; i++) {
        for (int j = i + 1; j < 4; j++) {
            const int disjoint = buffers[i].offset + buffers[i].bytes <= buffers[j].offset ||
                                 buffers[j].offset + buffers[j].bytes <= buffers[i].offset;
            CHECK(disjoint);
        }
    }
}

static void plan_reports_size_overflow(void) {
    memory_plan_buffer buffers[2] = {
        {.bytes = SIZE_MAX - 10, .first_op = -1, .last_op = 0},
        {.bytes = SIZE_MAX / 2, .first_op = 0, .last_op = 0},
    };
    size_t arena = 0;
    CHECK_STATUS(PICOTAG_ERROR_OUT_OF_MEMORY, memory_plan_compute(buffers, 2, 1, 64, &arena), "");
    CHECK_STATUS(PICOTAG_ERROR_OUT_OF_MEMORY, memory_plan_compute(buffers, 2, 0, 64, &arena), "");
    buffers[0].bytes = SIZE_MAX / 2;
    CHECK_STATUS(PICOTAG_ERROR_OUT_OF_MEMORY, memory_plan_compute(buffers, 2, 1, 64, &arena), "");
}

int main(void) {
    RUN_TEST(shared_plan_keeps_live_buffers_apart);
    RUN_TEST(shared_plan_reuses_memory_along_a_chain);
    RUN_TEST(separate_plan_gives_every_buffer_its_own_memory);
    RUN_TEST(plan_reports_size_overflow);
    return test_summary();
}
