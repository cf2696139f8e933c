"""Fold a trained model into a `pybnn.format.ModelSpec` (and a .bnn file).

The walk tracks the domain of the data, as the engine sees it:
- 'u8': the raw uint8 input; the trainer feeds the first binary layer
  x / 255, so the first layer's integer sum s = sum x * w relates to the
  trainer's pre-activation z by z = s / 255;
- 'int': an exact integer s, with the trainer's value being y = a * s + b
  per channel (a, b float64; this map accumulates the input scale and every
  batch-norm met since the last binary layer);
- 'bits': +-1 values.
A binary activation on 'int' becomes a Threshold: sign(a * s + b) = +1 iff
s >= ceil(-b / a) (a > 0), s <= floor(-b / a) (a < 0; flip), or constantly
(a = 0). The last layer's map becomes Affine(scale=a, bias=b) in float32.
Dropout disappears; max-pooling on 'int' is kept before the threshold (the
paper's conv -> pool -> BN -> sign), which needs a > 0 on every channel at that point.
"""
import math

import numpy as np

from ..format import layers as L
from .layers_basic import BinaryActivation, Dropout, Flatten, MaxPool2D
from .layers_binary import BinaryConv2D, BinaryDense
from .layers_norm import BatchNorm

INPUT_SCALE = 1.0 / 255.0  # the trainer's first layer sees x_uint8 / 255
INT32_MIN, INT32_MAX = -2 ** 31, 2 ** 31 - 1


def fold_thresholds(a, b):
    """Integer thresholds and flips with sign(a*s + b) (sign(0)=+1) == threshold(s), s integer."""
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


def _binary_weights(layer):
    """The deterministic +-1 weights in the engine's layout, int8."""
    wb = np.where(layer.W.value >= 0, 1, -1).astype(np.int8)
    if isinstance(layer, BinaryDense):
        return np.ascontiguousarray(wb.T)  # (F, units) -> (units, F)
    return np.ascontiguousarray(np.transpose(wb, (3, 0, 1, 2)))  # (kh,kw,C,u) -> (u,kh,kw,C)


def export_spec(layers, input_shape):
    """The ModelSpec of a trained layer list (evaluation mode)."""
    spec = L.ModelSpec(tuple(int(d) for d in input_shape), [])
    domain, a, b = "u8", None, None
    for i, layer in enumerate(layers):
        name = f"layer {i} ({type(layer).__name__})"
        if isinstance(layer, Dropout):
            continue
        if isinstance(layer, (BinaryDense, BinaryConv2D)):
            if domain == "int":
                raise ValueError(f"{name}: a binary layer needs +-1 or uint8 input, but the "
                                 f"previous layer's output was not binarized")
            w = _binary_weights(layer)
            first = domain == "u8"
            if isinstance(layer, BinaryDense):
                spec.layers.append(L.FirstDense(w) if first else L.Dense(w))
            elif first:
                spec.layers.append(L.FirstConv(w, layer.stride, layer.padding))
            else:
                spec.layers.append(L.Conv(w, layer.stride, layer.padding, layer.pad_value))
            scale = INPUT_SCALE if first else 1.0
            domain, a, b = "int", np.full(layer.units, scale), np.zeros(layer.units)
        elif isinstance(layer, BatchNorm):
            if domain != "int":
                raise ValueError(f"{name}: batch-norm is only exportable after a binary layer")
            ga, gb = layer.eval_affine()
            a, b = ga * a, ga * b + gb
        elif isinstance(layer, MaxPool2D):
            if domain == "int" and np.any(a <= 0):
                raise ValueError(f"{name}: max-pooling after a batch-norm with negative or zero "
                                 f"scale cannot be folded; pool before the batch-norm")
            spec.layers.append(L.MaxPool(tuple(layer.size), tuple(layer.stride)))
        elif isinstance(layer, Flatten):
            if domain == "int":
                reps = int(np.prod(layer.input_shape[:-1]))
                a, b = np.tile(a, reps), np.tile(b, reps)
            spec.layers.append(L.Flatten())
        elif isinstance(layer, BinaryActivation):
            if domain != "int":
                raise ValueError(f"{name}: a binary activation must follow a binary layer "
                                 f"(optionally with batch-norm / pooling between)")
            t, flip = fold_thresholds(a, b)
            spec.layers.append(L.Threshold(t, flip))
            domain = "bits"
        else:
            raise ValueError(f"{name}: no export rule for this layer type")
    if domain != "int":
        raise ValueError("the model must end with a binary layer (optionally followed by "
                         f"batch-norm) giving the scores; it ends in the {domain} domain")
    spec.layers.append(L.Affine(a.astype(np.float32), b.astype(np.float32)))
    return spec
