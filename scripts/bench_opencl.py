"""The OpenCL backend's benchmark, everything on one device in one run.

    python scripts/bench_opencl.py [--device D] [--runs 3] [--quick]

1. Binary GEMM (opencl/bgemm.cl) in GMAC/s against CLBlast SGEMM in GFLOP/2
   (= GMAC/s) on the same device, at [1024]^3, [256, 4096, 4096], [4096]^3,
   and 8192^3 on a GPU with the memory for it; the ratio binary / float.
2. The paper's MLP (784-4096x3-10) and CIFAR-10 ConvNet in ms/image at batch
   1, 32 and 256: the OpenCL backend against pybnn's CPU backend on this
   machine, and the MLP against the same network's float32 GEMMs in CLBlast
   (GEMMs only: no activation kernels, which favours CLBlast slightly).
3. Load time of both models, cold (empty program caches: pybnn's and PoCL's)
   and warm (cached programs), each in a fresh process.

CLBlast comes from the `pyclblast` package built against Debian's
libclblast-dev (no wheels): apt-get install libclblast-dev && pip install
pyclblast. Without it the CLBlast columns say so. Random weights: fine for
speed. Every OpenCL result is checked against the CPU backend first.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import pybnn
from pybnn import format as bnn_format

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from paper_models import convnet_spec, mlp_spec  # noqa: E402


def median_seconds(fn, runs, min_time=0.05):
    """Median over `runs` timings; each repeats fn until min_time passes."""
    fn()  # warm-up
    samples = []
    for _ in range(runs):
        reps, start = 0, time.perf_counter()
        while True:
            fn()
            reps += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_time:
                break
        samples.append(elapsed / reps)
    return statistics.median(samples)


class Clblast:
    """SGEMM through pyclblast on the device's own context, or why not."""

    def __init__(self, device):
        try:
            import pyclblast  # noqa: F401
            import pyopencl as cl
            import pyopencl.array  # noqa: F401
        except ImportError as exc:
            self.why = f"pyclblast not installed ({exc})"
            return
        self.why = None
        self.cl = cl
        self.context = cl.Context([device])
        self.queue = cl.CommandQueue(self.context)

    def gemm_nt(self, x, w):
        """A function computing x (M, K) @ w (N, K)^T on the device (operands resident)."""
        import pyclblast
        import pyopencl.array as cla
        q = self.queue
        a, b = cla.to_device(q, x), cla.to_device(q, w)
        c = cla.zeros(q, (x.shape[0], w.shape[0]), np.float32)
        m, k, n = x.shape[0], x.shape[1], w.shape[0]

        def run():
            pyclblast.gemm(q, m, n, k, a, b, c, a_ld=k, b_ld=k, c_ld=n, b_transp=True)
            q.finish()
        return run

    def mlp(self, spec, batch):
        """The MLP's GEMMs in float32, layer after layer, operands resident."""
        import pyclblast
        import pyopencl.array as cla
        q = self.queue
        weights = [cla.to_device(q, l.weights.astype(np.float32)) for l in spec.layers
                   if hasattr(l, "weights")]
        acts = [cla.to_device(q, np.ones((batch, spec.input_shape[0]), np.float32))]
        acts += [cla.zeros(q, (batch, w.shape[0]), np.float32) for w in weights]

        def run():
            for w, a, c in zip(weights, acts, acts[1:]):
                n, k = w.shape
                pyclblast.gemm(q, batch, n, k, a, w, c, a_ld=k, b_ld=k, c_ld=n, b_transp=True)
            q.finish()
        return run


