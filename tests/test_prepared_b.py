"""pybnn.prepare_b: B prepared once equals bgemm on B's rows, exactly, on
every kernel set (its panel form on AVX-512, where one row of A meets four
panel groups at once, and AVX2, two groups of split panels at once), for
any thread count, and after the kernel set changes under it."""
import numpy as np
import pytest

import pybnn
from pybnn import _core

from test_bgemm import numpy_bgemm, random_pm1

# The panel forms' edges: 16-row groups, 4 groups (64 columns) at a time for
# 1-3 rows of A, 8-row tiles of A (AVX-512), 2 groups (32 columns) at a time
# (AVX2), 64-column blocks for threads.
MS = [1, 2, 3, 4, 7, 8, 17, 130]
NS = [1, 15, 16, 17, 63, 64, 65, 100, 257]
KS = [1, 64, 65, 576, 1152, 4097]


@pytest.mark.parametrize("k", KS)
def test_prepared_matches_numpy(isa, rng, k):
    for n in NS:
        b = random_pm1(rng, n, k)
        prepared = pybnn.prepare_b(pybnn.pack_bits(b), k)
        for m in MS:
            a = random_pm1(rng, m, k)
            got = pybnn.bgemm(pybnn.pack_bits(a), prepared)
            assert got.dtype == np.int32 and got.shape == (m, n)
            np.testing.assert_array_equal(got, numpy_bgemm(a, b), err_msg=f"{isa} m={m} n={n} k={k}")


def test_prepared_equals_rows_for_every_thread_count(rng):
    k = 1152
    a, b = pybnn.pack_bits(random_pm1(rng, 70, k)), pybnn.pack_bits(random_pm1(rng, 1000, k))
    prepared = pybnn.prepare_b(b, k)
    want = pybnn.bgemm(a, b, k, threads=1)
    for t in (1, 2, 3, 16):
        np.testing.assert_array_equal(pybnn.bgemm(a, prepared, threads=t), want)
        np.testing.assert_array_equal(pybnn.bgemm(a[:1], prepared, k, threads=t), want[:1])


def test_prepared_survives_a_change_of_kernel_set(rng):
    """Prepared under the best set (panels on AVX-512), run under each other
    set: the panels are not theirs, so they run on the prepared rows."""
    k = 576
    a, b = random_pm1(rng, 5, k), random_pm1(rng, 100, k)
    default = _core.isa()
    prepared = pybnn.prepare_b(pybnn.pack_bits(b), k)
    try:
        for name in _core.available_isas() + ["ref"]:
            _core.select_isa(name)
            np.testing.assert_array_equal(pybnn.bgemm(pybnn.pack_bits(a), prepared),
                                          numpy_bgemm(a, b), err_msg=name)
    finally:
        _core.select_isa(default)


def test_prepared_holds_its_own_copy(rng):
    k = 200
    b = pybnn.pack_bits(random_pm1(rng, 20, k))
    a = pybnn.pack_bits(random_pm1(rng, 3, k))
    prepared = pybnn.prepare_b(b, k)
    want = pybnn.bgemm(a, b, k)
    b[:] = 0
    np.testing.assert_array_equal(pybnn.bgemm(a, prepared), want)
    assert (prepared.n, prepared.k, prepared.words) == (20, 200, 4)
    assert repr(prepared) == "PreparedB(n=20, k=200)"


def test_prepared_bad_inputs_raise_clear_errors(rng):
    b = pybnn.pack_bits(random_pm1(rng, 4, 100))
    with pytest.raises(ValueError, match="expected 2 words per row for k=100, got a.shape"):
        pybnn.bgemm(np.zeros((1, 3), np.uint64), pybnn.prepare_b(b, 100))
    with pytest.raises(ValueError, match="prepared for k=100, got k=90"):
        pybnn.bgemm(b, pybnn.prepare_b(b, 100), 90)
    with pytest.raises(ValueError, match="expected at least one row of 4 words for k=200"):
        pybnn.prepare_b(b, 200)
    with pytest.raises(ValueError, match="expected at least one row"):
        pybnn.prepare_b(b[:0], 100)
    with pytest.raises(ValueError, match="positive int"):
        pybnn.prepare_b(b, 0)
    with pytest.raises(ValueError, match="expected dtype uint64"):
        pybnn.prepare_b(b.astype(np.int64), 100)
    with pytest.raises(ValueError, match="only a PreparedB b knows its k"):
        pybnn.bgemm(b, b)
    with pytest.raises(TypeError, match="cannot be pickled"):
        import pickle
        pickle.dumps(pybnn.prepare_b(b, 100))
    assert pybnn.bgemm(b[:0], pybnn.prepare_b(b, 100)).shape == (0, 4)
