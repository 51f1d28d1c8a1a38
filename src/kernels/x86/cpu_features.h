/* Run-time checks for the x86-64 instruction set extensions that the
 * kernel sets use, including the operating system's support for saving
 * the vector registers they need. */
#ifndef PICOTAG_KERNELS_X86_CPU_FEATURES_H
#define PICOTAG_KERNELS_X86_CPU_FEATURES_H

/* AVX2 with YMM state enabled by the operating system. */
int picotag_cpu_has_avx2(void);

/* AVX-512 F, BW, VL and VNNI with opmask and ZMM state enabled by the
 * operating system. */
int picotag_cpu_has_avx512vnni(void);

#endif
