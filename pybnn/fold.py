"""Folding real-valued per-channel maps into the integer .bnn layers.

Shared by the trainer's export (`pybnn.train.export`) and the importers of
models trained elsewhere (`pybnn.convert`). Between a binary layer and the
next sign, a model computes y = a * s + b per channel from the layer's exact
integer sum s (a, b float64: the input scale, a weight scale, a bias and every
batch-norm met since). A sign of y becomes a Threshold; the last layer's map
becomes the Affine that gives the scores.
"""
import math

import numpy as np

from .format import layers as L

INT32_MIN, INT32_MAX = -2 ** 31, 2 ** 31 - 1


def fold_thresholds(a, b):
    """Integer thresholds and flips with sign(a*s + b) (sign(0)=+1) == threshold(s), s integer.

    sign(a*s + b) = +1 iff s >= ceil(-b/a) (a > 0), s <= floor(-b/a) (a < 0: flip),
    or constantly (a = 0: +1 iff b >= 0).
    """
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    t = np.empty(a.shape, np.int64)
    flip = a < 0
    for i, (ai, bi) in enumerate(zip(a.ravel(), b.ravel())):
        if ai == 0.0:  # constant output: +1 if b >= 0
            t.flat[i] = INT32_MIN if bi >= 0 else INT32_MAX
            continue
        r = -bi / ai
        if math.isnan(r):
            raise ValueError(f"batch-norm folding: channel {i} has a NaN threshold "
                             f"(a={ai}, b={bi}); the training diverged")
        if math.isinf(r):  # beyond every reachable s, whichever way the comparison goes
            t.flat[i] = INT32_MAX if r > 0 else INT32_MIN
            continue
        v = math.floor(r) if ai < 0 else math.ceil(r)
        t.flat[i] = min(max(v, INT32_MIN), INT32_MAX)
    return t.astype(np.int32), flip


def batchnorm_affine(gamma, beta, mean, var, eps):
    """(a, b), float64, with inference-mode batch-norm y = a * x + b."""
    a = np.asarray(gamma, np.float64) / np.sqrt(np.asarray(var, np.float64) + float(eps))
    return a, np.asarray(beta, np.float64) - a * np.asarray(mean, np.float64)


class ChannelMap:
    """y = a * s + b per channel, from an exact integer s (float64 a, b)."""

    def __init__(self, a, b=None):
        self.a = np.array(a, np.float64)
        self.b = np.zeros_like(self.a) if b is None else np.array(b, np.float64)

    def then(self, ga, gb):
        """Follow the map with y' = ga * y + gb (a batch-norm, a bias, a scale)."""
        self.a, self.b = ga * self.a, ga * self.b + gb

    def tile(self, reps):
        """The map of a flattened (H, W, C) tensor: the channel maps repeated H*W times."""
        self.a, self.b = np.tile(self.a, reps), np.tile(self.b, reps)

    def increasing(self):
        """True when y grows with s on every channel (max-pooling s is max-pooling y)."""
        return bool(np.all(self.a > 0))

    def threshold(self):
        """The Threshold layer giving sign(y)."""
        return L.Threshold(*fold_thresholds(self.a, self.b))

    def affine(self):
        """The Affine layer giving y as float32 scores."""
        return L.Affine(self.a.astype(np.float32), self.b.astype(np.float32))


def sign_kernel(kernel):
    """+-1 int8 weights in the engine's layout from a float kernel in the (Keras and
    trainer) layout (F, units) or (kh, kw, C, units); sign(0) = sign(-0.0) = +1."""
    k = np.asarray(kernel)
    if not np.all(np.isfinite(k)):
        raise ValueError("the kernel has NaN or infinite weights")
    wb = np.where(k >= 0, 1, -1).astype(np.int8)
    if wb.ndim == 2:
        return np.ascontiguousarray(wb.T)  # (F, units) -> (units, F)
    return np.ascontiguousarray(np.transpose(wb, (3, 0, 1, 2)))  # (kh,kw,C,u) -> (u,kh,kw,C)
