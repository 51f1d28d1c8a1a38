/* Run-time checks for the AArch64 extensions that the kernel sets use, from
 * the hardware capabilities that the Linux kernel passes in the auxiliary
 * vector. The kernel sets these bits only for features it lets user space
 * run, so no further check is needed. */
#include <sys/auxv.h>

#include "kernels/arm/arm_kernels.h"

/* The bits of Linux's arch/arm64/include/uapi/asm/hwcap.h, for C libraries
 * whose headers predate them. */
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1UL << 1)
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1UL << 20)
#endif
#ifndef HWCAP2_I8MM
#define HWCAP2_I8MM (1UL << 13)
#endif

int picotag_cpu_has_neon(void) {
    return (getauxval(AT_HWCAP) & HWCAP_ASIMD) != 0;
}

int picotag_cpu_has_dotprod(void) {
    return picotag_cpu_has_neon() && (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
}

int picotag_cpu_has_i8mm(void) {
    return picotag_cpu_has_neon() && (getauxval(AT_HWCAP2) & HWCAP2_I8MM) != 0;
}
