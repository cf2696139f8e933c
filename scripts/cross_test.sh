#!/usr/bin/env bash
# Cross-compiled C tests: builds libbnn.a and every tests/c/*.c program
# (each a standalone main) for the host (x86-64), aarch64 and armv7, then runs
# test_kernels and test_u8gemm natively and under qemu user-mode emulation, then bnn_classify
# (the C runtime, public API only) on a model of every layer combination,
# comparing the ARM scores with the x86 build's byte for byte. The models
# come from scripts/make_classify_fixtures.py, run with $PYTHON (default
# python3), which must import pybnn.
#
#   bash scripts/cross_test.sh               # build and run
#   bash scripts/cross_test.sh --build-only  # only build (for other tests)
#
# Binaries land in build-cross/<arch>/ (arch: x86_64, aarch64, armv7; armv6:
# test_kernels for Raspberry Pi OS 32-bit's default ARMv6 target; *-clang:
# test_kernels and test_u8gemm built by clang). To run one yourself:
#   build-cross/x86_64/PROG
#   qemu-aarch64 -cpu cortex-a72 -L /usr/aarch64-linux-gnu build-cross/aarch64/PROG
#   qemu-aarch64 -cpu max -L /usr/aarch64-linux-gnu build-cross/aarch64/PROG   # + udot
#   qemu-arm -cpu cortex-a7 -L /usr/arm-linux-gnueabihf build-cross/armv7/PROG
# (Cortex-A72: Raspberry Pi 4; Cortex-A7: Raspberry Pi 2, an armv7 core with
# NEON. test_kernels --expect-isa neon fails unless NEON was really picked.)
#
# A missing compiler, C library or qemu is an error naming its Debian package.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

BUILD_ONLY=0
for arg in "$@"; do
    case "$arg" in
    --build-only) BUILD_ONLY=1 ;;
    -h | --help)
        sed -n '2,23p' "$0"
        exit 0
        ;;
    *)
        echo "cross_test.sh: unknown argument '$arg' (expected --build-only)" >&2
        exit 2
        ;;
    esac
done

AARCH64_CC=${AARCH64_CC:-aarch64-linux-gnu-gcc}
ARMV7_CC=${ARMV7_CC:-arm-linux-gnueabihf-gcc}
CLANG=${CLANG:-clang}
# Every file targets armv7-a with VFP and the hard-float ABI; only *_neon.c
# get -mfpu=neon (from src/Makefile), as on a real armv7 build where NEON is
# optional and picked at run time from HWCAP.
ARMV7_FLAGS="-march=armv7-a -mfpu=vfpv3-d16 -mfloat-abi=hard"
# Raspberry Pi OS 32-bit's own gcc defaults to ARMv6 + VFP (for the Pi Zero/1):
# src/Makefile then builds the NEON files for -march=armv7-a -mfpu=neon and the
# rest for ARMv6. Debian's armhf C library needs ARMv7, so qemu runs this build
# on a Cortex-A7 (NEON picked from HWCAP), and with NEON disabled (a Pi Zero/1).
ARMV6_FLAGS="-march=armv6+fp -marm -mfloat-abi=hard"
ARMV7_READELF=${ARMV7_READELF:-arm-linux-gnueabihf-readelf}
QEMU_AARCH64=(qemu-aarch64 -cpu cortex-a72 -L /usr/aarch64-linux-gnu)
# -cpu max has the ARMv8.2 dot product (HWCAP_ASIMDDP): the neondot set runs
QEMU_AARCH64_DOT=(qemu-aarch64 -cpu max -L /usr/aarch64-linux-gnu)
QEMU_ARM=(qemu-arm -cpu cortex-a7 -L /usr/arm-linux-gnueabihf)
HOST_ARCH=$(uname -m)

# ---- what is needed, and which Debian package has it ---------------------
missing=()
need_cmd() { command -v "$1" >/dev/null 2>&1 || missing+=("$1 (apt package $2)"); }
need_file() { [ -e "$1" ] || missing+=("$1 (apt package $2)"); }
need_cmd make make
need_cmd gcc gcc
need_cmd "$AARCH64_CC" gcc-aarch64-linux-gnu
need_cmd "$ARMV7_CC" gcc-arm-linux-gnueabihf
need_cmd "$ARMV7_READELF" binutils-arm-linux-gnueabihf
need_cmd "$CLANG" clang
need_file /usr/aarch64-linux-gnu/include/stdio.h libc6-dev-arm64-cross
need_file /usr/arm-linux-gnueabihf/include/stdio.h libc6-dev-armhf-cross
if [ "$BUILD_ONLY" = 0 ]; then
    need_cmd qemu-aarch64 qemu-user
    need_cmd qemu-arm qemu-user
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "cross_test.sh: missing tools; install them (as root) and run again:" >&2
    for m in "${missing[@]}"; do echo "  - $m" >&2; done
    echo "  e.g. apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross" \
        "gcc-arm-linux-gnueabihf libc6-dev-armhf-cross qemu-user clang" >&2
    exit 1
