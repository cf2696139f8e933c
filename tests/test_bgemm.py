"""bgemm on every kernel set against a pure-NumPy reference, exactly."""
import numpy as np
import pytest

import pybnn

KS = [1, 2, 63, 64, 65, 127, 128, 129, 255, 256, 257, 511, 512, 513, 1000, 4097]
MNS = [1, 3, 17, 64, 100]


def numpy_bgemm(a_pm1, b_pm1):
    return a_pm1.astype(np.int32) @ b_pm1.astype(np.int32).T


def random_pm1(rng, rows, k):
    return np.where(rng.random((rows, k)) < 0.5, -1, 1).astype(np.int8)


@pytest.mark.parametrize("k", KS)
def test_bgemm_matches_numpy_all_shapes(isa, rng, k):
    for m in MNS:
        for n in MNS:
            a, b = random_pm1(rng, m, k), random_pm1(rng, n, k)
            got = pybnn.bgemm(pybnn.pack_bits(a), pybnn.pack_bits(b), k)
            assert got.dtype == np.int32 and got.shape == (m, n)
            np.testing.assert_array_equal(got, numpy_bgemm(a, b), err_msg=f"{isa} m={m} n={n} k={k}")


@pytest.mark.parametrize("m,n,k", [(70, 300, 576), (130, 257, 1024), (1, 600, 4096), (65, 65, 8193),
                                   (9, 40, 16384), (9, 40, 16449)])
def test_bgemm_larger_than_a_block(isa, rng, m, n, k):
    a, b = random_pm1(rng, m, k), random_pm1(rng, n, k)
    got = pybnn.bgemm(pybnn.pack_bits(a), pybnn.pack_bits(b), k)
    np.testing.assert_array_equal(got, numpy_bgemm(a, b))


@pytest.mark.parametrize("k", [1, 64, 65, 300])
def test_one_hot_rows_pin_the_bit_order(isa, k):
    """Row i of A is -1 only at position i: C[i, j] = k - 2 * (i != j) for one-hot B."""
    eye = np.where(np.eye(k, dtype=bool), -1, 1).astype(np.int8)
    got = pybnn.bgemm(pybnn.pack_bits(eye), pybnn.pack_bits(eye), k)
    expected = np.full((k, k), k - 4, dtype=np.int32)
    np.fill_diagonal(expected, k)
    np.testing.assert_array_equal(got, expected)


def test_threads_do_not_change_the_result(rng):
    k = 1000
    a, b = random_pm1(rng, 300, k), random_pm1(rng, 700, k)
    pa, pb = pybnn.pack_bits(a), pybnn.pack_bits(b)
    one = pybnn.bgemm(pa, pb, k, threads=1)
    for t in (2, 3, pybnn.kernel_info()["threads"], 16):
        np.testing.assert_array_equal(pybnn.bgemm(pa, pb, k, threads=t), one)
    np.testing.assert_array_equal(one, numpy_bgemm(a, b))


def test_bad_inputs_raise_clear_errors(rng):
    pa = pybnn.pack_bits(random_pm1(rng, 4, 100))
    with pytest.raises(ValueError, match="expected dtype uint64, got int64"):
        pybnn.bgemm(pa.astype(np.int64), pa, 100)
    with pytest.raises(ValueError, match="expected 4 words per row for k=200"):
        pybnn.bgemm(pa, pa, 200)
    with pytest.raises(ValueError, match="C-contiguous"):
        pybnn.bgemm(np.asfortranarray(np.ones((4, 2), np.uint64)), pa, 100)
    with pytest.raises(ValueError, match="2-D"):
        pybnn.bgemm(pa[0], pa, 100)
    with pytest.raises(ValueError, match="positive int"):
        pybnn.bgemm(pa, pa, 0)
    with pytest.raises(ValueError, match="threads"):
        pybnn.bgemm(pa, pa, 100, threads=0)
    with pytest.raises(ValueError, match="numpy.ndarray"):
        pybnn.bgemm([[1, 2]], pa, 100)


# Kernel edges: the x86 kernels use 1 x 8 tiles (1 x 4 for a thin last strip),
# whole 256/512-bit vectors plus a 1-3 / 1-7 word tail, K chunks of 4096 (AVX2)
# or 8192 (AVX-512) bits, and a separate AVX2 path for 1-4 rows of A.
TILE_MS = [1, 2, 3, 4, 5, 9]
TILE_NS = [1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17]
TILE_KS = [192, 256, 448, 576, 640, 704, 960, 1024, 1088, 4096, 4160, 8192, 8256, 8640, 12345,
           16832]


@pytest.mark.parametrize("k", TILE_KS)
def test_bgemm_tile_edges(isa, rng, k):
    for m in TILE_MS:
        for n in TILE_NS:
            a, b = random_pm1(rng, m, k), random_pm1(rng, n, k)
            got = pybnn.bgemm(pybnn.pack_bits(a), pybnn.pack_bits(b), k)
            np.testing.assert_array_equal(got, numpy_bgemm(a, b), err_msg=f"{isa} m={m} n={n} k={k}")


