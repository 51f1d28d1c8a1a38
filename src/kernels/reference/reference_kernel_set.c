/* The portable reference kernel set. */
#include "kernels/kernels.h"

static int reference_is_supported(void) {
    return 1;
}

const picotag_kernel_set picotag_reference_kernel_set = {
    .name = "reference",
    .is_supported = reference_is_supported,
    .conv2d_u8i8 = picotag_conv2d_u8i8_reference,
    .maxpool_u8 = picotag_maxpool_u8_reference,
    .global_avgpool_u8 = picotag_global_avgpool_u8_reference,
    .fully_connected_u8i8 = picotag_fully_connected_u8i8_reference,
    /* Reads the OHWI weights of the file and needs no working memory. */
    .conv2d_u8i8_packed_bytes = NULL,
    .conv2d_u8i8_pack = NULL,
    .conv2d_u8i8_scratch_bytes = NULL,
};