fi

# ---- build ----------------------------------------------------------------
JOBS=${JOBS:-2}
build() { # arch, then make variables
    local arch=$1
    shift
    echo "== build $arch"
    mkdir -p "build-cross/$arch"
    make -s -j"$JOBS" -C src BUILD="$ROOT/build-cross/$arch" "$@" lib tests
}
build "$HOST_ARCH" CC=gcc
build aarch64 CC="$AARCH64_CC"
build armv7 CC="$ARMV7_CC" CFLAGS_ARCH="$ARMV7_FLAGS"
echo "== build armv6 (test_kernels only)"
make -s -j"$JOBS" -C src BUILD="$ROOT/build-cross/armv6" CC="$ARMV7_CC" CFLAGS_ARCH="$ARMV6_FLAGS" \
    lib "$ROOT/build-cross/armv6/test_kernels"
# The kernels built by clang too (test_kernels, test_u8gemm): it unrolls,
# vectorizes and lowers NEON intrinsics its own way (armv7: float compares in
# NEON, which flushes subnormals to zero, where GCC keeps them in VFP).
for arch in aarch64 armv7; do
    echo "== build $arch-clang (kernel tests)"
    flags="" triple=aarch64-linux-gnu
    if [ "$arch" = armv7 ]; then flags=$ARMV7_FLAGS triple=arm-linux-gnueabihf; fi
    make -s -j"$JOBS" -C src BUILD="$ROOT/build-cross/$arch-clang" CC="$CLANG --target=$triple" \
        CFLAGS_ARCH="$flags" lib "$ROOT/build-cross/$arch-clang/test_kernels" "$ROOT/build-cross/$arch-clang/test_u8gemm"
done
echo "== built: $(cd build-cross && ls -d "$HOST_ARCH" aarch64 armv7 armv6 aarch64-clang armv7-clang | tr '\n' ' ')"
[ "$BUILD_ONLY" = 1 ] && exit 0

# ---- run --------------------------------------------------------------------
results=()
failures=0
run() { # label, then the command
    local label=$1
    shift
    echo "== $label: $*"
    local out rc=0
    out=$("$@" 2>&1) || rc=$?
    echo "$out"
    local last
    last=$(printf '%s\n' "$out" | tail -n 1)
    if [ "$rc" = 0 ]; then
        results+=("PASS  $label: $last")
    else
        results+=("FAIL  $label (exit $rc): $last")
        failures=$((failures + 1))
    fi
}

run "$HOST_ARCH native" "build-cross/$HOST_ARCH/test_kernels"
run "$HOST_ARCH native, SIMD disabled" env PYBNN_DISABLE_CPU_FEATURES=avx2,avx512,neon \
    "build-cross/$HOST_ARCH/test_kernels" --expect-isa scalar
run "aarch64 qemu" "${QEMU_AARCH64[@]}" build-cross/aarch64/test_kernels --expect-isa neon
run "armv7 qemu" "${QEMU_ARM[@]}" build-cross/armv7/test_kernels --expect-isa neon
# On a Pi Zero/1 (ARMv6) only the NEON objects may hold ARMv7 code (they run
# only when HWCAP says NEON): every other object must be built for ARMv6.
armv6_objects_are_v6() {
    local o arch bad=0 ok=0
    for o in $(find build-cross/armv6/obj -name '*.o' | sort); do
        arch=$("$ARMV7_READELF" -A "$o" | awk '/Tag_CPU_arch:/ {print $2; exit}')
        case "$o" in
        *_neon.o) want=v7 ;;
        *) want=v6 ;;
        esac
        if [ "$arch" = "$want" ]; then ok=$((ok + 1)); else
            echo "$o: Tag_CPU_arch $arch, expected $want" >&2
            bad=$((bad + 1))
        fi
    done
    echo "$ok passed, $bad failed"
    [ "$bad" = 0 ] && [ "$ok" -gt 0 ]
}
run "armv6-default build: objects ARMv6 except *_neon (readelf -A)" armv6_objects_are_v6
run "armv6-default build qemu" "${QEMU_ARM[@]}" build-cross/armv6/test_kernels --expect-isa neon
run "armv6-default build qemu, NEON disabled" env PYBNN_DISABLE_CPU_FEATURES=neon \
    "${QEMU_ARM[@]}" build-cross/armv6/test_kernels --expect-isa scalar
