#!/usr/bin/env bash
# The OpenCL backend on a GPU machine: exactness tests, then the benchmark,
# in under 8 minutes. Sets up what a bare GPU machine (or container) lacks:
#   - NVIDIA's container runtime may mount libnvidia-opencl.so.1 without the
#     ICD file /etc/OpenCL/vendors/nvidia.icd: written here when missing;
#   - the ICD loader and clinfo (Debian packages; root only), libclblast-dev
#     for the CLBlast baseline;
#   - a venv with pybnn[test,opencl] and pyclblast.
#   bash scripts/gpu_check.sh            # device: PYOPENCL_CTX, else the first GPU
#   PYOPENCL_CTX=1:0 bash scripts/gpu_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."

lib=$(ldconfig -p 2>/dev/null | awk '/libnvidia-opencl\.so\.1/ {print $NF; exit}')
if [ -z "$lib" ]; then
    lib=$(ls /usr/lib/x86_64-linux-gnu/libnvidia-opencl.so.1 /usr/lib64/libnvidia-opencl.so.1 \
          /usr/lib/aarch64-linux-gnu/libnvidia-opencl.so.1 2>/dev/null | head -1 || true)
fi
if [ -n "$lib" ] && [ ! -e /etc/OpenCL/vendors/nvidia.icd ]; then
    echo "== $lib is present but not registered: writing /etc/OpenCL/vendors/nvidia.icd"
    mkdir -p /etc/OpenCL/vendors
    echo "libnvidia-opencl.so.1" > /etc/OpenCL/vendors/nvidia.icd
fi

APT_PACKAGES="ocl-icd-libopencl1 clinfo libclblast-dev"
missing=()
for pkg in $APT_PACKAGES; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing ${missing[*]}"
    apt-get update -qq || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null || \
        echo "== apt-get failed: continuing with what is installed"
fi
command -v clinfo >/dev/null && clinfo -l || true

VENV=${PYBNN_VENV:-.venv}
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q ".[test,opencl]"
"$VENV/bin/python" -m pip install -q pyclblast || echo "== pyclblast unavailable: no CLBlast column"

"$VENV/bin/python" -c "import pybnn; [print(d) for d in pybnn.opencl_devices()]"

echo "== OpenCL exactness tests"
# Run from tests/ so that `import pybnn` finds the installed package.
(cd tests && timeout 300 "../$VENV/bin/python" -m pytest -q -c ../pyproject.toml --rootdir=.. \
    test_opencl.py test_engine.py -k "opencl or test_opencl" -x)

echo "== bench_opencl.py"
timeout 240 "$VENV/bin/python" scripts/bench_opencl.py --runs 3
