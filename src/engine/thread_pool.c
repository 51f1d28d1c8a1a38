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

/* Polls between clock reads and yields while spinning. */
#define SPIN_POLLS_PER_YIELD 64

/* The low half of `claim` while a task is being posted: no item can be
 * claimed until the post completes. */
#define CLAIM_CLOSED UINT32_C(0xFFFFFFFF)

typedef struct worker {
    thread_pool *pool;
    int thread_index;
    pthread_t thread;
} worker;

/*
 * Hand-off of a task. `claim` contains the task's generation in its high 32
 * bits and the next unclaimed item in its low 32 bits. Posting a task
 * first closes the claim word under the new generation, then stores the
 * task, and then opens it at item 0. A worker reads the task after it
 * loads the claim word, and claims an item with a compare-and-swap from
 * that same value, so a claim succeeds only if no later post began before
 * it: then the task it read is the task of the item it claimed. All of
 * these accesses are sequentially consistent, which makes that argument
 * hold. They happen a few times per operator, so their cost is nothing
 * next to the operator's.
 */
struct thread_pool {
    int thread_count;
    int started_workers;
    worker *workers;
    uint64_t spin_nanoseconds;

    _Atomic uint64_t claim;
    _Atomic(thread_pool_task) task;
    _Atomic(void *) context;
    atomic_uint item_count;
    atomic_uint finished_items;
    atomic_int stopping;

    /* `mutex` guards the sleeping side of both hand-offs: workers sleep on
     * `task_posted` until the generation changes, and the caller sleeps on
     * `task_finished` until every item has finished. */
    pthread_mutex_t mutex;
    pthread_cond_t task_posted;
    pthread_cond_t task_finished;
};

static uint64_t monotonic_nanoseconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * UINT64_C(1000000000) + (uint64_t)now.tv_nsec;
}

static uint32_t generation_of(uint64_t claim) {
    return (uint32_t)(claim >> 32);
}

/*
 * Polls until generation differs from `seen` or spin_nanoseconds pass;
 * returns the generation last read. It yields the core between batches
 * of polls, because with more runnable threads than cores a pure spin
 * would keep the core from the very thread it waits for.
 */
