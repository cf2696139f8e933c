"""Which ISA-specific kernel files a C compiler builds, and with which flags.

Used by setup.py (src/Makefile does the same in make). The answer comes from
the compiler's target, never from the machine the build runs on: a Raspberry
Pi 4 or 5 running 32-bit Raspberry Pi OS reports ``aarch64`` from uname while
its Python and gcc are armhf, and a cross compiler builds for another machine
altogether. So the compiler is asked for its predefined macros
(``cc -dM -E``) and, on 32-bit ARM, a probe compile finds the flags that let
the NEON files build:

- x86-64 / x86: ``*_avx2.c``, ``*_avx512.c`` and ``*_avx512vnni.c`` with their flags,
  and ``*_avxvnni.c`` where the compiler knows ``-mavxvnni`` (GCC 11, clang 12;
  ``BNN_WITH_AVXVNNI`` tells dispatch.c they are linked in).
- aarch64: ``*_neon.c`` with no flag (NEON is part of the base ISA) and
  ``*_neondot.c`` with ``+dotprod``.
- 32-bit ARM: NEON is optional (not on the Pi Zero/1's ARMv6 core), so only
  ``*_neon.c`` get the NEON flags and ``BNN_WITH_NEON`` tells the other files
  they are linked in; src/cpu/dispatch.c uses them only when HWCAP_NEON says
  the CPU has NEON. Raspberry Pi OS's gcc defaults to ARMv6 + VFP, so when
  the default target is older than ARMv7 the NEON files are built for
  ``-march=armv7-a`` (no ARMv6 core has NEON; the Pi 2 and later run them).
  A soft-float target gets ``-mfloat-abi=softfp``, which links with soft-float
  code. If no flags compile NEON, the NEON files are left out and the scalar
  kernels run.
- anything else: no ISA files; the portable scalar kernels.

``python build_isa.py CC [FLAGS...]`` prints the answer for a compiler.
"""
import os
import subprocess
import sys
import tempfile

X86_FLAGS = {
    "avx2": ["-mavx2", "-mpopcnt"],
    "avx512": ["-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512vpopcntdq", "-mavx512vbmi", "-mavx2", "-mpopcnt"],
    "avx512vnni": ["-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512vnni", "-mavx2"],
}
# AVX-VNNI needs GCC 11 / clang 12: built only where the compiler knows it.
AVXVNNI_FLAGS = ["-mavx2", "-mavxvnni"]
AVXVNNI_PROBE = (
    "#include <immintrin.h>\n"
    "__m256i probe(__m256i s, __m256i a, __m256i b) { return _mm256_dpbusd_avx_epi32(s, a, b); }\n"
)
# aarch64: NEON is the base ISA; the ARMv8.2 dot product files need +dotprod
# (dispatch runs them only where HWCAP_ASIMDDP says the CPU has it).
AARCH64_FLAGS = {"neon": [], "neondot": ["-march=armv8.2-a+dotprod"]}
ALL_ISAS = ("avx2", "avx512", "avx512vnni", "avxvnni", "neon", "neondot")

# A NEON file's needs in one line: the header, a 128-bit popcount and a
# pairwise widening add (all kernels use these).
NEON_PROBE = (
    "#include <arm_neon.h>\n"
    "uint16x8_t probe(uint8x16_t a, uint8x16_t b) { return vpaddlq_u8(vcntq_u8(veorq_u8(a, b))); }\n"
)


def predefined_macros(cc):
    """The macros compiler command `cc` (a list) predefines, as a dict; {} if it cannot say."""
    try:
        out = subprocess.run(list(cc) + ["-dM", "-E", "-x", "c", os.devnull],
                             capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return {}
    macros = {}
    for line in out.splitlines():
        parts = line.split(None, 2)
        if len(parts) >= 2 and parts[0] == "#define":
            macros[parts[1]] = parts[2] if len(parts) == 3 else ""
    return macros


def compiles(cc, flags, source):
    """Whether `cc` + `flags` compiles C `source` to an object."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "probe.c")
        with open(path, "w") as f:
            f.write(source)
        try:
            result = subprocess.run(list(cc) + list(flags) + ["-c", path, "-o", os.path.join(tmp, "probe.o")],
                                    capture_output=True)
        except OSError:
            return False
        return result.returncode == 0


def arm32_neon_flags(cc, macros):
    """The flags that make `cc` (a 32-bit ARM target) compile NEON, or None."""
    if "__ARM_NEON" in macros or "__ARM_NEON__" in macros:
        candidates = [[]]  # the flags given already enable NEON
    else:
        candidates = []
    if int(macros.get("__ARM_ARCH", "0") or 0) >= 7:
        candidates.append(["-mfpu=neon"])
    candidates.append(["-march=armv7-a", "-mfpu=neon"])
    if "__ARM_PCS_VFP" not in macros:  # soft-float ABI: softfp links with it, hard does not
        candidates.append(["-march=armv7-a", "-mfpu=neon", "-mfloat-abi=softfp"])
    for flags in candidates:
        if compiles(cc, flags, NEON_PROBE):
            return flags
    return None


def isa_flags(cc):
    """For compiler command `cc` (a list): ({isa: flags} of the ISA files to build,
    [(macro, value)] defines for every file, a one-line description)."""
    macros = predefined_macros(cc)
    if "__x86_64__" in macros or "__i386__" in macros:
        if compiles(cc, AVXVNNI_FLAGS, AVXVNNI_PROBE):
            return (dict(X86_FLAGS, avxvnni=AVXVNNI_FLAGS), [("BNN_WITH_AVXVNNI", "1")],
                    "x86: avx2, avx512, avx512vnni and avxvnni files")
        return dict(X86_FLAGS), [], "x86: avx2, avx512 and avx512vnni files (the compiler has no -mavxvnni)"
    if "__aarch64__" in macros:
        return dict(AARCH64_FLAGS), [], "aarch64: neon and neondot files"
    if "__arm__" in macros:
        flags = arm32_neon_flags(cc, macros)
        if flags is None:
            return {}, [], "32-bit ARM without NEON support in the compiler: scalar kernels only"
        return ({"neon": flags}, [("BNN_WITH_NEON", "1")],
                f"32-bit ARM (default ARMv{macros.get('__ARM_ARCH', '?')}): neon files with {' '.join(flags) or 'no extra flags'}")
    if not macros:
        return {}, [], f"could not ask {' '.join(cc)} for its target: scalar kernels only"
    return {}, [], "no ISA-specific kernels for this target: scalar kernels only"


def isa_of(path):
    """The ISA a source file is for (`bgemm_neon.c` -> 'neon'), or its last name part."""
    stem = os.path.splitext(os.path.basename(path))[0]
    return stem.rsplit("_", 1)[-1]


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python build_isa.py CC [FLAGS...]")
    by_isa, defines, note = isa_flags(sys.argv[1:])
    print(note)
    for isa in sorted(by_isa):
        print(f"{isa}: {' '.join(by_isa[isa])}")
    for name, value in defines:
        print(f"-D{name}={value}")
