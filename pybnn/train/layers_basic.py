"""The parameter-free layers: binary activation, dropout, flatten, max-pooling."""
import numpy as np

from .base import Layer
from .binarize import binarize, ste_grad
from .im2col import output_shape


class BinaryActivation(Layer):
    """sign(x) forward (stochastic when training with `stochastic`); STE with saturation backward."""

    def __init__(self, stochastic=False):
        self.stochastic = bool(stochastic)

    def forward(self, x, train, rng):
        if train:
            self.x = x
        return binarize(x, self.stochastic and train, rng)

    def backward(self, dy):
        dx = ste_grad(self.x, dy)
        self.x = None
        return dx

    def config(self):
        return {"stochastic": self.stochastic}


class Dropout(Layer):
    """Inverted dropout: zero a fraction `p` when training and scale the rest by 1/(1-p)."""

    def __init__(self, p):
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = float(p)

    def forward(self, x, train, rng):
        if not train or self.p == 0.0:
            self.mask = None
            return x
        keep = rng.random(x.shape, dtype=np.float32) >= self.p
        self.mask = keep.astype(np.float32) * np.float32(1.0 / (1.0 - self.p))
        return x * self.mask

    def backward(self, dy):
        dx = dy if self.mask is None else dy * self.mask
        self.mask = None
        return dx

    def config(self):
        return {"p": self.p}


class Flatten(Layer):
    """(N, H, W, C) -> (N, H*W*C), row-major: the engine's flatten order."""

    def build(self, input_shape, rng):
        self.input_shape = tuple(input_shape)
        return (int(np.prod(input_shape)),)

    def forward(self, x, train, rng):
        return x.reshape(x.shape[0], -1)

    def backward(self, dy):
        return dy.reshape((dy.shape[0],) + self.input_shape)


class MaxPool2D(Layer):
    """Max over (kh, kw) windows with `valid` padding, channels-last.

    Backward routes each output's gradient to the first maximum of its window
    (window positions in row-major order).
    """

    def __init__(self, size=(2, 2), stride=None):
        self.size = (size, size) if isinstance(size, int) else tuple(int(s) for s in size)
        stride = self.size if stride is None else stride
        self.stride = (stride, stride) if isinstance(stride, int) else tuple(int(s) for s in stride)

    def build(self, input_shape, rng):
        if len(input_shape) != 3:
            raise ValueError(f"MaxPool2D expects an (H, W, C) input, got {tuple(input_shape)}")
        self.input_shape = tuple(input_shape)
        return output_shape(input_shape, self.size, self.stride, "valid")

    def _views(self, x):
        oh, ow, _ = output_shape(x.shape[1:], self.size, self.stride, "valid")
        sh, sw = self.stride
        for i in range(self.size[0]):
            for j in range(self.size[1]):
                yield (slice(None), slice(i, i + sh * (oh - 1) + 1, sh),
                       slice(j, j + sw * (ow - 1) + 1, sw), slice(None))

    def forward(self, x, train, rng):
        out = idx = None
        for k, sl in enumerate(self._views(x)):
            v = x[sl]
            if out is None:
                out, idx = v.copy(), np.zeros(v.shape, np.uint16)
            else:
                bigger = v > out
                np.copyto(out, v, where=bigger)
                idx[bigger] = k
        if train:
            self.x_shape, self.idx = x.shape, idx
        return out

    def backward(self, dy):
        dx = np.zeros(self.x_shape, dy.dtype)
        for k, sl in enumerate(self._views(dx)):
            dx[sl] += np.where(self.idx == k, dy, dy.dtype.type(0))
        self.idx = None
        return dx

    def config(self):
        return {"size": list(self.size), "stride": list(self.stride)}
