/* The x86-64 convolution kernels and the packed layouts they read. Each
 * kernel's file is compiled for its instruction set; call a kernel only
 * when the CPU check of its kernel set holds. */
#ifndef PICOTAG_KERNELS_X86_X86_KERNELS_H
#define PICOTAG_KERNELS_X86_X86_KERNELS_H

#include "kernels/kernels.h"
#include "kernels/x86/conv2d_x86.h"

/* Tile of 6 output pixels x 64 output channels, k in groups of 4 bytes
 * (VPDPBUSD), requantization with round half up in 64-bit arithmetic. */
extern const conv2d_x86_layout picotag_conv2d_u8i8_6x64c4_layout;
void picotag_conv2d_u8i8_6x64c4_rhu_avx512vnni(const picotag_conv2d_params *params);

/* Tile of 4 output pixels x 16 output channels, k in pairs of int16
 * (VPMADDWD), requantization with round half up in 64-bit arithmetic. */
extern const conv2d_x86_layout picotag_conv2d_u8i8_4x16c2_layout;
void picotag_conv2d_u8i8_4x16c2_rhu_avx2(const picotag_conv2d_params *params);

/* Max pooling, 32 channels per vector, for both x86 sets. */
void picotag_maxpool_u8_32c_avx2(const picotag_maxpool_params *params);

#endif
