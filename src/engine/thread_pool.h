/*
 * A fixed pool of worker threads that run one task at a time together with
 * the calling thread: the runner's latency mode, where every thread
 * computes a share of each operator.
 *
 * The pool is created once with the runner and allocates nothing
 * afterwards. Between tasks a worker first spins on the task counter for
 * about `spin_nanoseconds`, so that the next operator of a run reaches it
 * without a system call, and then sleeps on a condition variable until the
 * next task or until the pool is freed.
 */
#ifndef PICOTAG_ENGINE_THREAD_POOL_H
#define PICOTAG_ENGINE_THREAD_POOL_H

#include <stdint.h>

#include "picotag.h"

/* One share of a task: `thread_index` is 0 for the calling thread and 1 to
 * thread_count - 1 for the workers. */
typedef void (*thread_pool_task)(void *context, int thread_index, int thread_count);

typedef struct thread_pool thread_pool;

/*
 * Starts thread_count - 1 workers (thread_count >= 2). `spin_nanoseconds`
 * is how long a worker or the waiting caller polls before it sleeps; 0
 * sleeps at once. Returns PICOTAG_ERROR_OUT_OF_MEMORY when memory or a
 * thread cannot be had; then no thread is left running.
 */
picotag_status thread_pool_create(int thread_count, uint64_t spin_nanoseconds, thread_pool **pool);

/* Runs task(context, t, thread_count) on every thread t of the pool, the
 * calling thread as t = 0, and returns when all have returned. Only one
 * thread may call this at a time; it allocates nothing. */
void thread_pool_run(thread_pool *pool, thread_pool_task task, void *context);

int thread_pool_thread_count(const thread_pool *pool);

/* Wakes and joins every worker, then frees the pool. NULL is allowed. */
void thread_pool_free(thread_pool *pool);

#endif
