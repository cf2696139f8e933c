"""The validated model every backend compiles: what the C reader
(src/format/) yields, as Python values. One validation, one shape inference
and one set of format tests serve every backend.

Shapes are per sample, channels-last: (F,) or (H, W, C). Domains: "u8" (the
input), "int" (exact int32 sums), "bits" (packed +-1, src/common/bitpack.h),
"scores" (float32). Tensors are read-only NumPy arrays in the file's layout
(docs/FORMAT.md): "weights" uint64 (units, ceil(F/64)) for dense layers or
(units, kh, kw, ceil(C/64)) for convs; "thresholds" int32 and "flip" uint8
(C,); "scale" and "bias" float32 (C,).
"""
from dataclasses import dataclass, field
from typing import Dict, Tuple

import numpy as np


@dataclass(frozen=True)
class GraphLayer:
    index: int
    kind: str              # the FORMAT.md type name: "first_dense", "conv", ...
    in_domain: str
    in_shape: Tuple[int, ...]
    out_domain: str
    out_shape: Tuple[int, ...]
    units: int             # outputs of a weighted layer, else 0
    kernel: Tuple[int, int]  # (kh, kw) of convs and pools, else (0, 0)
    stride: Tuple[int, int]
    padding: str           # "valid" or "same"
    pad_value: str         # "one" or "zero" (convs)
    pad: Tuple[int, int]   # (top, left) offsets of `same` padding
    k: int                 # true products per output (F or kh*kw*C), else 0
    tensors: Dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class Graph:
    input_shape: Tuple[int, ...]
    input_size: int        # uint8 values per sample
    num_classes: int
    layers: Tuple[GraphLayer, ...]


def read_graph(data):
    """The validated Graph of .bnn bytes; FormatError names what is wrong."""
    from .. import _core
    input_shape, input_size, num_classes, layers = _core.read_graph(data)
    return Graph(input_shape, input_size, num_classes,
                 tuple(GraphLayer(**layer) for layer in layers))
