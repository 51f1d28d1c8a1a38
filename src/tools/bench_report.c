#include "tools/bench_report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tools/text_format.h"

/* The goals that `picotag bench` checks: the weights a run reads are at
 * most the file's int8 weights plus 5 %, and the runner's scratch is at
 * most twice the largest operator's input and output. */
#define WEIGHT_GOAL_PERCENT 105
#define SCRATCH_GOAL_FACTOR 2

static int compare_u64(const void *a, const void *b) {
    const uint64_t x = *(const uint64_t *)a;
    const uint64_t y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank quantile of sorted samples. */
static uint64_t quantile(const uint64_t *sorted, int count, int percent) {
    const int rank = (percent * (count - 1) + 50) / 100;
    return sorted[rank];
}

bench_spread bench_spread_of(uint64_t *samples, int count) {
    qsort(samples, (size_t)count, sizeof(*samples), compare_u64);
    const bench_spread spread = {
        .min = samples[0],
        .p25 = quantile(samples, count, 25),
        .median = quantile(samples, count, 50),
        .p75 = quantile(samples, count, 75),
        .max = samples[count - 1],
    };
    return spread;
}

static int64_t status_field_bytes(const char *text, const char *key) {
    const char *found = strstr(text, key);
    if (found == NULL) {
        return -1;
    }
    return strtoll(found + strlen(key), NULL, 10) * 1024;  /* the kernel reports kB */
}

void bench_resident_read(bench_resident *resident) {
    resident->anonymous = resident->file = resident->peak = -1;
    FILE *file = fopen("/proc/self/status", "r");
    if (file == NULL) {
        return;
    }
    char text[8192];
    const size_t length = fread(text, 1, sizeof(text) - 1, file);
    fclose(file);
    text[length] = '\0';
    resident->anonymous = status_field_bytes(text, "RssAnon:");
    resident->file = status_field_bytes(text, "RssFile:");
    resident->peak = status_field_bytes(text, "VmHWM:");
}

static double milliseconds(uint64_t nanoseconds) {
    return (double)nanoseconds / 1e6;
}

/* Multiply-accumulates per nanosecond are 10^9 per second: GMAC/s. */
static double gmacs_per_second(uint64_t macs, uint64_t nanoseconds) {
    return nanoseconds > 0 ? (double)macs / (double)nanoseconds : 0.0;
}

static size_t scratch_bytes(const bench_report *report) {
    return report->memory.activation_bytes + report->memory.kernel_scratch_bytes;
}

/* The weights a run reads: the packed copies and the int8 weights read
 * in place from the model file. */
static uint64_t held_weight_bytes(const bench_report *report) {
    return report->memory.packed_weight_bytes + report->memory.unpacked_weight_bytes;
}

static int weight_goal_holds(const bench_report *report) {
    return held_weight_bytes(report) * 100 <= report->model.weight_bytes * WEIGHT_GOAL_PERCENT;
}

static int scratch_goal_holds(const bench_report *report) {
    return scratch_bytes(report) <= SCRATCH_GOAL_FACTOR * report->memory.largest_op_bytes;
}

static void print_bytes_line(FILE *stream, const char *label, int64_t bytes) {
    if (bytes < 0) {
        fprintf(stream, "  %-37s unknown\n", label);
    } else {
        fprintf(stream, "  %-37s %" PRId64 " bytes (%.1f MiB)\n", label, bytes, (double)bytes / 1048576.0);
    }
}

static void print_memory_text(FILE *stream, const bench_report *report) {
    const uint64_t file_weights = report->model.weight_bytes;
    fprintf(stream, "memory\n");
    print_bytes_line(stream, "int8 weights in the model file", (int64_t)file_weights);
    print_bytes_line(stream, "packed weights read by the runner", (int64_t)report->memory.packed_weight_bytes);
    print_bytes_line(stream, "weights read in place from the file", (int64_t)report->memory.unpacked_weight_bytes);
    print_bytes_line(stream, "mapped weight pages given back", (int64_t)report->memory.released_weight_bytes);
    print_bytes_line(stream, "activation buffers", (int64_t)report->memory.activation_bytes);
    print_bytes_line(stream, "kernel scratch (all threads)", (int64_t)report->memory.kernel_scratch_bytes);
    print_bytes_line(stream, "largest operator input + output", (int64_t)report->memory.largest_op_bytes);
    fprintf(stream, "  %-37s %.3f (goal <= %.2f: %s)\n", "weights used / file weights",
            file_weights > 0 ? (double)held_weight_bytes(report) / (double)file_weights : 0.0,
            WEIGHT_GOAL_PERCENT / 100.0, weight_goal_holds(report) ? "holds" : "missed");
    fprintf(stream, "  %-37s %.3f (goal <= %d: %s)\n", "scratch / largest operator",
            report->memory.largest_op_bytes > 0
                ? (double)scratch_bytes(report) / (double)report->memory.largest_op_bytes
                : 0.0,
            SCRATCH_GOAL_FACTOR, scratch_goal_holds(report) ? "holds" : "missed");
    print_bytes_line(stream, "resident anonymous, model loaded", report->resident_before.anonymous);
    print_bytes_line(stream, "resident file pages, model loaded", report->resident_before.file);
    print_bytes_line(stream, "resident anonymous, after the runs", report->resident_after.anonymous);
    print_bytes_line(stream, "resident file pages, after the runs", report->resident_after.file);
    print_bytes_line(stream, "peak resident (VmHWM)", report->resident_after.peak);
}

static void format_shape(char *buffer, size_t capacity, int height, int width, int channels) {
    snprintf(buffer, capacity, "%dx%dx%d", height, width, channels);
}

static void print_layers_text(FILE *stream, const bench_report *report) {
    fprintf(stream, "\n%4s  %-15s %-13s %-13s %-9s %9s %9s %9s %9s %8s %6s\n", "op", "type", "input",
            "output", "kernel", "MMAC", "median ms", "min ms", "max ms", "GMAC/s", "share");
    for (int i = 0; i < report->layer_count; i++) {
        const bench_layer *layer = &report->layers[i];
        const picotag_op_info *info = &layer->info;
        char input[32];
        char output[32];
        char kernel[32] = "-";
        format_shape(input, sizeof(input), info->input_height, info->input_width, info->input_channels);
        format_shape(output, sizeof(output), info->output_height, info->output_width, info->output_channels);
        if (info->kernel_height > 0) {
            snprintf(kernel, sizeof(kernel), "%dx%d/%d%s", info->kernel_height, info->kernel_width,
                     info->stride_height, info->has_residual ? "+r" : "");
        }
        const double share =
            report->total.median > 0 ? 100.0 * (double)layer->time.median / (double)report->total.median : 0.0;
        fprintf(stream, "%4d  %-15s %-13s %-13s %-9s %9.2f %9.3f %9.3f %9.3f %8.1f %5.1f%%\n", i, info->type,
                input, output, kernel, (double)info->macs / 1e6, milliseconds(layer->time.median),
                milliseconds(layer->time.min), milliseconds(layer->time.max),
                gmacs_per_second(info->macs, layer->time.median), share);
    }
}

void bench_report_print_text(FILE *stream, const bench_report *report) {
    fprintf(stream, "model            %s\n", report->model_path);
    fprintf(stream, "kernels          %s\n", report->kernels);
    fprintf(stream, "threads          %d\n", report->threads);
    fprintf(stream, "input            %d x %d pixels (height x width)\n", report->height, report->width);
    fprintf(stream, "runs             %d, after %d warm-up runs\n", report->runs, report->warmup);
    fprintf(stream, "network          median %.3f ms (min %.3f, quartiles %.3f to %.3f, max %.3f)\n",
            milliseconds(report->total.median), milliseconds(report->total.min),
            milliseconds(report->total.p25), milliseconds(report->total.p75), milliseconds(report->total.max));
    fprintf(stream, "work             %.3f GMAC per run, %.1f GMAC/s at the median\n",
            (double)report->total_macs / 1e9, gmacs_per_second(report->total_macs, report->total.median));
    print_memory_text(stream, report);
    print_layers_text(stream, report);
}

static void print_spread_json(FILE *stream, const bench_spread *spread) {
    fprintf(stream,
            "{\"min_ns\": %" PRIu64 ", \"p25_ns\": %" PRIu64 ", \"median_ns\": %" PRIu64
            ", \"p75_ns\": %" PRIu64 ", \"max_ns\": %" PRIu64 "}",
            spread->min, spread->p25, spread->median, spread->p75, spread->max);
}

static void print_memory_json(FILE *stream, const bench_report *report) {
    fprintf(stream,
            "{\"file_weight_bytes\": %" PRIu64 ", \"packed_weight_bytes\": %zu, \"unpacked_weight_bytes\": %zu"
            ", \"released_weight_bytes\": %zu, \"activation_bytes\": %zu, \"kernel_scratch_bytes\": %zu"
            ", \"largest_op_bytes\": %zu, \"weight_goal_holds\": %s, \"scratch_goal_holds\": %s"
            ", \"resident_anonymous_bytes_before\": %" PRId64 ", \"resident_file_bytes_before\": %" PRId64
            ", \"resident_anonymous_bytes_after\": %" PRId64 ", \"resident_file_bytes_after\": %" PRId64
            ", \"peak_resident_bytes\": %" PRId64 "}",
            report->model.weight_bytes, report->memory.packed_weight_bytes, report->memory.unpacked_weight_bytes,
            report->memory.released_weight_bytes, report->memory.activation_bytes,
            report->memory.kernel_scratch_bytes, report->memory.largest_op_bytes,
            weight_goal_holds(report) ? "true" : "false", scratch_goal_holds(report) ? "true" : "false",
            report->resident_before.anonymous, report->resident_before.file, report->resident_after.anonymous,
            report->resident_after.file, report->resident_after.peak);
}

void bench_report_print_json(FILE *stream, const bench_report *report) {
    fprintf(stream, "{\"model\": ");
    json_write_string(stream, report->model_path);
    fprintf(stream, ", \"kernels\": ");
    json_write_string(stream, report->kernels);
    fprintf(stream, ", \"threads\": %d, \"height\": %d, \"width\": %d, \"runs\": %d, \"warmup\": %d",
            report->threads, report->height, report->width, report->runs, report->warmup);
    fprintf(stream, ", \"macs\": %" PRIu64 ", \"time\": ", report->total_macs);
    print_spread_json(stream, &report->total);
    fprintf(stream, ", \"memory\": ");
    print_memory_json(stream, report);
    fprintf(stream, ", \"layers\": [");
    for (int i = 0; i < report->layer_count; i++) {
        const picotag_op_info *info = &report->layers[i].info;
        fprintf(stream, "%s{\"type\": \"%s\", \"input\": [%d, %d, %d], \"output\": [%d, %d, %d]", i > 0 ? ", " : "",
                info->type, info->input_height, info->input_width, info->input_channels, info->output_height,
                info->output_width, info->output_channels);
        fprintf(stream, ", \"kernel\": [%d, %d], \"stride\": [%d, %d], \"residual\": %s, \"macs\": %" PRIu64,
                info->kernel_height, info->kernel_width, info->stride_height, info->stride_width,
                info->has_residual ? "true" : "false", info->macs);
        fprintf(stream, ", \"time\": ");
        print_spread_json(stream, &report->layers[i].time);
        fprintf(stream, "}");
    }
    fprintf(stream, "]}\n");
}
