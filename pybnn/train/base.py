"""The trainer's building blocks: a trainable parameter and the layer interface.

Every layer works on float32 NumPy arrays: dense activations are (N, F),
convolutional ones channels-last (N, H, W, C), the engine's layout, so a
trained model exports without transposes.
"""
import numpy as np


class Param:
    """A float32 trainable array with its gradient and update rules.

    lr_scale: the per-layer learning-rate scale (the original BinaryNet code's
    "Glorot" scale for binary weights, 1 elsewhere). clip: latent binary
    weights are clipped to [-clip, clip] after every update (None: no clip).
    """

    def __init__(self, name, value, lr_scale=1.0, clip=None):
        self.name = name
        self.value = np.ascontiguousarray(value, dtype=np.float32)
        self.grad = np.zeros_like(self.value)
        self.lr_scale = float(lr_scale)
        self.clip = clip

    def apply_clip(self):
        if self.clip is not None:
            np.clip(self.value, -self.clip, self.clip, out=self.value)


class Layer:
    """forward(x, train, rng) -> y caches what backward(dy) -> dx needs.

    build(input_shape, rng) creates the parameters for a per-sample input
    shape and returns the output shape. `needs_input_grad` is cleared by the
    model on the first layers, whose input gradient nobody uses.
    """

    needs_input_grad = True

    def build(self, input_shape, rng):
        self.input_shape = tuple(input_shape)
        return self.input_shape

    def forward(self, x, train, rng):
        raise NotImplementedError

    def backward(self, dy):
        raise NotImplementedError

    def params(self):
        return []

    def buffers(self):
        """Non-trained state (batch-norm running statistics) by name."""
        return {}

    def config(self):
        """The constructor arguments, so a checkpoint can rebuild the layer."""
        return {}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"
