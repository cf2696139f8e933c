#!/usr/bin/env bash
# The test command: installs what the tests need, builds pybnn, runs pytest
# (with a 30-second soak), the cross-compiled ARM tests under qemu, the C
# tests under ASan + UBSan and TSan (scripts/sanitize.sh) and both fuzzers
# for a bounded time (scripts/fuzz.sh, PYBNN_FUZZ_SECONDS each, default 120).
# The sanitizers and fuzzers add about 7 minutes.
#   bash scripts/test.sh            # the CI suite (tests marked slow are left out)
#   bash scripts/test.sh -m slow    # extra pytest arguments are passed through
set -euo pipefail
cd "$(dirname "$0")/.."

# The native build (the C library, its tests, the sanitizers: gcc, make, libc
# headers; a venv and Python's headers for Debian's python3). The ARM cross
# tests: cross compilers, C libraries, qemu, clang (which builds the kernel
# tests a second way). OpenCL on the CPU for the OpenCL backend tests: PoCL,
# the ICD loader, clinfo. (llvm-mca is only for scripts/arm_mca.sh, a
# benchmark, which installs it itself.)
APT_PACKAGES="gcc make libc6-dev python3-venv python3-dev gcc-aarch64-linux-gnu libc6-dev-arm64-cross gcc-arm-linux-gnueabihf libc6-dev-armhf-cross qemu-user clang pocl-opencl-icd ocl-icd-libopencl1 clinfo"

missing=()
for pkg in $APT_PACKAGES; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "== installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "== not root: cannot install ${missing[*]}; the ARM cross tests and the OpenCL tests will say what is missing"
    fi
fi

VENV=${PYBNN_VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q ".[test]"

echo "== pytest"
# Run from tests/ so that `import pybnn` finds the installed package, not the source tree.
(cd tests && "../$VENV/bin/python" -m pytest -q -c ../pyproject.toml --rootdir=.. "$@" .)

echo "== ARM cross tests (qemu)"
PYTHON="$VENV/bin/python" bash scripts/cross_test.sh

echo "== C tests under sanitizers"
start=$SECONDS
PYTHON="$VENV/bin/python" bash scripts/sanitize.sh
echo "== sanitizers took $((SECONDS - start))s"

echo "== fuzzers (${PYBNN_FUZZ_SECONDS:-120}s each)"
start=$SECONDS
PYTHON="$VENV/bin/python" bash scripts/fuzz.sh "${PYBNN_FUZZ_SECONDS:-120}"
echo "== fuzzers took $((SECONDS - start))s"
