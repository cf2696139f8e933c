"""Batch normalization and the paper's shift-based batch normalization (Algorithm 3).

Both normalise over every axis but the last (the channels), keep running
averages of the batch mean and variance for evaluation (momentum 0.1, as the
original code's alpha), and describe their evaluation-mode transform as a
per-channel affine map y = a * x + b (`eval_affine`, float64), which is what
export folds into thresholds or the output scale and bias.

Shift-based BN replaces every multiplication by a shift, i.e. by a factor
AP2(.) that is a power of two:
    c = x - mean(x);  var = mean(c * AP2(c));  xhat = c * AP2(1 / sqrt(var + eps))
    y = AP2(gamma) * xhat + beta
Its backward pass treats AP2 as the identity (straight-through): the usual BN
gradient, evaluated at the shift-based forward values.
"""
import numpy as np

from .base import Layer, Param
from .binarize import ap2


class BatchNorm(Layer):
    """y = gamma * (x - mean) / sqrt(var + eps) + beta, per channel (the last axis)."""

    shift = False

    def __init__(self, eps=1e-4, momentum=0.1):
        self.eps, self.momentum = float(eps), float(momentum)

    def build(self, input_shape, rng):
        self.input_shape = tuple(input_shape)
        c = input_shape[-1]
        self.gamma = Param("gamma", np.ones(c, np.float32))
        self.beta = Param("beta", np.zeros(c, np.float32))
        self.running_mean = np.zeros(c, np.float32)
        self.running_var = np.ones(c, np.float32)
        return self.input_shape

    def _gamma(self):
        return ap2(self.gamma.value) if self.shift else self.gamma.value

    def _inv_std(self, var):
        inv = 1.0 / np.sqrt(var + np.float32(self.eps))
        return ap2(inv) if self.shift else inv

    def variance_terms(self, centred):
        """What the variance averages: c * c, or c * AP2(c) for the shift-based BN."""
        return centred * ap2(centred) if self.shift else centred * centred

    def forward(self, x, train, rng):
        axes = tuple(range(x.ndim - 1))
        if not train:
            a, b = self.eval_affine()
            return (x * a.astype(np.float32) + b.astype(np.float32)).astype(np.float32)
        mean = np.mean(x, axis=axes)
        centred = x - mean
        var = np.mean(self.variance_terms(centred), axis=axes)
        m = self.momentum
        self.running_mean = ((1 - m) * self.running_mean + m * mean).astype(np.float32)
        self.running_var = ((1 - m) * self.running_var + m * var).astype(np.float32)
        self.inv = self._inv_std(var).astype(x.dtype, copy=False)
        self.xhat = centred * self.inv
        return self.xhat * self._gamma() + self.beta.value

    def backward(self, dy):
        axes = tuple(range(dy.ndim - 1))
        xhat = self.xhat
        self.gamma.grad[...] = np.sum(dy * xhat, axis=axes)
        self.beta.grad[...] = np.sum(dy, axis=axes)
        dxhat = dy * self._gamma()
        dx = self.inv * (dxhat - np.mean(dxhat, axis=axes) - xhat * np.mean(dxhat * xhat, axis=axes))
        self.xhat = None
        return dx.astype(dy.dtype, copy=False)

    def eval_affine(self):
        """(a, b), float64 per channel, with eval-mode output = a * x + b."""
        mean = self.running_mean.astype(np.float64)
        var = self.running_var.astype(np.float64)
        gamma = self.gamma.value.astype(np.float64)
        if self.shift:
            a = ap2(gamma) * ap2(1.0 / np.sqrt(var + self.eps))
        else:
            a = gamma / np.sqrt(var + self.eps)
        return a, self.beta.value.astype(np.float64) - a * mean

    def params(self):
        return [self.gamma, self.beta]

    def buffers(self):
        return {"running_mean": self.running_mean, "running_var": self.running_var}

    def config(self):
        return {"eps": self.eps, "momentum": self.momentum}


class ShiftBatchNorm(BatchNorm):
    """The paper's shift-based batch normalization (Algorithm 3): multiplications by AP2 factors."""

    shift = True
