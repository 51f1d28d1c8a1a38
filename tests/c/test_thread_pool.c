/*
 * The thread pool runs every item of a task exactly once, on threads with
 * distinct indices at any moment, and returns only after all have
 * finished.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "engine/thread_pool.h"
#include "test_check.h"

#define MAX_POOL_THREADS 8
#define MAX_ITEMS 64

typedef struct item_counts {
    /* One slot per item, written only by the thread that claimed it. */
    int runs[MAX_ITEMS];
    uint32_t expected_item_count;
    /* Items running now per thread index: above 1 means two items ran at
     * once with the same index, which would share kernel scratch. */
    atomic_int running[MAX_POOL_THREADS];
    atomic_int index_shared;
    atomic_int index_out_of_range;
} item_counts;

static void count_item(void *context, int thread_index, uint32_t item, uint32_t item_count) {
    item_counts *counts = context;
    if (thread_index < 0 || thread_index >= MAX_POOL_THREADS) {
        atomic_fetch_add(&counts->index_out_of_range, 1);
        return;
    }
    if (atomic_fetch_add(&counts->running[thread_index], 1) != 0) {
        atomic_fetch_add(&counts->index_shared, 1);
    }
    counts->runs[item]++;
    if (item_count != counts->expected_item_count) {
        counts->runs[item] += 1000;  /* shows up as a wrong run count */
    }
    atomic_fetch_sub(&counts->running[thread_index], 1);
}

static void check_every_item_runs_once(int thread_count, uint64_t spin_nanoseconds, uint32_t item_count) {
    thread_pool *pool = NULL;
    CHECK_STATUS(PICOTAG_OK, thread_pool_create(thread_count, spin_nanoseconds, &pool), "");
    if (pool == NULL) {
        return;
    }
    CHECK_EQ(thread_count, thread_pool_thread_count(pool));

    item_counts *counts = calloc(1, sizeof(*counts));
    counts->expected_item_count = item_count;
    const int tasks = 2000;
    for (int i = 0; i < tasks; i++) {
        thread_pool_run(pool, count_item, counts, item_count);
    }
    /* thread_pool_run returned, so every item's writes are visible. */
    int wrong_items = 0;
    for (uint32_t item = 0; item < item_count; item++) {
        wrong_items += counts->runs[item] != tasks;
    }
    CHECK_EQ(0, wrong_items);
    CHECK_EQ(tasks, counts->runs[0]);
    CHECK_EQ(tasks, counts->runs[item_count - 1]);
    CHECK_EQ(0, atomic_load(&counts->index_shared));
    CHECK_EQ(0, atomic_load(&counts->index_out_of_range));
    free(counts);
    thread_pool_free(pool);
}

static void pool_runs_each_item_once_sleeping(void) {
    check_every_item_runs_once(2, 0, 2);
    check_every_item_runs_once(5, 0, 5);
    check_every_item_runs_once(3, 0, 17);
}

static void pool_runs_each_item_once_spinning(void) {
    check_every_item_runs_once(2, 200000, 2);
    check_every_item_runs_once(3, 200000, 3);
    check_every_item_runs_once(2, 200000, 1);
    check_every_item_runs_once(4, 200000, MAX_ITEMS);
}

typedef struct slow_items {
    atomic_int finished;
} slow_items;

/* Items that take longer than the caller's spin still finish before
 * thread_pool_run returns, through the sleeping wait. */
static void sleep_then_finish(void *context, int thread_index, uint32_t item, uint32_t item_count) {
    (void)thread_index;
    (void)item_count;
    slow_items *items = context;
    if (item != 0) {
        const struct timespec delay = {.tv_sec = 0, .tv_nsec = 2000000};
        nanosleep(&delay, NULL);
    }
    atomic_fetch_add(&items->finished, 1);
}

static void pool_waits_for_slow_items(void) {
    thread_pool *pool = NULL;
    CHECK_STATUS(PICOTAG_OK, thread_pool_create(4, 1000, &pool), "");
    if (pool == NULL) {
        return;
    }
    for (int i = 0; i < 5; i++) {
        slow_items items;
        atomic_init(&items.finished, 0);
        thread_pool_run(pool, sleep_then_finish, &items, 6);
        CHECK_EQ(6, atomic_load(&items.finished));
    }
    thread_pool_free(pool);
}

static void pool_skips_empty_task(void) {
    thread_pool *pool = NULL;
    CHECK_STATUS(PICOTAG_OK, thread_pool_create(2, 0, &pool), "");
    item_counts *counts = calloc(1, sizeof(*counts));
    thread_pool_run(pool, count_item, counts, 0);
    CHECK_EQ(0, counts->runs[0]);
    free(counts);
    thread_pool_free(pool);
}

static void pool_rejects_fewer_than_two_threads(void) {
    thread_pool *pool = (thread_pool *)&pool;
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT, thread_pool_create(1, 0, &pool), "");
    CHECK(pool == NULL);
}

static void pool_frees_without_a_task(void) {
    for (int threads = 2; threads <= MAX_POOL_THREADS; threads++) {
        thread_pool *pool = NULL;
        CHECK_STATUS(PICOTAG_OK, thread_pool_create(threads, 100000, &pool), "");
        thread_pool_free(pool);
    }
    thread_pool_free(NULL);
}

int main(void) {
    RUN_TEST(pool_runs_each_item_once_sleeping);
    RUN_TEST(pool_runs_each_item_once_spinning);
    RUN_TEST(pool_waits_for_slow_items);
    RUN_TEST(pool_skips_empty_task);
    RUN_TEST(pool_rejects_fewer_than_two_threads);
    RUN_TEST(pool_frees_without_a_task);
    return test_summary();
}
