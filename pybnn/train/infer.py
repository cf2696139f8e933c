"""Run a `pybnn.format.ModelSpec` fast with NumPy BLAS: the trainer's evaluation forward.

This computes exactly what the engine computes (docs/FORMAT.md): every
pre-activation s is an integer, held in float32 while |partial sums| < 2^24
(where float32 arithmetic on integers is exact in any summation order) and in
float64 otherwise; thresholds compare integers; the last affine is
float32(s) * scale + bias in float32. So the predictions (and, up to the
engine's own float32 rounding of the last affine, the scores) equal those of
`pybnn.load(path).run(x)`.
"""
import numpy as np

from ..format import layers as L
from .im2col import im2col

EXACT_F32 = 2 ** 24


def _dtype_for(bound):
    return np.float32 if bound < EXACT_F32 else np.float64


def _conv(a, w, stride, padding, fill, dtype):
    units = w.shape[0]
    kernel = w.shape[1:3]
    cols, (oh, ow) = im2col(a.astype(dtype, copy=False), kernel, stride, padding, fill)
    wm = w.reshape(units, -1).T.astype(dtype)
    return (cols @ wm).reshape(a.shape[0], oh, ow, units)


def _maxpool(a, size, stride):
    n, h, w, c = a.shape
    oh, ow = (h - size[0]) // stride[0] + 1, (w - size[1]) // stride[1] + 1
    out = None
    for i in range(size[0]):
        for j in range(size[1]):
            v = a[:, i:i + stride[0] * (oh - 1) + 1:stride[0], j:j + stride[1] * (ow - 1) + 1:stride[1]]
            out = v.copy() if out is None else np.maximum(out, v)
    return out


def run_layers(spec, x):
    """Scores (N, classes) float32 of `spec` on uint8 input `x` (N, *spec.input_shape)."""
    a = x
    for layer in spec.layers:
        if isinstance(layer, L.FirstDense):
            w = layer.weights
            dt = _dtype_for(255 * w.shape[1])
            a = a.astype(dt) @ w.T.astype(dt)
        elif isinstance(layer, L.Dense):
            dt = _dtype_for(layer.weights.shape[1])
            a = a.astype(dt, copy=False) @ layer.weights.T.astype(dt)
        elif isinstance(layer, L.FirstConv):
            w = layer.weights
            dt = _dtype_for(255 * w[0].size)
            a = _conv(a, w, layer.stride, layer.padding, 0.0, dt)
        elif isinstance(layer, L.Conv):
            fill = 1.0 if layer.pad_value == "one" else 0.0
            a = _conv(a, layer.weights, layer.stride, layer.padding, fill,
                      _dtype_for(layer.weights[0].size))
        elif isinstance(layer, L.MaxPool):
            a = _maxpool(a, layer.size, layer.stride)
        elif isinstance(layer, L.Threshold):
            s = np.rint(a).astype(np.int64)  # exact integers already; rint only changes the type
            t = layer.thresholds.astype(np.int64)
            on = np.where(layer.flip, s <= t, s >= t)
            a = np.where(on, np.float32(1), np.float32(-1))
        elif isinstance(layer, L.Flatten):
            a = a.reshape(a.shape[0], -1)
        elif isinstance(layer, L.Affine):
            s = np.rint(a).astype(np.int64).astype(np.float32)
            a = s * layer.scale.astype(np.float32) + layer.bias.astype(np.float32)
        else:
            raise ValueError(f"unsupported layer {type(layer).__name__} in the model spec")
    return a


def run_spec(spec, x, batch=1000):
    """run_layers over `x` in batches of `batch` samples (bounds the memory of conv models)."""
    x = np.asarray(x)
    if x.dtype != np.uint8:
        raise ValueError(f"expected uint8 input, got {x.dtype}")
    if x.shape[1:] != tuple(spec.input_shape):
        raise ValueError(f"expected input of shape (N, {', '.join(map(str, spec.input_shape))}), "
                         f"got {x.shape}")
    parts = [run_layers(spec, x[i:i + batch]) for i in range(0, len(x), batch)]
    return np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)
