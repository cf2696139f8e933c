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


# (dtype, unsigned twin, exponent bits, fraction bits)
FORMATS = {np.float16: (np.uint16, 5, 10), np.float32: (np.uint32, 8, 23), np.float64: (np.uint64, 11, 52)}


def ap2_oracle_bits(pattern, dtype):
    """AP2 of one float given by its bit pattern, as a bit pattern, from Python
    integers only (no float unit that could flush subnormals): |x| = c * 2^q
    exactly; round(log2|x|) = n + 1 when (c * 2^q)^2 >= 2^(2n+1), n = floor(log2|x|)."""
    _, ebits, wbits = FORMATS[dtype]
    sign = pattern >> (ebits + wbits)
    field, fraction = (pattern >> wbits) & ((1 << ebits) - 1), pattern & ((1 << wbits) - 1)
    if field == (1 << ebits) - 1:
        return pattern  # inf, NaN
    if field == 0 and fraction == 0:
        return pattern  # +-0
    bias = (1 << (ebits - 1)) - 1
    c, q = (fraction, 1 - bias - wbits) if field == 0 else ((1 << wbits) | fraction, field - bias - wbits)
    n = c.bit_length() - 1 + q
    # (c 2^q)^2 >= 2^(2n+1)  <=>  c^2 >= 2^(2n+1-2q)
    if c * c >= 1 << (2 * n + 1 - 2 * q):
        n += 1
    if n + bias >= (1 << ebits) - 1:
        magnitude = ((1 << ebits) - 1) << wbits  # infinity
    elif n >= 1 - bias:
        magnitude = (n + bias) << wbits
    else:
        magnitude = 1 << (n - (1 - bias - wbits))  # a subnormal power of two
    return (sign << (ebits + wbits)) | magnitude


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_ap2_is_exact_on_every_bit_pattern_class(dtype):
    """AP2 equals the integer oracle bit for bit, subnormals included (a subnormal
    gives the nearest power of two in log2, itself subnormal or the smallest
    normal), zeros keep their sign, inf and NaN stay. The array is large so
    that NumPy's SIMD loops run: on 32-bit ARM they flush float subnormals,
    which AP2 must not inherit."""
    uint, ebits, wbits = FORMATS[dtype]
    nbits = 1 + ebits + wbits
    rng = np.random.default_rng(3)
    n = 200000
    patterns = rng.integers(0, 1 << min(nbits, 63), n, dtype=np.uint64)
    if nbits == 64:
        patterns |= rng.integers(0, 2, n, dtype=np.uint64) << np.uint64(63)
    patterns = patterns.astype(uint)
    subnormal = rng.random(n) < 0.3  # a third subnormal (random fraction, sign)
    patterns[subnormal] &= uint(~(((1 << ebits) - 1) << wbits) & ((1 << nbits) - 1))
    top = 1 << (nbits - 1)
    fixed = [0, top, 1, top | 1, 2, 3, 0x42A, (1 << wbits) - 1, 1 << wbits,
             ((1 << ebits) - 2) << wbits | ((1 << wbits) - 1),  # the largest finite: rounds to inf
             ((1 << ebits) - 1) << wbits, top | ((1 << ebits) - 1) << wbits, ((1 << ebits) - 1) << wbits | 1]
    patterns[:len(fixed)] = fixed
    got = ap2(patterns.view(dtype)).view(uint)
    want = np.array([ap2_oracle_bits(int(p), dtype) for p in patterns], dtype=uint)
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, [(hex(patterns[i]), hex(got[i]), hex(want[i])) for i in bad[:5]]


def test_ap2_on_float32_subnormals_by_example():
    bits = np.array([0x1, 0x3, 0x42A, 0x5A8279, 0x5A827A, 0x7FFFFF, 0x80000003], np.uint32)
    want = [0x1, 0x4, 0x400, 0x400000, 0x800000, 0x800000, 0x80000004]
    assert ap2(bits.view(np.float32)).view(np.uint32).tolist() == want


def test_ap2_keeps_shape_and_dtype_and_rejects_other_floats():
    assert ap2(np.float32(3)).dtype == np.float32 and ap2(np.float32(3)).shape == ()
    assert ap2(np.ones((2, 3), np.float16)).shape == (2, 3)
    assert ap2(np.array([3, -5])).dtype == np.float64
    if np.dtype(np.longdouble).itemsize > 8:
        with pytest.raises(TypeError, match="expected float16, float32 or float64 values, got float128"):
            ap2(np.ones(2, np.longdouble))
