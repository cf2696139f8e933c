"""Binarization, the straight-through estimator and AP2 (the paper's section 1 and 3).

- Deterministic binarization: sign(x), with sign(0) = +1 (the engine's convention:
  +1 is bit 0).
- Stochastic binarization: +1 with probability hard_sigmoid(x) = clip((x+1)/2, 0, 1),
  else -1.
- Straight-through estimator with saturation: the gradient of sign is taken as
  1 where |x| <= 1 and 0 elsewhere ("cancelled" when x is saturated).
- AP2(x) = sign(x) * 2^round(log2|x|), the approximate power of two used by
  shift-based batch normalization and shift-based AdaMax; AP2(0) = 0.
"""
import numpy as np

F32 = np.float32


def hard_sigmoid(x):
    """clip((x + 1) / 2, 0, 1), in x's float dtype."""
    return np.clip((x + 1) * x.dtype.type(0.5), 0, 1)


def sign(x):
    """Deterministic binarization: +1 where x >= 0 (so sign(0) = +1), -1 elsewhere; float32.

    copysign is several times faster than np.where; adding +0.0 first turns a
    -0.0 into +0.0, so zeros of either sign give +1. NaN is not expected.
    """
    x = np.asarray(x, dtype=F32)
    return np.copysign(F32(1), x + F32(0))


def stochastic_sign(x, rng):
    """+1 with probability hard_sigmoid(x), -1 otherwise; float32. `rng`: a numpy Generator."""
    u = rng.random(x.shape, dtype=np.float32)
    return np.where(u < hard_sigmoid(x.astype(np.float32, copy=False)), F32(1), F32(-1))


def binarize(x, stochastic=False, rng=None):
    """sign(x), or its stochastic version when `stochastic` (which then needs `rng`)."""
    if stochastic:
        if rng is None:
            raise ValueError("stochastic binarization needs a random generator (rng)")
        return stochastic_sign(x, rng)
    return sign(x)


def ste_grad(x, grad):
    """Straight-through estimator of d sign(x)/dx: pass `grad` where |x| <= 1, 0 elsewhere."""
    return np.where(np.abs(x) <= 1, grad, grad.dtype.type(0))


def ap2(x):
    """Approximate power of two: sign(x) * 2^round(log2|x|), exact in float; AP2(0) = 0.

    Computed from the binary exponent (frexp) so it is exact for every finite
    input: |x| = m * 2^e with m in [0.5, 1), and round(log2|x|) is e - 1 when
    m < sqrt(1/2) and e otherwise (the rounding boundary of log2 is at
    mantissa sqrt(2)/2). Ties (exactly sqrt(2) * 2^k, not representable) cannot occur.
    The comparison is made in float64, whose sqrt(1/2) lies above the true value, so
    every float32 or float64 mantissa lands on the right side.
    """
    x = np.asarray(x)
    if x.dtype == np.float32:
        return _ap2_float32_bits(x)
    return _ap2_frexp(x)


def _ap2_frexp(x):
    """AP2 for any float dtype through frexp/ldexp (the definition, used for float64)."""
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    x = x.astype(dtype, copy=False)
    m, e = np.frexp(np.abs(x))
    e = e - (m.astype(np.float64) < np.sqrt(0.5)).astype(e.dtype)
    with np.errstate(over="ignore"):  # |x| >= sqrt(2) * 2^emax rounds to infinity
        out = np.ldexp(np.ones_like(x), e)
    return np.where(x == 0, dtype.type(0), np.copysign(out, x)).astype(dtype, copy=False)


# float32 bits: sign (1), exponent (8), fraction f (23) with |x| = 2^e (1 + f / 2^23).
# round(log2|x|) is e + 1 when 1 + f / 2^23 >= sqrt(2), i.e. f >= ceil((sqrt(2) - 1) 2^23).
_SQRT2_FRACTION = int(np.ceil((np.sqrt(2.0) - 1.0) * 2 ** 23))  # 3474676
_SIGN_EXPONENT = np.uint32(0xFF800000)
_FRACTION = np.uint32(0x007FFFFF)


def _ap2_float32_bits(x):
    """AP2 of float32 by bit arithmetic, several times faster than frexp (same results).

    Keeping sign and exponent gives sign(x) 2^e; one more in the exponent field
    gives 2^(e+1). Zeros stay zeros; subnormals (exponent field 0, which this
    rule would send to 0 or 2^-126) go through the frexp path.
    """
    bits = np.ascontiguousarray(x).view(np.uint32)
    up = (bits & _FRACTION) >= _SQRT2_FRACTION
    out = (bits & _SIGN_EXPONENT) + (up.astype(np.uint32) << np.uint32(23))
    out = out.view(np.float32).reshape(x.shape)
    subnormal = ((bits & np.uint32(0x7F800000)) == 0) & ((bits & _FRACTION) != 0)
    if subnormal.any():
        out[subnormal] = _ap2_frexp(x[subnormal])
    return out
