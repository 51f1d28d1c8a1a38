/* The AArch64 kernels and the CPU checks of the kernel sets that use them. */
#ifndef PICOTAG_KERNELS_ARM_ARM_KERNELS_H
#define PICOTAG_KERNELS_ARM_ARM_KERNELS_H

#include "kernels/arm/conv2d_arm.h"
#include "kernels/kernels.h"

void picotag_conv2d_u8i8_4x16_rhu_neon(const picotag_conv2d_params *params);
void picotag_conv2d_u8i8_4x16c4_rhu_dotprod(const picotag_conv2d_params *params);
void picotag_conv2d_u8i8_4x16c8_rhu_i8mm(const picotag_conv2d_params *params);

void picotag_maxpool_u8_16c_neon(const picotag_maxpool_params *params);

/* Advanced SIMD, reported by the kernel (HWCAP_ASIMD); every AArch64 Linux
 * system has it. */
int picotag_cpu_has_neon(void);
/* SDOT and UDOT (HWCAP_ASIMDDP). */
int picotag_cpu_has_dotprod(void);
/* USDOT, SUDOT and the int8 matrix multiplies (HWCAP2_I8MM). */
int picotag_cpu_has_i8mm(void);

#endif
