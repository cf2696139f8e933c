"""The NumPy reference executor: the oracle every backend is compared with.

Readable, not fast: hidden activations are +-1 int8 arrays (not bits), sums
are exact integers, and each layer is the formula in docs/FORMAT.md. Matrix
products go through float64 BLAS because it is exact here: every operand is
an integer of magnitude <= 255 and K <= 2^30, so every partial sum is an
integer below 2^53 and is represented exactly.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .format.shapes import conv_geometry, validate_spec


def run_reference(spec, x):
    """float32 scores (N, classes) for uint8 input x of shape (N, *spec.input_shape)."""
    return run_reference_layers(spec, x)[-1]


def run_reference_layers(spec, x):
    """Every layer's output for a batch: hidden bits as +-1 int8, sums as int32,
    u8 (a flattened input) as uint8, the scores as float32."""
    shapes = validate_spec(spec)
    x = np.asarray(x)
    want = (x.shape[0],) + tuple(spec.input_shape) if x.ndim else None
    if x.dtype != np.uint8 or x.shape != want:
        raise ValueError(f"run_reference: expected uint8 input of shape (N, "
                         f"{', '.join(map(str, spec.input_shape))}), got {x.dtype} {x.shape}")
    outputs, a = [], x
    for layer, ls in zip(spec.layers, shapes):
        a = apply_layer(layer, ls, a)
        outputs.append(a)
    return outputs


def apply_layer(layer, ls, a):
    """One layer (its LayerShape `ls` from pybnn.shapes) applied to the batch `a`."""
    n = a.shape[0]
    if ls.kind == "first_dense":
        return first_layer_sum(a, layer.weights)
    if ls.kind == "first_conv":
        return conv_sum(a, layer.weights, ls, pad=0, dot=first_layer_sum)
    if ls.kind == "dense":
        return exact_dot(a, layer.weights)
    if ls.kind == "conv":
        return conv_sum(a, layer.weights, ls, pad=1 if layer.pad_value == "one" else 0,
                        dot=exact_dot)
    if ls.kind == "maxpool":
        # On +-1 values the max is +1 unless all are -1: the AND of the bits (-1 is bit 1).
        return patches(a, ls.kernel, ls.stride, "valid", pad=0).max(axis=(3, 4))
    if ls.kind == "threshold":
        t = np.asarray(layer.thresholds, dtype=np.int64)
        flip = np.asarray(layer.flip, dtype=bool)
        s = a.astype(np.int64)
        fire = np.where(flip, s <= t, s >= t)  # ties go to +1
        return np.where(fire, 1, -1).astype(np.int8)
    if ls.kind == "flatten":
        return a.reshape(n, -1)  # row-major over (H, W, C): (h*W + w)*C + c
    # affine: float32(s) * scale + bias, every step in float32
    scale = np.asarray(layer.scale, dtype=np.float32)
    bias = np.asarray(layer.bias, dtype=np.float32)
    return a.astype(np.float32) * scale + bias


def first_layer_sum(x, w):
    """s = sum_n 2^n (x^n . w) over the 8 bit-planes x^n of uint8 rows x (M, K); w (units, K) +-1.

    This is the paper's first-layer formula; it equals the plain x . w
    (tests check that against `exact_dot`).
    """
    x = np.asarray(x, dtype=np.uint8)
    s = np.zeros((x.shape[0], w.shape[0]), dtype=np.int64)
    for n in range(8):
        plane = (x >> n) & 1
        s += exact_dot(plane, w).astype(np.int64) << n
    return s.astype(np.int32)


def exact_dot(a, w):
    """int32 (M, units) = a (M, K) . w (units, K)^T for small integers, exactly (see module doc)."""
    return np.rint(a.astype(np.float64) @ w.astype(np.float64).T).astype(np.int32)


def conv_sum(a, w, ls, pad, dot):
    """int32 (N, H', W', units): `dot` of every window of `a` with the weights (im2col).

    Runs a few samples at a time so the float64 window matrix stays near 64 MiB.
    """
    n, rows = a.shape[0], ls.out_shape[0] * ls.out_shape[1]
    step = max(1, (1 << 23) // max(rows * ls.k, 1))
    w2 = w.reshape(w.shape[0], ls.k)
    out = np.empty((n,) + ls.out_shape, dtype=np.int32)
    for i in range(0, n, step):
        cols = patches(a[i:i + step], ls.kernel, ls.stride, ls.padding, pad)
        out[i:i + step] = dot(cols.reshape(-1, ls.k), w2).reshape((-1,) + ls.out_shape)
    return out


def patches(x, kernel, stride, padding, pad):
    """Convolution windows of x (N, H, W, C): (N, H', W', kh, kw, C), padded with `pad`."""
    (kh, kw), (sh, sw) = kernel, stride
    oh, top, bottom = conv_geometry(x.shape[1], kh, sh, padding)
    ow, left, right = conv_geometry(x.shape[2], kw, sw, padding)
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=pad)
    win = sliding_window_view(xp, (kh, kw), axis=(1, 2))  # (N, H'', W'', C, kh, kw)
    win = win[:, ::sh, ::sw][:, :oh, :ow]
    return win.transpose(0, 1, 2, 4, 5, 3)
