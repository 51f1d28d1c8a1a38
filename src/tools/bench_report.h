/* The measurements of `picotag bench` and their output as text or JSON. */
#ifndef PICOTAG_TOOLS_BENCH_REPORT_H
#define PICOTAG_TOOLS_BENCH_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "picotag.h"

/* Order statistics of one time over the runs, in nanoseconds. */
typedef struct bench_spread {
    uint64_t min;
    uint64_t p25;
    uint64_t median;
    uint64_t p75;
    uint64_t max;
} bench_spread;

/* Sorts `samples` in place and summarizes them; count >= 1. */
bench_spread bench_spread_of(uint64_t *samples, int count);

typedef struct bench_layer {
    picotag_op_info info;
    bench_spread time;
} bench_layer;

/* Resident memory of the process from /proc/self/status, in bytes; -1
 * where the kernel does not report it. */
typedef struct bench_resident {
    int64_t anonymous;   /* RssAnon: heap, packed weights, scratch */
    int64_t file;        /* RssFile: mapped files, the model among them */
    int64_t peak;        /* VmHWM: the largest total so far */
} bench_resident;

void bench_resident_read(bench_resident *resident);

typedef struct bench_report {
    const char *model_path;
    const char *kernels;
    int threads;
    int height;
    int width;
    int runs;
    int warmup;
    bench_spread total;
    uint64_t total_macs;
    picotag_model_summary model;
    picotag_runner_memory memory;
    bench_resident resident_before;  /* after loading the model, before the runner */
    bench_resident resident_after;   /* after the runs */
    bench_layer *layers;
    int layer_count;
} bench_report;

void bench_report_print_text(FILE *stream, const bench_report *report);
void bench_report_print_json(FILE *stream, const bench_report *report);

#endif