static uint32_t spin_for_new_generation(thread_pool *pool, uint32_t seen) {
    uint32_t current = generation_of(atomic_load(&pool->claim));
    if (current != seen || pool->spin_nanoseconds == 0) {
        return current;
    }
    const uint64_t deadline = monotonic_nanoseconds() + pool->spin_nanoseconds;
    for (;;) {
        for (int i = 0; i < SPIN_POLLS_PER_YIELD; i++) {
            CPU_RELAX();
            current = generation_of(atomic_load(&pool->claim));
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

static uint32_t wait_for_new_generation(thread_pool *pool, uint32_t seen) {
    uint32_t current = spin_for_new_generation(pool, seen);
    if (current != seen) {
        return current;
    }
    pthread_mutex_lock(&pool->mutex);
    while ((current = generation_of(atomic_load(&pool->claim))) == seen) {
        pthread_cond_wait(&pool->task_posted, &pool->mutex);
    }
    pthread_mutex_unlock(&pool->mutex);
    return current;
}

/* Marks one item finished; the thread that finishes the last one wakes
 * the caller if it sleeps. The signal is sent under the mutex, so it
 * cannot fall between the caller's check and its wait. */
static void finish_item(thread_pool *pool, uint32_t item_count) {
    if (atomic_fetch_add(&pool->finished_items, 1) + 1 == item_count) {
        pthread_mutex_lock(&pool->mutex);
        pthread_cond_signal(&pool->task_finished);
        pthread_mutex_unlock(&pool->mutex);
    }
}

/* Claims and runs items of generation `generation` until none is left or
 * a later task has been posted. */
static void run_claimed_items(thread_pool *pool, int thread_index, uint32_t generation) {
    for (;;) {
        uint64_t claim = atomic_load(&pool->claim);
        if (generation_of(claim) != generation) {
            return;
        }
        const uint32_t item = (uint32_t)claim;
        if (item == CLAIM_CLOSED) {
            sched_yield();  /* the post of this generation is still storing the task */
            continue;
        }
        const thread_pool_task task = atomic_load(&pool->task);
        void *context = atomic_load(&pool->context);
        const uint32_t item_count = atomic_load(&pool->item_count);
        if (item >= item_count) {
            return;
        }
        if (!atomic_compare_exchange_weak(&pool->claim, &claim, claim + 1)) {
            continue;
        }
        task(context, thread_index, item, item_count);
        finish_item(pool, item_count);
    }
}

static void *worker_main(void *argument) {
    const worker *self = argument;
    thread_pool *pool = self->pool;
    uint32_t seen = 0;

    for (;;) {
        seen = wait_for_new_generation(pool, seen);
        if (atomic_load(&pool->stopping)) {
            return NULL;
        }
        run_claimed_items(pool, self->thread_index, seen);
    }
}

/* Publishes a task under the next generation and wakes the workers:
 * polling ones see the claim word change, sleeping ones get the broadcast. */
static uint32_t post_task(thread_pool *pool, thread_pool_task task, void *context, uint32_t item_count) {
    const uint32_t generation = generation_of(atomic_load(&pool->claim)) + 1;
    atomic_store(&pool->claim, ((uint64_t)generation << 32) | CLAIM_CLOSED);
    atomic_store(&pool->task, task);
    atomic_store(&pool->context, context);
    atomic_store(&pool->item_count, item_count);
    atomic_store(&pool->finished_items, 0);

    pthread_mutex_lock(&pool->mutex);
    atomic_store(&pool->claim, (uint64_t)generation << 32);
    pthread_cond_broadcast(&pool->task_posted);
    pthread_mutex_unlock(&pool->mutex);
    return generation;
}

static int all_items_finished(thread_pool *pool, uint32_t item_count) {
    return atomic_load(&pool->finished_items) == item_count;
}

static void wait_for_items(thread_pool *pool, uint32_t item_count) {
    if (pool->spin_nanoseconds > 0 && !all_items_finished(pool, item_count)) {
        const uint64_t deadline = monotonic_nanoseconds() + pool->spin_nanoseconds;
        while (!all_items_finished(pool, item_count) && monotonic_nanoseconds() < deadline) {
            for (int i = 0; i < SPIN_POLLS_PER_YIELD && !all_items_finished(pool, item_count); i++) {
                CPU_RELAX();
            }
            sched_yield();
        }
    }
    if (all_items_finished(pool, item_count)) {
        return;
    }
    pthread_mutex_lock(&pool->mutex);
    while (!all_items_finished(pool, item_count)) {
        pthread_cond_wait(&pool->task_finished, &pool->mutex);
    }
    pthread_mutex_unlock(&pool->mutex);
}

void thread_pool_run(thread_pool *pool, thread_pool_task task, void *context, uint32_t item_count) {
    if (item_count == 0) {
        return;
    }
    const uint32_t generation = post_task(pool, task, context, item_count);
    run_claimed_items(pool, 0, generation);
    wait_for_items(pool, item_count);
}

int thread_pool_thread_count(const thread_pool *pool) {
    return pool->thread_count;
}

/* Stops and joins the workers started so far, then frees the pool. */
static void stop_workers_and_free(thread_pool *pool) {
    if (pool->started_workers > 0) {
        atomic_store(&pool->stopping, 1);
        post_task(pool, NULL, NULL, 0);
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
    atomic_init(&created->claim, 0);
    atomic_init(&created->task, NULL);
    atomic_init(&created->context, NULL);
    atomic_init(&created->item_count, 0);
    atomic_init(&created->finished_items, 0);
    atomic_init(&created->stopping, 0);
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
