"""ModelSpec validation and shape/domain inference for .bnn models (docs/FORMAT.md).

One walk over the layers, shared by the writer's validation, the reader, the
NumPy reference executor and the model summary, so they cannot disagree on
what a layer accepts and what it produces. A domain is one of "u8" (the
input), "int" (exact integer sums), "bits" (+-1 values) and "float" (scores).
"""
from collections import namedtuple

import numpy as np

from .layers import (Affine, Conv, Dense, FirstConv, FirstDense, Flatten, MaxPool, ModelSpec,
                     Threshold)

# The reader's limits (docs/FORMAT.md, "Limits a reader enforces").
MAX_LAYERS = 1024
MAX_TENSORS = 4096
MAX_DIM = 1 << 24
MAX_UNITS = 1 << 20
MAX_KERNEL = 64
MAX_STRIDE = 64
MAX_ELEMENTS = 1 << 31
MAX_K_BINARY = 1 << 30
MAX_K_FIRST = 1 << 23  # |s| <= 255 * K must fit an int32

KIND_OF_CLASS = {FirstDense: "first_dense", FirstConv: "first_conv", Conv: "conv",
                 Dense: "dense", MaxPool: "maxpool", Threshold: "threshold",
                 Flatten: "flatten", Affine: "affine"}

# kind -> (accepted input domains, accepted input ranks)
ACCEPTS = {
    "first_dense": (("u8",), (1,)),
    "first_conv": (("u8",), (3,)),
    "conv": (("bits",), (3,)),
    "dense": (("bits",), (1,)),
    "maxpool": (("int", "bits"), (3,)),
    "threshold": (("int",), (1, 3)),
    "flatten": (("u8", "int", "bits"), (3,)),
    "affine": (("int",), (1,)),
}

# The tensors of each kind, in slot order (docs/FORMAT.md, the layer type table).
TENSOR_NAMES = {"first_dense": ("weights",), "first_conv": ("weights",), "conv": ("weights",),
                "dense": ("weights",), "maxpool": (), "threshold": ("thresholds", "flip"),
                "flatten": (), "affine": ("scale", "bias")}

# Everything known about one layer once its input is known.
LayerShape = namedtuple("LayerShape", "kind in_shape in_domain out_shape out_domain k "
                                       "kernel stride padding")


def conv_geometry(size, kernel, stride, padding):
    """Output length and (before, after) padding along one axis, TensorFlow style."""
    if padding == "valid":
        return (size - kernel) // stride + 1, 0, 0
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return out, total // 2, total - total // 2


def next_shape(index, kind, in_shape, in_domain, last, units=0, kernel=(0, 0), stride=(0, 0),
               padding="valid", error=ValueError):
    """The LayerShape of layer `index` of `kind` fed (in_shape, in_domain).

    Raises `error` naming the layer and the problem. `units`, `kernel`,
    `stride` and `padding` matter only to the kinds that have them.
    """
    where = f"layer {index} ({kind})"
    domains, ranks = ACCEPTS[kind]
    if in_domain not in domains or len(in_shape) not in ranks:
        want = " or ".join(domains) + " input of rank " + " or ".join(map(str, ranks))
        raise error(f"{where}: expected {want}, got {in_domain} {tuple(in_shape)}")
    if (kind == "affine") != last:
        raise error(f"{where}: the last layer must be affine, and affine must be last")
    out_domain = {"first_dense": "int", "first_conv": "int", "conv": "int", "dense": "int",
                  "threshold": "bits", "affine": "float"}.get(kind, in_domain)
    k = 0
    if kind in ("first_dense", "first_conv", "conv", "dense"):
        if not 1 <= units <= MAX_UNITS:
            raise error(f"{where}: units must be 1..{MAX_UNITS}, got {units}")
    if kind in ("first_conv", "conv", "maxpool"):
        for name, pair, top in (("kernel", kernel, MAX_KERNEL), ("stride", stride, MAX_STRIDE)):
            if not all(1 <= v <= top for v in pair):
                raise error(f"{where}: {name} must be 1..{top} on both axes, got {tuple(pair)}")
        if padding not in ("valid", "same"):
            raise error(f"{where}: padding must be 'valid' or 'same', got {padding!r}")
        if kind == "maxpool" and padding != "valid":
            raise error(f"{where}: maxpool supports only 'valid' padding, got {padding!r}")
        h, w, c = in_shape
        oh = conv_geometry(h, kernel[0], stride[0], padding)[0]
        ow = conv_geometry(w, kernel[1], stride[1], padding)[0]
        if oh < 1 or ow < 1:
            raise error(f"{where}: kernel {tuple(kernel)} does not fit the input {tuple(in_shape)}")
        out_shape = (oh, ow, c if kind == "maxpool" else units)
        k = kernel[0] * kernel[1] * c if kind != "maxpool" else 0
    elif kind in ("first_dense", "dense"):
        out_shape, k = (units,), in_shape[0]
    elif kind == "flatten":
        out_shape = (in_shape[0] * in_shape[1] * in_shape[2],)
    else:  # threshold, affine
        out_shape = tuple(in_shape)
    k_max = MAX_K_FIRST if kind.startswith("first_") else MAX_K_BINARY
    if k > k_max:
        raise error(f"{where}: K = {k} products per output exceeds the limit {k_max}")
    if product(out_shape) > MAX_ELEMENTS:
        raise error(f"{where}: output {out_shape} exceeds {MAX_ELEMENTS} elements per sample")
    return LayerShape(kind, tuple(in_shape), in_domain, out_shape, out_domain, k,
                      tuple(kernel), tuple(stride), padding)


