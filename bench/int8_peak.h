/* Measured int8 multiply-accumulate peak of one core, for bench_kernels. */
#ifndef PICOTAG_BENCH_INT8_PEAK_H
#define PICOTAG_BENCH_INT8_PEAK_H

/* Returns the int8 multiply-accumulates per second of a loop of
 * independent VPDPBUSD on one core; needs AVX-512 VNNI. */
double bench_int8_peak_macs_per_second_avx512vnni(void);

#endif
