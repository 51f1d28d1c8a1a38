/*
 * A fixed set of worker threads that run one task over the indices
 * 0 .. count - 1 and return when all are done. Each worker has its own
 * state (a runner and its buffers), so tasks share nothing but their input.
 * With one worker the tasks run on the calling thread.
 */
#ifndef PICOTAG_TOOLS_WORKER_POOL_H
#define PICOTAG_TOOLS_WORKER_POOL_H

#include <stddef.h>

typedef void (*worker_task)(void *worker_state, size_t index, void *user);

typedef struct worker_pool worker_pool;

/* Starts `worker_count` workers; worker i receives states[i]. Returns NULL
 * when a thread or memory cannot be had. */
worker_pool *worker_pool_create(size_t worker_count, void *const *states);

/* Runs task(state, i, user) for every i in [0, count), each index once, and
 * returns when all have finished. Indices are handed out in order, so the
 * work is spread evenly whatever each task costs. */
void worker_pool_run(worker_pool *pool, size_t count, worker_task task, void *user);

/* Stops and joins the workers. NULL is accepted. */
void worker_pool_free(worker_pool *pool);

#endif
