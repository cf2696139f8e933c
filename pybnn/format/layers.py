"""The layers of a .bnn model as plain Python objects (docs/FORMAT.md).

Weights are held unpacked as int8 +-1 arrays, the way a person or the trainer
writes them; `pybnn.format` packs them into the file. A model is a
`ModelSpec`: the input shape and the layers in order.
"""
from dataclasses import dataclass, field
from typing import List, Tuple

import numpy as np


@dataclass
class FirstDense:
    """uint8 (F,) -> int (units,): s = sum x*w, exact (= the bit-plane sum). weights: int8 +-1 (units, F)."""
    weights: np.ndarray


@dataclass
class FirstConv:
    """uint8 (H, W, C) -> int. weights: int8 +-1 (units, kh, kw, C); input padding is pixel 0."""
    weights: np.ndarray
    stride: Tuple[int, int] = (1, 1)
    padding: str = "valid"  # "valid" or "same"


@dataclass
class Conv:
    """bits (H, W, C) -> int. weights: int8 +-1 (units, kh, kw, C)."""
    weights: np.ndarray
    stride: Tuple[int, int] = (1, 1)
    padding: str = "valid"  # "valid" or "same"
    pad_value: str = "one"  # "one" (+1) or "zero" (0, via a correction term)


@dataclass
class Dense:
    """bits (F,) -> int (units,). weights: int8 +-1 (units, F)."""
    weights: np.ndarray


@dataclass
class MaxPool:
    """int or bits (H, W, C) -> same domain; valid padding."""
    size: Tuple[int, int] = (2, 2)
    stride: Tuple[int, int] = (2, 2)


@dataclass
class Threshold:
    """int (..., C) -> bits: +1 where s >= t (flip False) or s <= t (flip True)."""
    thresholds: np.ndarray  # int32 (C,)
    flip: np.ndarray  # bool (C,)


@dataclass
class Flatten:
    """(H, W, C) -> (H*W*C,), row-major (NHWC order)."""


@dataclass
class Affine:
    """int (C,) -> float32 scores: float32(s) * scale + bias. The last layer."""
    scale: np.ndarray  # float32 (C,)
    bias: np.ndarray  # float32 (C,)


@dataclass
class ModelSpec:
    """A sequential model: uint8 input of `input_shape`, then `layers`."""
    input_shape: Tuple[int, ...]
    layers: List[object] = field(default_factory=list)