@pytest.mark.parametrize("k", [64, 576, 1024, 4097])
def test_bgemm_extreme_counts(isa, k):
    """All-equal and all-different rows: popcount 0 and k, no counter may wrap."""
    ones = np.ones((11, k), dtype=np.int8)
    got = pybnn.bgemm(pybnn.pack_bits(ones), pybnn.pack_bits(np.concatenate([ones, -ones])), k)
    expected = np.concatenate([np.full((11, 11), k), np.full((11, 11), -k)], axis=1)
    np.testing.assert_array_equal(got, expected.astype(np.int32))


def test_roofline_kernels_count_exactly(isa, rng):
    """The benchmark's XOR + popcount ceiling (pybnn._core.roofline_xor_popcount)."""
    from pybnn import _core

    a = rng.integers(0, 2**63, 256, dtype=np.uint64) * np.uint64(3)
    b = rng.integers(0, 2**63, 256, dtype=np.uint64)
    expected = int(np.unpackbits((a ^ b).view(np.uint8)).sum())
    assert _core.roofline_xor_popcount(isa, a, b, 3) == 3 * expected
    with pytest.raises(ValueError, match="multiple of 64"):
        _core.roofline_xor_popcount(isa, a[:100], b[:100], 1)


def test_bgemm_repeat_gives_the_product():
    """The benchmark's repeated C calls (scripts/bench_bgemm.py) compute the same product
    and check their arguments like bgemm."""
    from pybnn import _core
    rng = np.random.default_rng(7)
    a = rng.integers(0, 2**63, (3, 2), dtype=np.uint64)
    b = rng.integers(0, 2**63, (5, 2), dtype=np.uint64)
    np.testing.assert_array_equal(_core.bgemm_repeat(a, b, 128, 1, 4), _core.bgemm(a, b, 128, 1))
    with pytest.raises(ValueError, match="words per row"):
        _core.bgemm_repeat(a, b, 64, 1, 4)


def test_packed_rows_and_products_start_on_a_cache_line(rng):
    """pack_bits and bgemm return arrays whose data starts on a 64-byte line
    (the kernels move whole 64-byte vectors from row starts; numpy alone
    aligns to 16), and they are ordinary writable C-contiguous arrays."""
    for rows, k in ((1, 1), (3, 100), (37, 4097)):
        p = pybnn.pack_bits(random_pm1(rng, rows, k))
        c = pybnn.bgemm(p, p, k)
        for x in (p, c):
            assert x.ctypes.data % 64 == 0
            assert x.flags.c_contiguous and x.flags.writeable
        np.testing.assert_array_equal(c, numpy_bgemm(pybnn.unpack_bits(p, k), pybnn.unpack_bits(p, k)))


def test_bgemm_threads_says_how_many_threads_a_product_runs_on():
    """Small products run on one thread whatever they are given (a helper
    would cost more than it saves); large ones on what they are given, up to
    one per 2^16 word operations."""
    from pybnn import _core
    assert _core.bgemm_threads(1, 512, 576, 2) == 1
    assert _core.bgemm_threads(256, 4096, 4096, 1) == 1
    assert _core.bgemm_threads(256, 4096, 4096, 2) == 2
    assert _core.bgemm_threads(1024, 1024, 1024, 16) == 16
    # 4096 x 128 word operations: a thread for each 2^16 of them, and one more
    assert _core.bgemm_threads(1, 4096, 8192, 1000) == 9
    assert _core.bgemm_threads(0, 10, 10, 4) == 1
    with pytest.raises(ValueError, match="threads"):
        _core.bgemm_threads(1, 1, 1, 0)


def test_out_receives_the_product(rng):
    """bgemm(..., out=c) writes into c and returns it, for B as rows and
    prepared; a wrong out is refused before anything is written."""
    k = 300
    a, b = pybnn.pack_bits(random_pm1(rng, 7, k)), pybnn.pack_bits(random_pm1(rng, 20, k))
    want = pybnn.bgemm(a, b, k)
    for bb, kk in ((b, k), (pybnn.prepare_b(b, k), None)):
        out = np.full((7, 20), 12345, np.int32)
        assert pybnn.bgemm(a, bb, kk, out=out) is out
        np.testing.assert_array_equal(out, want)
    with pytest.raises(ValueError, match=r"out: expected shape \(7, 20\), got \(7, 19\)"):
        pybnn.bgemm(a, b, k, out=np.zeros((7, 19), np.int32))
    with pytest.raises(ValueError, match="out: expected dtype int32, got float32"):
        pybnn.bgemm(a, b, k, out=np.zeros((7, 20), np.float32))
    with pytest.raises(ValueError, match="out: expected a C-contiguous array"):
        pybnn.bgemm(a, b, k, out=np.zeros((20, 7), np.int32).T)
    read_only = np.zeros((7, 20), np.int32)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="out: expected a writable array"):
        pybnn.bgemm(a, b, k, out=read_only)
    shared = np.zeros(200, np.uint64)
    a_in_shared = shared[:35].reshape(7, 5)
    a_in_shared[:] = a
    with pytest.raises(ValueError, match="out: expected memory apart from a's"):
        pybnn.bgemm(a_in_shared, b, k, out=shared[10:80].view(np.int32).reshape(7, 20))


def test_the_docstring_examples_run():
    """pack_bits, bgemm and prepare_b show examples in their docstrings: they stay true."""
    import doctest

    import pybnn.bits
    result = doctest.testmod(pybnn.bits)
    assert result.attempted >= 7 and result.failed == 0
