/*
 * The thread pool runs each task once on every thread, the caller as
 * thread 0, and returns only after every thread has finished it.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "engine/thread_pool.h"
#include "test_check.h"

#define MAX_POOL_THREADS 8

typedef struct share_counts {
    /* One slot per thread index, so that threads never write the same one. */
    int runs[MAX_POOL_THREADS];
    int wrong_thread_count;
    int expected_thread_count;
} share_counts;

static void count_share(void *context, int thread_index, int thread_count) {
    share_counts *counts = context;
    counts->runs[thread_index]++;
    if (thread_index == 0 && thread_count != counts->expected_thread_count) {
        counts->wrong_thread_count++;
    }
}

static void check_every_thread_runs_each_task(int thread_count, uint64_t spin_nanoseconds) {
    thread_pool *pool = NULL;
    CHECK_STATUS(PICOTAG_OK, thread_pool_create(thread_count, spin_nanoseconds, &pool), "");
    if (pool == NULL) {
        return;
    }
    CHECK_EQ(thread_count, thread_pool_thread_count(pool));

    share_counts counts = {.expected_thread_count = thread_count};
    const int tasks = 2000;
    for (int i = 0; i < tasks; i++) {
        thread_pool_run(pool, count_share, &counts);
    }
    /* thread_pool_run returned, so every worker's writes are visible. */
    for (int t = 0; t < thread_count; t++) {
        CHECK_EQ(tasks, counts.runs[t]);
    }
    CHECK_EQ(0, counts.wrong_thread_count);
    thread_pool_free(pool);
}

static void pool_runs_each_task_once_per_thread_sleeping(void) {
    check_every_thread_runs_each_task(2, 0);
    check_every_thread_runs_each_task(5, 0);
}

static void pool_runs_each_task_once_per_thread_spinning(void) {
    check_every_thread_runs_each_task(2, 200000);
    check_every_thread_runs_each_task(3, 200000);
}

typedef struct slow_share {
    atomic_int finished;
} slow_share;

/* Worker shares that take longer than the caller's spin still finish
 * before thread_pool_run returns, through the sleeping wait. */
static void finish_late_on_workers(void *context, int thread_index, int thread_count) {
    (void)thread_count;
    slow_share *share = context;
    if (thread_index != 0) {
        const struct timespec delay = {.tv_sec = 0, .tv_nsec = 2000000};
        nanosleep(&delay, NULL);
    }
    atomic_fetch_add(&share->finished, 1);
}

static void pool_waits_for_slow_workers(void) {
    thread_pool *pool = NULL;
    CHECK_STATUS(PICOTAG_OK, thread_pool_create(4, 1000, &pool), "");
    if (pool == NULL) {
        return;
    }
    for (int i = 0; i < 5; i++) {
        slow_share share;
        atomic_init(&share.finished, 0);
        thread_pool_run(pool, finish_late_on_workers, &share);
        CHECK_EQ(4, atomic_load(&share.finished));
    }
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
    RUN_TEST(pool_runs_each_task_once_per_thread_sleeping);
    RUN_TEST(pool_runs_each_task_once_per_thread_spinning);
    RUN_TEST(pool_waits_for_slow_workers);
    RUN_TEST(pool_rejects_fewer_than_two_threads);
    RUN_TEST(pool_frees_without_a_task);
    return test_summary();
}
