"""Soak: 8 Python threads run one model over and over with mixed batch sizes
(1..257) and now and then a bad input (wrong dtype or shape, which must
raise ValueError and change nothing). Every result must equal the
single-threaded reference bit for bit, and the resident memory after the
run must be within 2 MB of what it was after the warm-up (no leak, no
growth of the workspace cache).

The full run (8 threads x 10,000 runs) is marked slow; CI runs the same
for 30 seconds."""
import gc
import os
import threading
import time

import numpy as np
import pytest

import pybnn
from pybnn import format as bnn_format

from model_factory import named_model

THREADS = 8
MAX_BATCH = 257
RSS_SLACK = 2 << 20
WARM_UP_RUNS = 200  # per thread


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def bad_input(rng, model):
    """An input run() must refuse: the wrong dtype, or the wrong shape."""
    shape = tuple(model.input_shape)
    kind = rng.integers(3)
    if kind == 0:
        return np.zeros((2,) + shape, np.float32)
    if kind == 1:
        return np.zeros((2,) + shape[:-1] + (shape[-1] + 1,), np.uint8)
    return np.zeros((2, 1) + shape, np.uint8)


def soak(runs=None, seconds=None):
    """Returns (runs done, rss after warm-up, rss after the run); raises on a mismatch."""
    model = pybnn.load(bnn_format.to_bytes(named_model("conv_same_zero_s2", seed=7)))
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (2 * MAX_BATCH,) + tuple(model.input_shape), dtype=np.uint8)
    reference = model.run(x, threads=1)  # per sample: batching changes nothing
    barrier = threading.Barrier(THREADS + 1)
    deadline = [None]
    done = [0] * THREADS
    failures = []

    def check(t, start, batch, threads):
        got = model.run(x[start:start + batch], threads=threads)
        if not np.array_equal(got, reference[start:start + batch]):
            failures.append(f"thread {t}: batch {batch} at {start} differs from the reference")

    def loop(t, wrng, runs, deadline):
        """Random batches (and now and then a bad input) until `runs` or `deadline`."""
        i = 0
        while (runs is None or i < runs) and (deadline is None or time.monotonic() < deadline):
            if failures:
                return i
            if wrng.integers(50) == 0:
                try:
                    model.run(bad_input(wrng, model))
                    failures.append(f"thread {t}: a bad input was accepted")
                except ValueError:
                    pass
            batch = int(wrng.integers(1, MAX_BATCH + 1))
            check(t, int(wrng.integers(0, len(x) - batch + 1)), batch, int(wrng.integers(1, 3)))
            i += 1
        return i

    def worker(t):
        wrng = np.random.default_rng(100 + t)
        try:
            # Warm-up: the largest workspace first, then the same mix as the
            # run, so the allocator's arenas and NumPy's caches settle.
            check(t, t, MAX_BATCH, 1 + t % 2)
            loop(t, wrng, WARM_UP_RUNS, None)
        finally:
            barrier.wait()  # warmed up: the main thread reads RSS
            barrier.wait()
        done[t] = loop(t, wrng, runs, deadline[0])

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
    for th in pool:
        th.start()
    barrier.wait()
    gc.collect()
    rss_warm = rss_bytes()
    if seconds is not None:
        deadline[0] = time.monotonic() + seconds
    barrier.wait()
    for th in pool:
        th.join()
    gc.collect()
    assert not failures, failures[:5]
    return sum(done), rss_warm, rss_bytes()


def check_soak(**kw):
    runs, rss_warm, rss_after = soak(**kw)
    print(f"soak: {runs} runs on {THREADS} threads; RSS {rss_warm / 2**20:.1f} MiB after "
          f"warm-up, {rss_after / 2**20:.1f} MiB after")
    assert rss_after - rss_warm <= RSS_SLACK, (rss_warm, rss_after)
    return runs


def test_soak_30_seconds(capsys):
    assert check_soak(seconds=30) >= THREADS * 10  # it really ran, even on a busy machine


@pytest.mark.slow
def test_soak_8_threads_10000_runs_each():
    assert check_soak(runs=10_000) == THREADS * 10_000
