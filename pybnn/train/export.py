"""Fold a trained model into a `pybnn.format.ModelSpec` (and a .bnn file).

The walk tracks the domain of the data, as the engine sees it:
- 'u8': the raw uint8 input; the trainer feeds the first binary layer
  x / 255, so the first layer's integer sum s = sum x * w relates to the
  trainer's pre-activation z by z = s / 255;
- 'int': an exact integer s, with the trainer's value being y = a * s + b
  per channel (a, b float64; this map accumulates the input scale and every
  batch-norm met since the last binary layer);
- 'bits': +-1 values.
A binary activation on 'int' becomes a Threshold (`pybnn.fold`); the last
layer's map becomes Affine(scale=a, bias=b) in float32.
Dropout disappears; max-pooling on 'int' is kept before the threshold (the
paper's conv -> pool -> BN -> sign), which needs a > 0 on every channel at that point.
"""
import numpy as np

from ..fold import ChannelMap, fold_thresholds, sign_kernel  # noqa: F401 (fold_thresholds: re-exported)
from ..format import layers as L
from .layers_basic import BinaryActivation, Dropout, Flatten, MaxPool2D
from .layers_binary import BinaryConv2D, BinaryDense
from .layers_norm import BatchNorm

INPUT_SCALE = 1.0 / 255.0  # the trainer's first layer sees x_uint8 / 255


def export_spec(layers, input_shape):
    """The ModelSpec of a trained layer list (evaluation mode)."""
    spec = L.ModelSpec(tuple(int(d) for d in input_shape), [])
    domain, m = "u8", None
    for i, layer in enumerate(layers):
        name = f"layer {i} ({type(layer).__name__})"
        if isinstance(layer, Dropout):
            continue
        if isinstance(layer, (BinaryDense, BinaryConv2D)):
            if domain == "int":
                raise ValueError(f"{name}: a binary layer needs +-1 or uint8 input, but the "
                                 f"previous layer's output was not binarized")
            w = sign_kernel(layer.W.value)  # the deterministic +-1 weights
            first = domain == "u8"
            if isinstance(layer, BinaryDense):
                spec.layers.append(L.FirstDense(w) if first else L.Dense(w))
            elif first:
                spec.layers.append(L.FirstConv(w, layer.stride, layer.padding))
            else:
                spec.layers.append(L.Conv(w, layer.stride, layer.padding, layer.pad_value))
            scale = INPUT_SCALE if first else 1.0
            domain, m = "int", ChannelMap(np.full(layer.units, scale))
        elif isinstance(layer, BatchNorm):
            if domain != "int":
                raise ValueError(f"{name}: batch-norm is only exportable after a binary layer")
            m.then(*layer.eval_affine())
        elif isinstance(layer, MaxPool2D):
            if domain == "int" and not m.increasing():
                raise ValueError(f"{name}: max-pooling after a batch-norm with negative or zero "
                                 f"scale cannot be folded; pool before the batch-norm")
            spec.layers.append(L.MaxPool(tuple(layer.size), tuple(layer.stride)))
        elif isinstance(layer, Flatten):
            if domain == "int":
                m.tile(int(np.prod(layer.input_shape[:-1])))
            spec.layers.append(L.Flatten())
        elif isinstance(layer, BinaryActivation):
            if domain != "int":
                raise ValueError(f"{name}: a binary activation must follow a binary layer "
                                 f"(optionally with batch-norm / pooling between)")
            spec.layers.append(m.threshold())
            domain = "bits"
        else:
            raise ValueError(f"{name}: no export rule for this layer type")
    if domain != "int":
        raise ValueError("the model must end with a binary layer (optionally followed by "
                         f"batch-norm) giving the scores; it ends in the {domain} domain")
    spec.layers.append(m.affine())
    return spec