def check_input_shape(shape, error=ValueError):
    """The model input: rank 1 or 3, each dim 1..2^24, at most 2^31 elements."""
    if len(shape) not in (1, 3):
        raise error(f"input_shape: expected rank 1 (features,) or 3 (H, W, C), got {tuple(shape)}")
    if not all(1 <= d <= MAX_DIM for d in shape):
        raise error(f"input_shape: every dim must be 1..{MAX_DIM}, got {tuple(shape)}")
    if product(shape) > MAX_ELEMENTS:
        raise error(f"input_shape: {tuple(shape)} exceeds {MAX_ELEMENTS} elements per sample")


def layer_params(layer):
    """(kind, units, kernel, stride, padding) as next_shape wants them, from a layer object."""
    kind = KIND_OF_CLASS.get(type(layer))
    if kind is None:
        raise TypeError(f"unknown layer type {type(layer).__name__}")
    if kind in ("first_conv", "conv"):
        shape = layer.weights.shape
        return kind, shape[0], tuple(shape[1:3]), tuple(layer.stride), layer.padding
    if kind in ("first_dense", "dense"):
        return kind, layer.weights.shape[0], (0, 0), (0, 0), "valid"
    if kind == "maxpool":
        return kind, 0, tuple(layer.size), tuple(layer.stride), "valid"
    return kind, 0, (0, 0), (0, 0), "valid"


def layer_shapes(spec, error=ValueError):
    """[LayerShape per layer] for a ModelSpec whose layer fields are well-formed.

    Checks that each layer accepts what its predecessor produces and that its
    weights' input dimension (F or C) matches; value checks (+-1 and so on)
    are `validate_spec`'s.
    """
    check_input_shape(tuple(spec.input_shape), error)
    if not spec.layers:
        raise error("layers: a model needs at least one layer (the last one affine)")
    shape, domain, out = tuple(spec.input_shape), "u8", []
    for i, layer in enumerate(spec.layers):
        kind, units, kernel, stride, padding = layer_params(layer)
        ls = next_shape(i, kind, shape, domain, i == len(spec.layers) - 1,
                        units, kernel, stride, padding, error)
        want = expected_tensor_shapes(ls)
        got = _tensor_shapes(kind, layer)
        for name, w_shape, g_shape in zip(TENSOR_NAMES[kind], want, got):
            if tuple(g_shape) != w_shape:
                raise error(f"layer {i} ({kind}): {name} must have shape {w_shape} "
                            f"for input {shape}, got {tuple(g_shape)}")
        out.append(ls)
        shape, domain = ls.out_shape, ls.out_domain
    return out


