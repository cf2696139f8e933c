"""Binarization, the straight-through estimator and AP2 (the paper's section 1 and 3).

- Deterministic binarization: sign(x), with sign(0) = +1 (the engine's convention:
  +1 is bit 0).
- Stochastic binarization: +1 with probability hard_sigmoid(x) = clip((x+1)/2, 0, 1),
  else -1.
- Straight-through estimator with saturation: the gradient of sign is taken as
  1 where |x| <= 1 and 0 elsewhere ("cancelled" when x is saturated).
- AP2(x) = sign(x) * 2^round(log2|x|), the approximate power of two used by
  shift-based batch normalization and shift-based AdaMax; AP2(+-0) = +-0, and
  exact on subnormals too (see ap2).
"""
import math

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
    """Approximate power of two: sign(x) * 2^round(log2|x|), exact; AP2(+-0) = +-0.

    Exact for every float16, float32 and float64 input, subnormals included:
    a subnormal x gives the power of two nearest |x| in log2, with x's sign,
    which is itself a subnormal power of two or the smallest normal one
    (2^-14, 2^-126, 2^-1022). Results above the largest finite power round
    to +-infinity; infinities and NaNs are returned as they are. Other input
    dtypes (integers, bools) are computed in float64.

    Computed on the bit patterns with integer arithmetic only, so the answer
    is the same on every platform: NumPy's SIMD float loops flush subnormals
    to zero on some CPUs (32-bit ARM NEON), which a float computation
    (frexp, ldexp, abs) on large arrays would inherit. round(log2|x|) rounds
    up exactly when the significand, normalised to 1.f, is at least sqrt(2);
    ties cannot occur (sqrt(2) * 2^k is irrational).
    """
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    layout = _LAYOUTS.get(x.dtype)
    if layout is None:
        raise TypeError(f"ap2: expected float16, float32 or float64 values, got {x.dtype}")
    return _ap2_bits(x, layout)


class _FloatLayout:
    """An IEEE binary format: its unsigned twin, fraction width, and the smallest
    fraction f with 1 + f / 2^width >= sqrt(2) (exact: from an integer sqrt)."""

    def __init__(self, uint, fraction_bits, total_bits):
        self.uint = uint
        self.fraction_bits = fraction_bits
        self.fraction = uint((1 << fraction_bits) - 1)
        self.sign = uint(1 << (total_bits - 1))
        self.exponent = uint(((1 << total_bits) - 1) ^ int(self.sign) ^ int(self.fraction))
        self.one_exponent = uint(1 << fraction_bits)
        self.sqrt2_fraction = uint(math.isqrt(2 << (2 * fraction_bits)) + 1 - (1 << fraction_bits))


_LAYOUTS = {
    np.dtype(np.float16): _FloatLayout(np.uint16, 10, 16),
    np.dtype(np.float32): _FloatLayout(np.uint32, 23, 32),
    np.dtype(np.float64): _FloatLayout(np.uint64, 52, 64),
}


def _ap2_bits(x, f):
    """AP2 of an array whose dtype has layout `f`, on its bits.

    Normal |x| = 2^e (1 + fraction / 2^w): keep sign and exponent (2^e), and add
    one to the exponent field (2^(e+1)) when the fraction reaches sqrt(2)'s;
    past the largest exponent that carries into infinity's bits. Subnormal
    |x| = fraction * 2^emin-w: with p the top set bit of the fraction, the
    result is 2^(p or p+1) * 2^emin-w, i.e. the bits 1 << p or 1 << (p + 1),
    rounding up when the fraction shifted to put bit p at w reaches sqrt(2)'s
    (1 << w is then 2^emin's bits, the smallest normal power).
    """
    bits = np.ascontiguousarray(x).view(f.uint)
    exponent = bits & f.exponent
    fraction = bits & f.fraction
    up = (fraction >= f.sqrt2_fraction).astype(f.uint) << f.uint(f.fraction_bits)
    out = (bits & (f.sign | f.exponent)) + up

    subnormal = (exponent == 0) & (fraction != 0)
    if subnormal.any():
        frac = fraction[subnormal]
        # top set bit: frexp of the fraction as a float64 (exact: fraction < 2^53, and normal)
        top = (np.frexp(frac.astype(np.float64))[1] - 1).astype(f.uint)
        normalised = (frac << (f.uint(f.fraction_bits) - top)) & f.fraction
        top += (normalised >= f.sqrt2_fraction).astype(f.uint)
        out[subnormal] = (bits[subnormal] & f.sign) | (f.uint(1) << top)
    special = exponent == f.exponent  # inf and NaN stay as they are
    out[special] = bits[special]
    return out.view(x.dtype).reshape(x.shape)
