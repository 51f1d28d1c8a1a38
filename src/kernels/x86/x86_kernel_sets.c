/*
 * The x86-64 kernel sets. Each has its own convolution, with weights packed
 * at runner creation, and both use the AVX2 max pooling. Global average
 * pooling and the fully connected layer run the reference kernels because
 * they take a small share of a ResNet's time.
 *
 * This file is compiled for the baseline target: only the kernels
 * themselves use AVX2 or AVX-512 instructions.
 */
#include "kernels/kernels.h"
#include "kernels/x86/cpu_features.h"
#include "kernels/x86/x86_kernels.h"

static size_t packed_bytes_6x64c4(const picotag_conv2d_params *params) {
    return conv2d_x86_packed_bytes(params, &picotag_conv2d_u8i8_6x64c4_layout);
}

static void pack_6x64c4(const picotag_conv2d_params *params, void *packed) {
    conv2d_x86_pack(params, &picotag_conv2d_u8i8_6x64c4_layout, packed);
}

static size_t scratch_bytes_6x64c4(const picotag_conv2d_params *params) {
    conv2d_x86_plan plan;
    conv2d_x86_make_plan(params, &picotag_conv2d_u8i8_6x64c4_layout, &plan);
    return plan.scratch_bytes;
}

static size_t packed_bytes_4x16c2(const picotag_conv2d_params *params) {
    return conv2d_x86_packed_bytes(params, &picotag_conv2d_u8i8_4x16c2_layout);
}

static void pack_4x16c2(const picotag_conv2d_params *params, void *packed) {
    conv2d_x86_pack(params, &picotag_conv2d_u8i8_4x16c2_layout, packed);
}

static size_t scratch_bytes_4x16c2(const picotag_conv2d_params *params) {
    conv2d_x86_plan plan;
    conv2d_x86_make_plan(params, &picotag_conv2d_u8i8_4x16c2_layout, &plan);
    return plan.scratch_bytes;
}

const picotag_kernel_set picotag_avx512vnni_kernel_set = {
    .name = "avx512vnni",
    .is_supported = picotag_cpu_has_avx512vnni,
    .conv2d_u8i8 = picotag_conv2d_u8i8_6x64c4_rhu_avx512vnni,
    .maxpool_u8 = picotag_maxpool_u8_32c_avx2,
    .global_avgpool_u8 = picotag_global_avgpool_u8_reference,
    .fully_connected_u8i8 = picotag_fully_connected_u8i8_reference,
    .conv2d_u8i8_packed_bytes = packed_bytes_6x64c4,
    .conv2d_u8i8_pack = pack_6x64c4,
    .conv2d_u8i8_scratch_bytes = scratch_bytes_6x64c4,
};

const picotag_kernel_set picotag_avx2_kernel_set = {
    .name = "avx2",
    .is_supported = picotag_cpu_has_avx2,
    .conv2d_u8i8 = picotag_conv2d_u8i8_4x16c2_rhu_avx2,
    .maxpool_u8 = picotag_maxpool_u8_32c_avx2,
    .global_avgpool_u8 = picotag_global_avgpool_u8_reference,
    .fully_connected_u8i8 = picotag_fully_connected_u8i8_reference,
    .conv2d_u8i8_packed_bytes = packed_bytes_4x16c2,
    .conv2d_u8i8_pack = pack_4x16c2,
    .conv2d_u8i8_scratch_bytes = scratch_bytes_4x16c2,
};
