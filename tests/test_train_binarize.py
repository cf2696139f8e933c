"""Binarization, the straight-through estimator and AP2."""
import numpy as np
import pytest

from pybnn.train.binarize import ap2, binarize, hard_sigmoid, sign, ste_grad, stochastic_sign


def test_sign_of_zero_is_plus_one():
    x = np.array([-0.0, 0.0, -1e-30, 1e-30, -2.5, 3.0, -1.0, 1.0], np.float32)
    np.testing.assert_array_equal(sign(x), [1, 1, -1, 1, -1, 1, -1, 1])
    assert sign(x).dtype == np.float32


def test_hard_sigmoid():
    x = np.array([-3, -1, -0.5, 0, 0.5, 1, 3], np.float32)
    np.testing.assert_allclose(hard_sigmoid(x), [0, 0, 0.25, 0.5, 0.75, 1, 1])


def test_stochastic_binarization_probability():
    rng = np.random.default_rng(1)
    values = np.array([-2.0, -1.0, -0.5, 0.0, 0.4, 1.0, 1.5], np.float32)
    x = np.repeat(values[None, :], 40000, axis=0)
    b = stochastic_sign(x, rng)
    assert set(np.unique(b)) <= {-1.0, 1.0}
    p_plus = (b == 1).mean(axis=0)
    # 40000 draws: the standard error is below 0.0025; 0.01 is four of them.
    np.testing.assert_allclose(p_plus, hard_sigmoid(values), atol=0.01)
    assert p_plus[0] == 0 and p_plus[-1] == 1  # saturated values are deterministic


def test_binarize_needs_rng_when_stochastic():
    with pytest.raises(ValueError, match="random generator"):
        binarize(np.zeros(3, np.float32), stochastic=True)


def test_ste_passes_inside_and_cancels_outside():
    x = np.array([-1.5, -1.0, -0.3, 0.0, 0.999, 1.0, 1.0001, 7.0], np.float32)
    g = np.arange(1, 9, dtype=np.float32)
    np.testing.assert_array_equal(ste_grad(x, g), [0, 2, 3, 4, 5, 6, 0, 0])


def test_ap2_known_values():
    x = np.array([1, 2, 3, -3, 0.7, 0.75, 5, 6, -0.1, 0, 1e-20, 1e20], np.float64)
    want = [1, 2, 4, -4, 0.5, 1, 4, 8, -0.125, 0, 2.0 ** -66, 2.0 ** 66]
    np.testing.assert_array_equal(ap2(x), want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ap2_is_the_nearest_power_of_two_in_log(dtype):
    rng = np.random.default_rng(2)
    x = (rng.standard_normal(20000) * 10.0 ** rng.uniform(-6, 6, 20000)).astype(dtype)
    y = ap2(x)
    assert y.dtype == dtype
    m, _ = np.frexp(np.abs(y))
    assert np.all(m == 0.5)  # exactly a power of two
    assert np.all(np.sign(y) == np.sign(x))
    assert np.all(np.abs(np.log2(np.abs(y.astype(np.float64))) - np.log2(np.abs(x.astype(np.float64)))) <= 0.5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ap2_at_the_rounding_boundary(dtype):
    # log2|x| = k + 1/2 at |x| = sqrt(2) * 2^k (not representable): the floats on
    # either side round down and up respectively, for every k.
    for k in (-10, -1, 0, 3, 20):
        b = np.sqrt(2.0) * 2.0 ** k
        below = np.nextafter(dtype(b), dtype(0))
        above = np.nextafter(below, dtype(np.inf))
        while np.float64(below) >= b:  # the float nearest b may lie on either side of it
            below, above = np.nextafter(below, dtype(0)), below
        while np.float64(above) < b:
            below, above = above, np.nextafter(above, dtype(np.inf))
        assert ap2(np.array([below], dtype))[0] == 2.0 ** k
        assert ap2(np.array([above], dtype))[0] == 2.0 ** (k + 1)


def test_ap2_float32_fast_path_equals_the_definition():
    from pybnn.train.binarize import _ap2_frexp
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(200000) * 10.0 ** rng.uniform(-44, 37, 200000)).astype(np.float32)
    x[:8] = [0.0, 1e-45, -3e-39, 1.1754942e-38, 1.17549435e-38, 3.4e38, -2.0, 0.7071067]
    np.testing.assert_array_equal(ap2(x), _ap2_frexp(x))
    assert ap2(x).dtype == np.float32
