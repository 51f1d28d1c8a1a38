/*
 * The int8 multiply-accumulate peak of one core with AVX-512 VNNI, measured
 * rather than taken from a data sheet. A loop runs VPDPBUSD instructions
 * (64 unsigned x signed byte products each) on 16 independent
 * accumulators, so that it measures their throughput, not their latency.
 * This file is compiled for AVX-512 VNNI. Call it only when the CPU
 * supports that.
 */
#include <immintrin.h>
#include <stdint.h>
#include <time.h>

#include "int8_peak.h"

#define ACCUMULATORS 16

/* The loops' results go here, so that the compiler keeps the loops. */
static volatile int32_t loop_result;

static double seconds_now(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + 1e-9 * (double)now.tv_nsec;
}

/* Runs `iterations` x ACCUMULATORS VPDPBUSD and returns a value that
 * depends on every accumulator. */
static int32_t run_vpdpbusd_loop(uint64_t iterations, int32_t seed) {
    __m512i acc[ACCUMULATORS];
    for (int i = 0; i < ACCUMULATORS; i++) {
        acc[i] = _mm512_set1_epi32(seed + i);
    }
    const __m512i a = _mm512_set1_epi32(seed | 0x01010101);
    __m512i b = _mm512_set1_epi32(seed ^ 0x02020202);

    for (uint64_t n = 0; n < iterations; n++) {
        /* An empty asm that may change b stops the compiler from folding
         * iterations together. */
        __asm__ volatile("" : "+v"(b));
        _Pragma("GCC unroll 16")
        for (int i = 0; i < ACCUMULATORS; i++) {
            acc[i] = _mm512_dpbusd_epi32(acc[i], a, b);
        }
    }

    __m512i sum = acc[0];
    for (int i = 1; i < ACCUMULATORS; i++) {
        sum = _mm512_xor_si512(sum, acc[i]);
    }
    return _mm512_reduce_add_epi32(sum);
}

/* Takes the best of several short attempts, because another process on
 * the same core slows some of them down. */
double bench_int8_peak_macs_per_second_avx512vnni(void) {
    const uint64_t iterations = 5u * 1000u * 1000u;
    loop_result = run_vpdpbusd_loop(iterations, 1);

    double best = 0.0;
    for (int attempt = 0; attempt < 10; attempt++) {
        const double start = seconds_now();
        loop_result = run_vpdpbusd_loop(iterations, attempt + 2);
        const double elapsed = seconds_now() - start;
        const double macs = (double)iterations * ACCUMULATORS * 64.0;
        if (macs / elapsed > best) {
            best = macs / elapsed;
        }
    }
    return best;
}
