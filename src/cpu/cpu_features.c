/* cpu_features.c - CPU feature detection. Compiled with no ISA flags: it must
 * run on every CPU of its architecture, including ones that lack the sets it
 * asks about. On x86 a feature counts only if the OS saves its registers
 * (XCR0), since CPUID alone says nothing about OS support. */
#include "cpu/cpu_features.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <stdint.h>

static uint64_t read_xcr0(void)
{
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

bnn_cpu_features bnn_detect_cpu_features(void)
{
    bnn_cpu_features f = {0};
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx))
        return f;
    int osxsave = (ecx >> 27) & 1, popcnt = (ecx >> 23) & 1;
    if (!osxsave)
        return f;
    uint64_t xcr0 = read_xcr0();
    int ymm_state = (xcr0 & 0x6) == 0x6;    /* SSE + AVX state */
    int zmm_state = (xcr0 & 0xe6) == 0xe6;  /* + opmask, ZMM_Hi256, Hi16_ZMM */
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx))
        return f;
    unsigned max_subleaf = eax;
    int avx2 = (ebx >> 5) & 1, avx512f = (ebx >> 16) & 1, avx512bw = (ebx >> 30) & 1;
    int avx512vl = (ebx >> 31) & 1, vpopcntdq = (ecx >> 14) & 1, vnni = (ecx >> 11) & 1;
    int vbmi = (ecx >> 1) & 1; /* vpermb; every core with VPOPCNTDQ and BW has it */
    f.avx2 = avx2 && popcnt && ymm_state;
    f.avx512 = f.avx2 && avx512f && avx512bw && avx512vl && vpopcntdq && vbmi && zmm_state;
    f.avx512vnni = f.avx512 && vnni;
    /* AVX-VNNI: CPUID.(7,1).EAX bit 4; YMM state is all it needs */
    if (max_subleaf >= 1 && __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx))
        f.avxvnni = f.avx2 && ((eax >> 4) & 1);
    return f;
}

#elif defined(__aarch64__)
#if defined(__linux__)
#include <sys/auxv.h>
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
bnn_cpu_features bnn_detect_cpu_features(void)
{
    bnn_cpu_features f = {0};
    f.neon = 1; /* Advanced SIMD is mandatory on AArch64 */
#if defined(__linux__)
    f.neondot = (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#endif
    return f;
}

#elif defined(__arm__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_NEON
#define HWCAP_NEON (1 << 12)
#endif
bnn_cpu_features bnn_detect_cpu_features(void)
{
    bnn_cpu_features f = {0};
    f.neon = (getauxval(AT_HWCAP) & HWCAP_NEON) != 0;
    return f;
}

#else
bnn_cpu_features bnn_detect_cpu_features(void)
{
    bnn_cpu_features f = {0};
    return f;
}
#endif
