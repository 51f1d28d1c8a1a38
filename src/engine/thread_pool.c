#include "engine/thread_pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ __volatile__("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

/* Polls between clock reads while spinning, so that reading the clock
 * costs little next to the pauses. */
#define SPIN_POLLS_PER_CLOCK_READ 64

typedef struct worker {
    thread_pool *pool;
    int thread_index;
    pthread_t thread;
} worker;

struct thread_pool {
    int thread_count;
    int started_workers;
    worker *workers;
    uint64_t spin_nanoseconds;

    /* `mutex` guards the sleeping side of both hand-offs: workers sleep on
     * `task_posted` until `generation` changes, and the caller sleeps on
     * `task_finished` until `unfinished_workers` reaches 0. */
    pthread_mutex_t mutex;
    pthread_cond_t task_posted;
    pthread_cond_t task_finished;

    /* Incremented once per task, after `task`, `context` and
     * `unfinished_workers` are set (release), so a worker that sees the new
     * generation (acquire) sees the task. */
    atomic_uint generation;
    atomic_int unfinished_workers;
    thread_pool_task task;   /* NULL: the workers exit */
    void *context;
};

static uint64_t monotonic_nanoseconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * UINT64_C(1000000000) + (uint64_t)now.tv_nsec;
}

/* Spins until generation differs from `seen` or spin_nanoseconds pass;
 * returns the generation last read. */
static unsigned spin_for_new_generation(thread_pool *pool, unsigned seen) {
    unsigned current = atomic_load_explicit(&pool->generation, memory_order_acquire);
    if (current != seen || pool->spin_nanoseconds == 0) {
        return current;
    }
    const uint64_t deadline = monotonic_nanoseconds() + pool->spin_nanoseconds;
    for (;;) {
        for (int i = 0; i < SPIN_POLLS_PER_CLOCK_READ; i++) {
            CPU_RELAX();
            current = atomic_load_explicit(&pool->generation, memory_order_acquire);
            if (current != seen) {
                return current;
            }
        }
        if (monotonic_nanoseconds() >= deadline) {
            return current;
        }
        sched_yield();
    }
}

static unsigned wait_for_new_generation(thread_pool *pool, unsigned seen) {
    unsigned current = spin_for_new_generation(pool, seen);
    if (current != seen) {
        return current;
    }
    pthread_mutex_lock(&pool->mutex);
    while ((current = atomic_load_explicit(&pool->generation, memory_order_acquire)) == seen) {
        pthread_cond_wait(&pool->task_posted, &pool->mutex);
    }
    pthread_mutex_unlock(&pool->mutex);
    return current;
}

static void *worker_main(void *argument) {
    const worker *self = argument;
    thread_pool *pool = self->pool;
    unsigned seen = 0;

    for (;;) {
        seen = wait_for_new_generation(pool, seen);
        const thread_pool_task task = pool->task;
        if (task == NULL) {
            return NULL;
        }
        task(pool->context, self->thread_index, pool->thread_count);

        /* The last worker to finish wakes the caller if it sleeps; the
         * signal is sent under the mutex, so it cannot fall between the
         * caller's check and its wait. */
        if (atomic_fetch_sub_explicit(&pool->unfinished_workers, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&pool->mutex);
            pthread_cond_signal(&pool->task_finished);
            pthread_mutex_unlock(&pool->mutex);
        }
    }
}

/* Sets the task and wakes the workers: spinning ones see the generation
 * change, sleeping ones get the broadcast. */
static void post_task(thread_pool *pool, thread_pool_task task, void *context) {
    pthread_mutex_lock(&pool->mutex);
    pool->task = task;
    pool->context = context;
    atomic_store_explicit(&pool->unfinished_workers, pool->started_workers, memory_order_relaxed);
    atomic_fetch_add_explicit(&pool->generation, 1, memory_order_release);
    pthread_cond_broadcast(&pool->task_posted);
    pthread_mutex_unlock(&pool->mutex);
}

static void wait_for_workers(thread_pool *pool) {
    if (pool->spin_nanoseconds > 0 &&
        atomic_load_explicit(&pool->unfinished_workers, memory_order_acquire) != 0) {
        const uint64_t deadline = monotonic_nanoseconds() + pool->spin_nanoseconds;
        while (atomic_load_explicit(&pool->unfinished_workers, memory_order_acquire) != 0 &&
               monotonic_nanoseconds() < deadline) {
            for (int i = 0; i < SPIN_POLLS_PER_CLOCK_READ; i++) {
                CPU_RELAX();
            }
            sched_yield();
        }
    }
    if (atomic_load_explicit(&pool->unfinished_workers, memory_order_acquire) == 0) {
        return;
    }
    pthread_mutex_lock(&pool->mutex);
    while (atomic_load_explicit(&pool->unfinished_workers, memory_order_acquire) != 0) {
        pthread_cond_wait(&pool->task_finished, &pool->mutex);
    }
    pthread_mutex_unlock(&pool->mutex);
}

void thread_pool_run(thread_pool *pool, thread_pool_task task, void *context) {
    post_task(pool, task, context);
    task(context, 0, pool->thread_count);
    wait_for_workers(pool);
}

int thread_pool_thread_count(const thread_pool *pool) {
    return pool->thread_count;
}

/* Stops and joins the workers started so far, then frees the pool. */
static void stop_workers_and_free(thread_pool *pool) {
    if (pool->started_workers > 0) {
        post_task(pool, NULL, NULL);
        for (int i = 0; i < pool->started_workers; i++) {
            pthread_join(pool->workers[i].thread, NULL);
        }
    }
    pthread_cond_destroy(&pool->task_finished);
    pthread_cond_destroy(&pool->task_posted);
    pthread_mutex_destroy(&pool->mutex);
    free(pool->workers);
    free(pool);
}

picotag_status thread_pool_create(int thread_count, uint64_t spin_nanoseconds, thread_pool **pool) {
    *pool = NULL;
    if (thread_count < 2) {
        return PICOTAG_ERROR_INVALID_ARGUMENT;
    }
    thread_pool *created = calloc(1, sizeof(*created));
    if (created == NULL) {
        return PICOTAG_ERROR_OUT_OF_MEMORY;
    }
    created->workers = calloc((size_t)thread_count - 1, sizeof(*created->workers));
    if (created->workers == NULL) {
        free(created);
        return PICOTAG_ERROR_OUT_OF_MEMORY;
    }
    created->thread_count = thread_count;
    created->spin_nanoseconds = spin_nanoseconds;
    atomic_init(&created->generation, 0);
    atomic_init(&created->unfinished_workers, 0);
    pthread_mutex_init(&created->mutex, NULL);
    pthread_cond_init(&created->task_posted, NULL);
    pthread_cond_init(&created->task_finished, NULL);

    for (int i = 0; i < thread_count - 1; i++) {
        worker *w = &created->workers[i];
        w->pool = created;
        w->thread_index = i + 1;
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            stop_workers_and_free(created);
            return PICOTAG_ERROR_OUT_OF_MEMORY;
        }
        created->started_workers = i + 1;
    }
    *pool = created;
    return PICOTAG_OK;
}

void thread_pool_free(thread_pool *pool) {
    if (pool != NULL) {
        stop_workers_and_free(pool);
    }
}
