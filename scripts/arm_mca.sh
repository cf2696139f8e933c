#!/usr/bin/env bash
# ARM speed estimates without ARM hardware: clang + llvm-mca on the NEON
# kernels (whole bgemm tiles at the paper's K, the hot loop, the first layer
# with and without udot) for Cortex-A53, Cortex-A72 and Neoverse-N1 (the
# LLVM model of the Pi 5's Cortex-A76). See scripts/arm_mca.py for what is
# printed. Needs Debian's clang and llvm (llvm-mca):
#   apt-get install clang llvm
#   bash scripts/arm_mca.sh
# The hot loop as gcc builds it (a Pi's own compiler) is timed too where
# Debian's cross compilers are installed (the ones scripts/cross_test.sh uses:
# gcc-aarch64-linux-gnu libc6-dev-arm64-cross gcc-arm-linux-gnueabihf
# libc6-dev-armhf-cross); without them those rows say so.
# llvm-mca before LLVM 17 has no Neoverse-N1 model: it times neoverse-n1
# (and cortex-a76) with its Cortex-A57 one, so the A76 rows would repeat the
# A72's (arm_mca.py says so when it sees it). The newest llvm-mca-N (N >= 17)
# on PATH is used; as root on Debian, llvm-19 is installed when none is there
# (bookworm has it; apt package llvm-19).
# CLANG=clang-15 LLVM_MCA=llvm-mca-15 pick other versions.
set -euo pipefail
cd "$(dirname "$0")/.."
newest_mca() {
    local v
    for v in 25 24 23 22 21 20 19 18 17; do
        if command -v "llvm-mca-$v" >/dev/null 2>&1; then echo "llvm-mca-$v"; return; fi
    done
}
if [ -z "${LLVM_MCA:-}" ]; then
    LLVM_MCA=$(newest_mca)
    if [ -z "$LLVM_MCA" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null &&
        apt-cache show llvm-19 >/dev/null 2>&1; then
        echo "== installing llvm-19 (llvm-mca with a Neoverse-N1 model)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends llvm-19 >/dev/null
        LLVM_MCA=$(newest_mca)
    fi
    LLVM_MCA=${LLVM_MCA:-llvm-mca}
fi
export LLVM_MCA
missing=()
check_tools() {
    missing=()
    command -v "${CLANG:-clang}" >/dev/null 2>&1 || missing+=("${CLANG:-clang} (apt package clang)")
    command -v "$LLVM_MCA" >/dev/null 2>&1 || missing+=("$LLVM_MCA (apt package llvm)")
}
check_tools
# As root on Debian, install them, as the other scripts do with their tools.
if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing clang and llvm (llvm-mca)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang llvm >/dev/null
    check_tools
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "arm_mca.sh: missing tools; install them and run again:" >&2
    for m in "${missing[@]}"; do echo "  - $m" >&2; done
    exit 1
fi
exec "${PYTHON:-python3}" scripts/arm_mca.py "$@"
