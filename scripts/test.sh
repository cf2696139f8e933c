#!/usr/bin/env bash
# The test command: installs what the tests need, builds pybnn, runs pytest
# and the cross-compiled ARM tests under qemu.
#   bash scripts/test.sh            # the CI suite (tests marked slow are left out)
#   bash scripts/test.sh -m slow    # extra pytest arguments are passed through
set -euo pipefail
cd "$(dirname "$0")/.."

# OpenCL on the CPU for the OpenCL backend tests: PoCL, the ICD loader, clinfo.
APT_PACKAGES="gcc-aarch64-linux-gnu libc6-dev-arm64-cross gcc-arm-linux-gnueabihf libc6-dev-armhf-cross qemu-user pocl-opencl-icd ocl-icd-libopencl1 clinfo"

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
