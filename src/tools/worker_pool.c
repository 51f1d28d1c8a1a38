/* A pthread worker pool with one shared index counter. */
#include "tools/worker_pool.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct worker {
    worker_pool *pool;
    void *state;
    pthread_t thread;
} worker;

struct worker_pool {
    pthread_mutex_t mutex;
    pthread_cond_t work_ready;     /* a new run started, or the pool stops */
    pthread_cond_t work_done;      /* the last index of a run finished */

    worker *workers;
    size_t worker_count;
    size_t started_count;          /* threads created */

    /* The current run; guarded by mutex. */
    worker_task task;
    void *user;
    size_t count;
    size_t next_index;
    size_t finished;
    unsigned long generation;      /* increments per run so workers notice it */
    int stopping;
};

static void *worker_main(void *argument) {
    worker *self = argument;
    worker_pool *pool = self->pool;
    unsigned long seen_generation = 0;

    pthread_mutex_lock(&pool->mutex);
    for (;;) {
        while (!pool->stopping && pool->generation == seen_generation) {
            pthread_cond_wait(&pool->work_ready, &pool->mutex);
        }
        if (pool->stopping) {
            break;
        }
        seen_generation = pool->generation;

        while (pool->next_index < pool->count) {
            const size_t index = pool->next_index++;
            const worker_task task = pool->task;
            void *user = pool->user;
            pthread_mutex_unlock(&pool->mutex);

            task(self->state, index, user);

            pthread_mutex_lock(&pool->mutex);
            pool->finished++;
            if (pool->finished == pool->count) {
                pthread_cond_signal(&pool->work_done);
            }
        }
    }
    pthread_mutex_unlock(&pool->mutex);
    return NULL;
}

worker_pool *worker_pool_create(size_t worker_count, void *const *states) {
    if (worker_count == 0) {
        return NULL;
    }
    worker_pool *pool = calloc(1, sizeof(*pool));
    if (pool == NULL) {
        return NULL;
    }
    pool->workers = calloc(worker_count, sizeof(*pool->workers));
    if (pool->workers == NULL) {
        free(pool);
        return NULL;
    }
    pthread_mutex_init(&pool->mutex, NULL);
    pthread_cond_init(&pool->work_ready, NULL);
    pthread_cond_init(&pool->work_done, NULL);
    pool->worker_count = worker_count;
    for (size_t i = 0; i < worker_count; i++) {
        pool->workers[i].pool = pool;
        pool->workers[i].state = states[i];
    }

    if (worker_count > 1) {
        for (size_t i = 0; i < worker_count; i++) {
            if (pthread_create(&pool->workers[i].thread, NULL, worker_main, &pool->workers[i]) !=
                0) {
                worker_pool_free(pool);
                return NULL;
            }
            pool->started_count++;
        }
    }
    return pool;
}

void worker_pool_run(worker_pool *pool, size_t count, worker_task task, void *user) {
    if (count == 0) {
        return;
    }
    if (pool->worker_count == 1) {
        for (size_t i = 0; i < count; i++) {
            task(pool->workers[0].state, i, user);
        }
        return;
    }

    pthread_mutex_lock(&pool->mutex);
    pool->task = task;
    pool->user = user;
    pool->count = count;
    pool->next_index = 0;
    pool->finished = 0;
    pool->generation++;
    pthread_cond_broadcast(&pool->work_ready);
    while (pool->finished < count) {
        pthread_cond_wait(&pool->work_done, &pool->mutex);
    }
    pthread_mutex_unlock(&pool->mutex);
}

void worker_pool_free(worker_pool *pool) {
    if (pool == NULL) {
        return;
    }
    pthread_mutex_lock(&pool->mutex);
    pool->stopping = 1;
    pthread_cond_broadcast(&pool->work_ready);
    pthread_mutex_unlock(&pool->mutex);
    for (size_t i = 0; i < pool->started_count; i++) {
        pthread_join(pool->workers[i].thread, NULL);
    }
    pthread_cond_destroy(&pool->work_done);
    pthread_cond_destroy(&pool->work_ready);
    pthread_mutex_destroy(&pool->mutex);
    free(pool->workers);
    free(pool);
}