def validate_spec(spec):
    """Check every field of a ModelSpec, then its shapes; return its layer_shapes.

    ValueError names the layer and the problem. The writer and the reference executor call it.
    """
    if not isinstance(spec, ModelSpec):
        raise ValueError(f"expected a pybnn.layers.ModelSpec, got {type(spec).__name__}")
    if not isinstance(spec.input_shape, (tuple, list)) or not all(
            _is_int(d) for d in spec.input_shape):
        raise ValueError(f"input_shape: expected a tuple of ints, got {spec.input_shape!r}")
    for i, layer in enumerate(spec.layers):
        _validate_fields(i, layer)
    return layer_shapes(spec)


def _validate_fields(i, layer):
    kind = KIND_OF_CLASS.get(type(layer))
    if kind is None:
        raise ValueError(f"layer {i}: unknown layer type {type(layer).__name__}")
    where = f"layer {i} ({kind})"
    if kind in ("first_dense", "first_conv", "conv", "dense"):
        w = layer.weights
        rank = 2 if kind.endswith("dense") else 4
        if not isinstance(w, np.ndarray) or w.ndim != rank or w.size == 0:
            raise ValueError(f"{where}: weights must be a non-empty numpy array of rank {rank}, "
                             f"got {getattr(w, 'shape', type(w).__name__)}")
        if not np.all((w == 1) | (w == -1)):
            raise ValueError(f"{where}: weights must all be +1 or -1, found {_bad_values(w)}")
    if kind in ("first_conv", "conv"):
        _check_pair(where, "stride", layer.stride)
        if layer.padding not in ("valid", "same"):
            raise ValueError(f"{where}: padding must be 'valid' or 'same', got {layer.padding!r}")
    if kind == "conv" and layer.pad_value not in ("one", "zero"):
        raise ValueError(f"{where}: pad_value must be 'one' or 'zero', got {layer.pad_value!r}")
    if kind == "maxpool":
        _check_pair(where, "size", layer.size)
        _check_pair(where, "stride", layer.stride)
    if kind == "threshold":
        t, f = np.asarray(layer.thresholds), np.asarray(layer.flip)
        if t.ndim != 1 or t.dtype.kind not in "iu":
            raise ValueError(f"{where}: thresholds must be a 1-D integer array, "
                             f"got {t.dtype} {t.shape}")
        if t.size and (t.min() < -2**31 or t.max() >= 2**31):
            raise ValueError(f"{where}: thresholds must fit int32, "
                             f"got range [{t.min()}, {t.max()}]")
        if f.ndim != 1 or f.dtype.kind not in "biu" or not np.all((f == 0) | (f == 1)):
            raise ValueError(f"{where}: flip must be a 1-D bool (or 0/1) array, "
                             f"got {f.dtype} {f.shape}")
    if kind == "affine":
        for name in ("scale", "bias"):
            a = np.asarray(getattr(layer, name))
            if a.ndim != 1 or a.dtype.kind not in "fiu":
                raise ValueError(f"{where}: {name} must be a 1-D float array, "
                                 f"got {a.dtype} {a.shape}")


def _check_pair(where, name, pair):
    if not isinstance(pair, (tuple, list)) or len(pair) != 2 or not all(_is_int(v) for v in pair):
        raise ValueError(f"{where}: {name} must be a pair of ints (h, w), got {pair!r}")


def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _bad_values(w):
    bad = np.unique(w[(w != 1) & (w != -1)])
    return ", ".join(map(str, bad[:5])) + (" ..." if bad.size > 5 else "")


def expected_tensor_shapes(ls):
    """Unpacked shapes of a layer's tensors: weights (units, ..., F or C); per-channel (C,)."""
    if ls.kind in ("first_dense", "dense"):
        return [(ls.out_shape[0], ls.in_shape[0])]
    if ls.kind in ("first_conv", "conv"):
        return [(ls.out_shape[2],) + ls.kernel + (ls.in_shape[2],)]
    c = (ls.in_shape[-1],)
    return {"threshold": [c, c], "affine": [c, c]}.get(ls.kind, [])


def _tensor_shapes(kind, layer):
    if kind in ("first_conv", "conv"):
        return [layer.weights.shape]
    return [np.shape(getattr(layer, name)) for name in TENSOR_NAMES[kind]]


def product(shape):
    """The number of elements of a shape, as a Python int (no overflow)."""
    n = 1
    for d in shape:
        n *= int(d)
    return n
