/*
 * A fixed pool of worker threads that share one task at a time with the
 * calling thread: the runner's latency mode, where the threads compute
 * parts of each operator.
 *
 * A task is a number of items (the runner's row ranges). Each item runs
 * exactly once, on whichever thread claims it first, so when a worker is
 * descheduled (more runnable threads than cores), the calling thread runs
 * its items instead of waiting for it. The pool is created once and
 * allocates nothing afterwards. Between tasks a worker polls for the next
 * one for about `spin_nanoseconds`, yielding the core between polls, and
 * then sleeps on a condition variable until the next task or until the
 * pool is freed.
 */
#ifndef PICOTAG_ENGINE_THREAD_POOL_H
#define PICOTAG_ENGINE_THREAD_POOL_H

#include <stdint.h>

#include "picotag.h"

/* Runs item `item` of `item_count` on thread `thread_index`: 0 for the
 * calling thread, 1 to thread_count - 1 for the workers. Two items that
 * run at the same time always have different thread indices. */
typedef void (*thread_pool_task)(void *context, int thread_index, uint32_t item, uint32_t item_count);

typedef struct thread_pool thread_pool;

/* The largest item count of one task. */
#define THREAD_POOL_MAX_ITEMS 0xFFFFFFFEu

/*
 * Starts thread_count - 1 workers (thread_count >= 2). `spin_nanoseconds`
 * is how long a worker or the waiting caller polls before it sleeps; 0
 * sleeps at once. Returns PICOTAG_ERROR_OUT_OF_MEMORY when memory or a
 * thread cannot be had; then no thread is left running.
 */
picotag_status thread_pool_create(int thread_count, uint64_t spin_nanoseconds, thread_pool **pool);

/* Runs task(context, t, i, item_count) once for every item i in
 * [0, item_count) on the pool's threads, the caller among them, and
 * returns when all items have finished. Only one thread may call this at
 * a time; it allocates nothing. item_count is at most THREAD_POOL_MAX_ITEMS. */
void thread_pool_run(thread_pool *pool, thread_pool_task task, void *context, uint32_t item_count);

int thread_pool_thread_count(const thread_pool *pool);

/* Wakes and joins every worker, then frees the pool. NULL is allowed. */
void thread_pool_free(thread_pool *pool);

#endif
