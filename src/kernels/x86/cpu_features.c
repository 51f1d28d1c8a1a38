/*
 * CPUID and XGETBV checks. A CPU may list AVX or AVX-512 in CPUID while the
 * operating system does not save the wider registers on a context switch;
 * XCR0 (read with XGETBV, allowed when CPUID reports OSXSAVE) lists the
 * register states that it saves. Bit numbers are from the Intel 64 and IA-32
 * Architectures Software Developer's Manual, volume 2A (CPUID) and volume 1
 * section 13 (XCR0).
 */
#include "kernels/x86/cpu_features.h"

#include <cpuid.h>
#include <stddef.h>
#include <stdint.h>

#define XCR0_SSE_AND_AVX_STATE 0x06u        /* bits 1 (XMM) and 2 (YMM upper halves) */
#define XCR0_AVX512_STATE 0xE0u             /* bits 5 (opmask), 6 (ZMM upper halves), 7 (ZMM16-31) */

typedef struct cpu_feature_words {
    uint32_t leaf1_ecx;
    uint32_t leaf7_ebx;
    uint32_t leaf7_ecx;
    uint64_t xcr0;           /* 0 when the OS does not enable XGETBV */
} cpu_feature_words;

static uint64_t read_xcr0(void) {
    uint32_t low = 0;
    uint32_t high = 0;
    __asm__ volatile("xgetbv" : "=a"(low), "=d"(high) : "c"(0));
    return ((uint64_t)high << 32) | low;
}

static cpu_feature_words read_feature_words(void) {
    cpu_feature_words words = {0, 0, 0, 0};
    unsigned int eax = 0, ebx = 0, ecx = 0, edx = 0;

    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) {
        return words;
    }
    words.leaf1_ecx = ecx;
    const uint32_t osxsave = 1u << 27;
    if (words.leaf1_ecx & osxsave) {
        words.xcr0 = read_xcr0();
    }

    if (__get_cpuid_max(0, NULL) >= 7) {
        __cpuid_count(7, 0, eax, ebx, ecx, edx);
        words.leaf7_ebx = ebx;
        words.leaf7_ecx = ecx;
    }
    return words;
}

static int has_all_bits(uint64_t value, uint64_t bits) {
    return (value & bits) == bits;
}

int picotag_cpu_has_avx2(void) {
    const cpu_feature_words words = read_feature_words();
    const uint32_t avx = 1u << 28;          /* leaf 1 ECX */
    const uint32_t avx2 = 1u << 5;          /* leaf 7 EBX */

    return has_all_bits(words.leaf1_ecx, avx) && has_all_bits(words.leaf7_ebx, avx2) &&
           has_all_bits(words.xcr0, XCR0_SSE_AND_AVX_STATE);
}

int picotag_cpu_has_avx512vnni(void) {
    const cpu_feature_words words = read_feature_words();
    const uint32_t avx512f = 1u << 16;      /* leaf 7 EBX */
    const uint32_t avx512bw = 1u << 30;     /* leaf 7 EBX */
    const uint32_t avx512vl = 1u << 31;     /* leaf 7 EBX */
    const uint32_t avx512vnni = 1u << 11;   /* leaf 7 ECX */

    return picotag_cpu_has_avx2() &&
           has_all_bits(words.leaf7_ebx, avx512f | avx512bw | avx512vl) &&
           has_all_bits(words.leaf7_ecx, avx512vnni) &&
           has_all_bits(words.xcr0, XCR0_SSE_AND_AVX_STATE | XCR0_AVX512_STATE);
}
