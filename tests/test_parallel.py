"""The persistent thread pool (src/common/parallel.c) seen from Python: many
small calls, every thread count, results identical for each, concurrent
callers, and a forked child that must not deadlock."""
import os
import signal
import threading

import numpy as np
import pytest

import pybnn
from pybnn import _core

FORK_TIMEOUT_SECONDS = 60


def packed(rng, rows, k):
    return pybnn.pack_bits(np.where(rng.random((rows, k)) < 0.5, -1, 1).astype(np.int8))


def test_pool_sized_to_the_usable_cores(rng):
    a, b = packed(rng, 64, 4096), packed(rng, 512, 4096)
    pybnn.bgemm(a, b, 4096, threads=None)
    assert _core.pool_helpers() == len(os.sched_getaffinity(0)) - 1


@pytest.mark.parametrize("m,n,k", [(1, 4096, 4096), (1, 300, 576), (3, 1000, 1152), (64, 512, 8192)])
def test_results_identical_for_every_thread_count(isa, rng, m, n, k):
    a, b = packed(rng, m, k), packed(rng, n, k)
    want = pybnn.bgemm(a, b, k, threads=1)
    for threads in (None, 2, 3, 4, 8):
        np.testing.assert_array_equal(pybnn.bgemm(a, b, k, threads=threads), want,
                                      err_msg=f"{isa} threads={threads}")


def test_many_small_calls(rng):
    """Thousands of calls, each split over threads: every output right each time."""
    a, b = packed(rng, 1, 4096), packed(rng, 2048, 4096)
    want = pybnn.bgemm(a, b, 4096, threads=1)
    for i in range(2000):
        got = pybnn.bgemm(a, b, 4096, threads=2 + i % 3)
        if not np.array_equal(got, want):
            pytest.fail(f"call {i}: result differs from 1 thread")


def test_concurrent_callers(rng):
    a, b = packed(rng, 8, 2048), packed(rng, 1024, 2048)
    want = pybnn.bgemm(a, b, 2048, threads=1)
    bad = []

    def caller():
        for _ in range(200):
            if not np.array_equal(pybnn.bgemm(a, b, 2048, threads=None), want):
                bad.append(1)
    workers = [threading.Thread(target=caller) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not bad


def test_forked_child_runs_parallel_calls(rng):
    """After the pool has started, a forked child (which has none of its
    threads) runs parallel calls and exits; the parent's pool still works."""
    a, b = packed(rng, 64, 4096), packed(rng, 1024, 4096)
    want = pybnn.bgemm(a, b, 4096, threads=None)  # the parent's pool is running
    assert _core.pool_helpers() == len(os.sched_getaffinity(0)) - 1
    pid = os.fork()
    if pid == 0:  # child: exit status says whether it worked; never return into pytest
        code = 1
        try:
            signal.alarm(FORK_TIMEOUT_SECONDS)
            ok = _core.pool_helpers() == 0
            for _ in range(50):
                ok &= np.array_equal(pybnn.bgemm(a, b, 4096, threads=None), want)
            ok &= _core.pool_helpers() == len(os.sched_getaffinity(0)) - 1
            code = 0 if ok else 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, f"child status {status}"
    np.testing.assert_array_equal(pybnn.bgemm(a, b, 4096, threads=None), want)