run "$HOST_ARCH native u8gemm" "build-cross/$HOST_ARCH/test_u8gemm"
run "$HOST_ARCH native u8gemm, SIMD disabled" env PYBNN_DISABLE_CPU_FEATURES=avx2,avx512,neon \
    "build-cross/$HOST_ARCH/test_u8gemm" --expect-isa scalar
run "aarch64 qemu u8gemm" "${QEMU_AARCH64[@]}" build-cross/aarch64/test_u8gemm --expect-isa neon
run "armv7 qemu u8gemm" "${QEMU_ARM[@]}" build-cross/armv7/test_u8gemm --expect-isa neon
run "aarch64-clang qemu -cpu max" "${QEMU_AARCH64_DOT[@]}" build-cross/aarch64-clang/test_kernels --expect-isa neondot
run "aarch64-clang qemu -cpu max u8gemm" "${QEMU_AARCH64_DOT[@]}" build-cross/aarch64-clang/test_u8gemm --expect-isa neondot
run "armv7-clang qemu" "${QEMU_ARM[@]}" build-cross/armv7-clang/test_kernels --expect-isa neon
run "armv7-clang qemu u8gemm" "${QEMU_ARM[@]}" build-cross/armv7-clang/test_u8gemm --expect-isa neon
run "aarch64 qemu -cpu max (udot)" "${QEMU_AARCH64_DOT[@]}" build-cross/aarch64/test_kernels --expect-isa neondot
run "aarch64 qemu -cpu max u8gemm (udot)" "${QEMU_AARCH64_DOT[@]}" build-cross/aarch64/test_u8gemm --expect-isa neondot
# the thread pool; under qemu without its fork check (qemu-user aborts on a
# fork after threads were started, whatever the program)
run "$HOST_ARCH native thread pool" "build-cross/$HOST_ARCH/test_parallel"
run "aarch64 qemu thread pool" "${QEMU_AARCH64[@]}" build-cross/aarch64/test_parallel --no-fork
run "armv7 qemu thread pool" "${QEMU_ARM[@]}" build-cross/armv7/test_parallel --no-fork

# ---- the C runtime: the same files on x86 and ARM give the same bytes -------
PYTHON=${PYTHON:-python3}
FIXTURES=build-cross/fixtures
compare_classify() { # arch, then the command prefix (qemu or nothing)
    local arch=$1 name count
    shift
    local ok=0 bad=0
    while read -r name count; do
        "$@" "build-cross/$arch/bnn_classify" "$FIXTURES/$name.bnn" "$FIXTURES/$name.u8" "$count" \
            --scores "$FIXTURES/$name.$arch.f32" >/dev/null
        if cmp -s "$FIXTURES/$name.$HOST_ARCH.f32" "$FIXTURES/$name.$arch.f32"; then
            ok=$((ok + 1))
        else
            echo "$arch: scores of $name differ from the $HOST_ARCH build" >&2
            bad=$((bad + 1))
        fi
    done <"$FIXTURES/list.txt"
    echo "$ok passed, $bad failed"
    [ "$bad" = 0 ]
}
if "$PYTHON" "scripts/make_classify_fixtures.py" "$FIXTURES"; then
    while read -r name count; do
        "build-cross/$HOST_ARCH/bnn_classify" "$FIXTURES/$name.bnn" "$FIXTURES/$name.u8" "$count" \
            --scores "$FIXTURES/$name.$HOST_ARCH.f32" >/dev/null
    done <"$FIXTURES/list.txt"
    run "aarch64 qemu bnn_classify vs $HOST_ARCH" compare_classify aarch64 "${QEMU_AARCH64[@]}"
    run "armv7 qemu bnn_classify vs $HOST_ARCH" compare_classify armv7 "${QEMU_ARM[@]}"
else
    results+=("FAIL  bnn_classify fixtures: $PYTHON could not run scripts/make_classify_fixtures.py (needs pybnn installed)")
    failures=$((failures + 1))
fi

echo "== summary"
printf '%s\n' "${results[@]}"
if [ "$failures" -gt 0 ]; then
    echo "cross_test.sh: $failures run(s) failed" >&2
    exit 1
fi
