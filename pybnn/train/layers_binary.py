"""Binary dense and convolution layers (weights binarized in the forward pass).

The layer keeps real-valued latent weights W in [-1, 1]; the forward pass uses
Wb = sign(W) (or its stochastic version when training with `stochastic`), and
the gradient with respect to Wb is applied to W through the straight-through
estimator, which passes everywhere here: W is clipped to [-1, 1] after every
update, so the saturation mask |W| <= 1 is all ones and is not computed.
Latent weights start uniform in [-1, 1] and their learning rate is scaled by
1 / sqrt(1.5 / (fan_in + fan_out)), as in the original BinaryNet code. No
bias: batch normalization follows every binary layer.
"""
import numpy as np

from .base import Layer, Param
from .binarize import binarize
from .im2col import col2im, im2col, output_shape


def glorot_lr_scale(fan_in, fan_out):
    """The original code's per-layer learning-rate scale, 1 / sqrt(1.5 / (fan_in + fan_out))."""
    return 1.0 / np.sqrt(1.5 / (fan_in + fan_out))


class _Binary(Layer):
    def _init_weights(self, shape, fan_in, fan_out, rng):
        w = rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)
        self.W = Param("W", w, lr_scale=glorot_lr_scale(fan_in, fan_out), clip=1.0)

    def binary_weights(self, train=False, rng=None):
        """The +-1 weights of the forward pass (deterministic unless training stochastically)."""
        return binarize(self.W.value, self.stochastic and train, rng)

    def params(self):
        return [self.W]


class BinaryDense(_Binary):
    """(N, F) -> (N, units): x @ Wb, with W of shape (F, units)."""

    def __init__(self, units, stochastic=False):
        self.units, self.stochastic = int(units), bool(stochastic)

    def build(self, input_shape, rng):
        if len(input_shape) != 1:
            raise ValueError(f"BinaryDense expects a flat input (F,), got {tuple(input_shape)}; "
                             f"put a Flatten before it")
        self.input_shape = tuple(input_shape)
        fan_in = input_shape[0]
        self._init_weights((fan_in, self.units), fan_in, self.units, rng)
        return (self.units,)

    def forward(self, x, train, rng):
        wb = self.binary_weights(train, rng)
        if train:  # kept for backward
            self.x, self.wb = x, wb
        return x @ wb

    def backward(self, dy):
        np.matmul(self.x.T, dy, out=self.W.grad)  # the STE passes: |W| <= 1 always
        dx = dy @ self.wb.T if self.needs_input_grad else None
        self.x = self.wb = None
        return dx

    def config(self):
        return {"units": self.units, "stochastic": self.stochastic}


class BinaryConv2D(_Binary):
    """(N, H, W, C) -> (N, H', W', units) with W of shape (kh, kw, C, units).

    pad_value for `same` padding: 'zero' (padded positions contribute nothing)
    or 'one' (they hold +1). The first layer of a model pads its uint8 input
    with pixel 0, i.e. with 0 after scaling, whatever `pad_value` says.
    """

    def __init__(self, units, kernel=(3, 3), stride=(1, 1), padding="same", pad_value="zero",
                 stochastic=False):
        self.units = int(units)
        self.kernel, self.stride = _pair(kernel, "kernel"), _pair(stride, "stride")
        if padding not in ("valid", "same"):
            raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
        if pad_value not in ("zero", "one"):
            raise ValueError(f"pad_value must be 'zero' or 'one', got {pad_value!r}")
        self.padding, self.pad_value, self.stochastic = padding, pad_value, bool(stochastic)
        self.is_first = False

    def build(self, input_shape, rng):
        if len(input_shape) != 3:
            raise ValueError(f"BinaryConv2D expects an (H, W, C) input, got {tuple(input_shape)}")
        self.input_shape = tuple(input_shape)
        kh, kw = self.kernel
        c = input_shape[2]
        self._init_weights((kh, kw, c, self.units), kh * kw * c, kh * kw * self.units, rng)
        return output_shape(input_shape, self.kernel, self.stride, self.padding, self.units)

    def fill_value(self):
        return 1.0 if (self.pad_value == "one" and not self.is_first) else 0.0

    def forward(self, x, train, rng):
        cols, (oh, ow) = im2col(x, self.kernel, self.stride, self.padding, self.fill_value())
        wb = self.binary_weights(train, rng).reshape(-1, self.units)
        if train:  # kept for backward
            self.x_shape, self.cols, self.wb = x.shape, cols, wb
        return (cols @ wb).reshape(x.shape[0], oh, ow, self.units)

    def backward(self, dy):
        g = dy.reshape(-1, self.units)
        np.matmul(self.cols.T, g, out=self.W.grad.reshape(-1, self.units))  # STE passes: |W| <= 1
        dx = None
        if self.needs_input_grad:
            dx = col2im(g @ self.wb.T, self.x_shape, self.kernel, self.stride, self.padding)
        self.cols = self.wb = None
        return dx

    def config(self):
        return {"units": self.units, "kernel": list(self.kernel), "stride": list(self.stride),
                "padding": self.padding, "pad_value": self.pad_value,
                "stochastic": self.stochastic}


def _pair(v, what):
    t = (v, v) if isinstance(v, int) else tuple(int(a) for a in v)
    if len(t) != 2 or min(t) < 1:
        raise ValueError(f"{what} must be a positive int or a pair of them, got {v!r}")
    return t
