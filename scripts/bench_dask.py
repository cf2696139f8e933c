#!/usr/bin/env python3
"""Batch inference on a local Dask cluster against Model.predict in one
process, on the paper's ConvNet (random weights), all in one run.

    python scripts/bench_dask.py [--images 8000] [--chunk 1000] [--repeats 3]

Measures, each --repeats times (median and minimum shown):
- Model.predict on the whole array in this process, 1 pybnn thread and every core;
- pybnn.dask.predict on LocalCluster(n_workers=W, threads_per_worker=1,
  processes=True) for W in --workers, 1 pybnn thread per chunk, the images
  read by the workers from a .npy file (as from shared storage);
- the overhead per chunk: (1 worker - in-process 1 thread) / chunks, and the
  same graph with the model call replaced by a no-op (reading, scheduling,
  sending the result back);
- the seconds the workers spent in Model.run (pybnn.dask.worker_stats), the
  wall time beyond it per chunk (what Dask adds, and any waiting for a CPU on
  a shared machine), and the model loads per worker.
The model is loaded on every worker before timing (one warm-up run).
Needs the dask extra: pip install 'pybnn[dask]'."""
import argparse
import os
import statistics
import sys
import tempfile
import time

import numpy as np
from distributed import Client, LocalCluster

import pybnn
import pybnn.dask
from pybnn import format as bnn_format
from pybnn.dask_files import open_images

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from paper_models import convnet_spec  # noqa: E402


def timings(fn, repeats):
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def no_op_scores(block):
    return np.zeros((block.shape[0], 10), np.float32)


def bench_cluster(workers, model_path, npy_path, chunk, repeats, expected):
    """(model timings, no-op timings, per-worker stats) on a fresh local
    cluster of `workers` processes."""
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        images = open_images(npy_path, chunk_size=chunk)
        predictions = pybnn.dask.predict(model_path, images, threads=1)
        # Warm-up: every worker loads the model (and imports pybnn) once.
        pybnn.dask.predict(model_path, images[:chunk * workers], threads=1).compute()
        got = predictions.compute()
        if not np.array_equal(got, expected):
            raise SystemExit(f"{workers} workers: predictions differ from Model.predict")
        before = client.run(pybnn.dask.worker_stats)
        model_times = timings(predictions.compute, repeats)
        after = client.run(pybnn.dask.worker_stats)
        engine = sum(after[w]["run_seconds"] - before[w]["run_seconds"] for w in after) / repeats
        no_op = images.map_blocks(no_op_scores, dtype=np.float32, chunks=(images.chunks[0], (10,)),
                                  drop_axis=[2, 3])
        no_op_times = timings(no_op.compute, repeats)
        stats = client.run(pybnn.dask.worker_stats)
    return model_times, no_op_times, stats, engine


def row(label, samples, n, base=None):
    med, best = statistics.median(samples), min(samples)
    speedup = f"{base / med:6.2f}x" if base else ""
    return (f"{label:<34} {med:8.2f} {best:8.2f} {n / med:9.1f} {n / best:9.1f}  {speedup}")


def loadavg():
    try:
        return " ".join(f"{v:.1f}" for v in os.getloadavg())
    except OSError:
        return "?"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=8000, help="images per run (default 8000)")
    parser.add_argument("--chunk", type=int, default=1000, help="images per chunk (default 1000)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each (default 3)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                        help="cluster sizes to time (default 1 2)")
    args = parser.parse_args()

    spec = convnet_spec(np.random.default_rng(0))
    x = np.random.default_rng(1).integers(0, 256, (args.images, 32, 32, 3), dtype=np.uint8)
    chunks = -(-args.images // args.chunk)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"pybnn {pybnn.__version__}, kernels {pybnn.kernel_info()['isa']}, {cores} cores, "
          f"load average at start {loadavg()}")
    print(f"paper ConvNet (32x32x3, random weights), {args.images} images in {chunks} chunks "
          f"of {args.chunk}, {args.repeats} repeats")
    with tempfile.TemporaryDirectory() as tmp:
        model_path, npy_path = os.path.join(tmp, "convnet.bnn"), os.path.join(tmp, "images.npy")
        bnn_format.write(model_path, spec)
        np.save(npy_path, x)

        model = pybnn.load(model_path)
        model.predict(x[:args.chunk], threads=1)  # warm-up
        expected = model.predict(x, threads=1)
        results = {"1 process, 1 thread": timings(lambda: model.predict(x, threads=1), args.repeats),
                   f"1 process, {cores} threads": timings(lambda: model.predict(x), args.repeats)}
        no_op, loads = {}, {}
        for workers in args.workers:
            label = f"dask, {workers} worker{'s' if workers > 1 else ''} x 1 thread"
            results[label], no_op[workers], stats, engine = bench_cluster(
                workers, model_path, npy_path, args.chunk, args.repeats, expected)
            wall = statistics.mean(results[label])
            loads[label] = (", ".join(f"{s['loads']} load(s) for {s['chunks']} chunks"
                                      for s in stats.values()) +
                            f"; {engine:.2f} s in Model.run per run, all workers together; "
                            f"wall - Model.run per worker: {(wall - engine / workers) / chunks * 1e3:.0f} "
                            f"ms per chunk (means)")

    print(f"\n{'':<34} {'median s':>8} {'min s':>8} {'img/s med':>9} {'img/s max':>9}  speedup")
    base = None
    for label, samples in results.items():
        print(row(label, samples, args.images, base))
        if label.startswith("dask, 1 worker"):
            base = statistics.median(samples)  # later rows: speedup over one worker
    for label, text in loads.items():
        print(f"{label}: model {text}")
    if 1 in no_op:
        one_process = statistics.median(results["1 process, 1 thread"])
        one_worker = statistics.median(results["dask, 1 worker x 1 thread"])
        print(f"\noverhead per chunk, 1 worker against 1 process: "
              f"{(one_worker - one_process) / chunks * 1e3:.1f} ms (medians)")
        print(f"no-op chunk on 1 worker (read, schedule, return): "
              f"{statistics.median(no_op[1]) / chunks * 1e3:.1f} ms median, "
              f"{min(no_op[1]) / chunks * 1e3:.1f} ms min")
    print(f"load average at end {loadavg()}")


if __name__ == "__main__":
    main()