def bench_gemm(gemm, blas, device, runs, shapes):
    print("\n== binary GEMM vs CLBlast SGEMM (same device)")
    print(f"{'M, N, K':>20} {'binary GMAC/s':>14} {'SGEMM GFLOP/2':>14} {'ratio':>7}")
    rng = np.random.default_rng(0)
    for m, n, k in shapes:
        a = rng.integers(0, 2**63, (m, k // 64), dtype=np.uint64)
        b = rng.integers(0, 2**63, (n, k // 64), dtype=np.uint64)
        run, result = gemm.prepare(a, b, k)
        run()
        if m * n * k <= 256 * 4096 * 4096:
            assert np.array_equal(result(), pybnn.bgemm(a, b, k)), "OpenCL GEMM differs from the CPU"
        t_bin = median_seconds(run, runs)
        if blas.why:
            print(f"{str((m, n, k)):>20} {m * n * k / t_bin / 1e9:14.1f} {'-':>14} {'-':>7}  ({blas.why})")
            continue
        x = rng.standard_normal((m, k)).astype(np.float32)
        w = rng.standard_normal((n, k)).astype(np.float32)
        t_f = median_seconds(blas.gemm_nt(x, w), max(1, runs // 2))
        print(f"{str((m, n, k)):>20} {m * n * k / t_bin / 1e9:14.1f} "
              f"{m * n * k / t_f / 1e9:14.1f} {t_f / t_bin:6.1f}x", flush=True)


def bench_models(device, blas, runs, batches):
    print("\n== paper models: ms/image (OpenCL backend vs pybnn CPU backend on this machine)")
    print(f"{'model':>8} {'batch':>6} {'opencl':>9} {'cpu':>9} {'opencl/cpu':>11} {'CLBlast f32':>12} "
          f"{'f32/opencl':>11}")
    rng = np.random.default_rng(0)
    for name, spec in (("MLP", mlp_spec(rng)), ("ConvNet", convnet_spec(rng))):
        data = bnn_format.to_bytes(spec)
        ocl = pybnn.load(data, backend="opencl", device=device)
        cpu = pybnn.load(data)
        for batch in batches:
            x = rng.integers(0, 256, (batch,) + tuple(spec.input_shape), dtype=np.uint8)
            assert np.array_equal(ocl.run(x), cpu.run(x)), f"{name}: OpenCL scores differ"
            t_o = median_seconds(lambda: ocl.run(x), runs)
            t_c = median_seconds(lambda: cpu.run(x), runs)
            extra = f"{'-':>12} {'-':>11}"
            if name == "MLP" and not blas.why:
                t_f = median_seconds(blas.mlp(spec, batch), runs)
                extra = f"{t_f * 1e3 / batch:12.3f} {t_f / t_o:10.1f}x"
            print(f"{name:>8} {batch:6d} {t_o * 1e3 / batch:9.3f} {t_c * 1e3 / batch:9.3f} "
                  f"{t_o / t_c:10.2f}x {extra}", flush=True)


LOAD_CHILD = """
import json, sys, time
t = time.perf_counter()
import pybnn, pyopencl
imported = time.perf_counter() - t
t = time.perf_counter()
pyopencl.get_platforms()  # the ICD loader starts the drivers, once per process
started = time.perf_counter() - t
t = time.perf_counter()
m = pybnn.load(sys.argv[1], backend="opencl", device=sys.argv[2] if len(sys.argv) > 2 else None)
print(json.dumps([time.perf_counter() - t, imported, started]))
"""


def bench_load(device):
    print("\n== pybnn.load time (a fresh process each; programs built from source, then from "
          "the cache; importing pybnn + pyopencl and the drivers' start-up, once per process, "
          "shown apart)")
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, PYBNN_CACHE_DIR=os.path.join(tmp, "pybnn"),
                   POCL_CACHE_DIR=os.path.join(tmp, "pocl"))
        for name, spec in (("MLP", mlp_spec(rng)), ("ConvNet", convnet_spec(rng))):
            path = os.path.join(tmp, name + ".bnn")
            bnn_format.write(path, spec)
            times = []
            for _ in range(3):  # cold, warm, warm
                args = [sys.executable, "-c", LOAD_CHILD, path] + ([device] if device else [])
                out = subprocess.run(args, capture_output=True, text=True, env=env, cwd=tmp)
                if out.returncode:
                    raise SystemExit(out.stderr.strip().splitlines()[-1])
                times.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"{name:>8}: cold {times[0][0]:.2f} s, warm {min(t[0] for t in times[1:]):.3f} s"
                  f" (imports {min(t[1] for t in times):.2f} s, driver start-up "
                  f"{min(t[2] for t in times):.2f} s)")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", help="as pybnn.load's device (default: PYOPENCL_CTX, else the "
                   "first GPU, else a CPU device)")
    p.add_argument("--runs", type=int, default=3, help="timed runs per figure (median)")
    p.add_argument("--quick", action="store_true", help="skip [4096]^3 and batch 256")
    args = p.parse_args()
    from pybnn.backends.opencl_devices import choose_device
    from pybnn.backends.opencl_gemm import BinaryGemm
    device = choose_device(args.device)
    gemm = BinaryGemm(device)
    blas = Clblast(device)
    print(f"pybnn {pybnn.__version__}; OpenCL device: {gemm.device}, driver "
          f"{device.driver_version}, {device.max_compute_units} compute units")
    print(f"CPU backend kernels: {pybnn.kernel_info()['isa']}, "
          f"{pybnn.kernel_info()['threads']} threads; CLBlast: {blas.why or 'pyclblast'}")
    shapes = [(1024, 1024, 1024), (256, 4096, 4096)]
    if not args.quick:
        shapes.append((4096, 4096, 4096))
        if device.type & 4 and device.global_mem_size >= 8 * 8192 * 8192 * 4:  # a GPU
            shapes.append((8192, 8192, 8192))
    bench_gemm(gemm, blas, device, args.runs, shapes)
    bench_models(device, blas, args.runs, [1, 32] + ([] if args.quick else [256]))
    bench_load(args.device)


if __name__ == "__main__":
    main()
