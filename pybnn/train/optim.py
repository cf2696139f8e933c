"""Optimizers and the learning-rate schedule.

Each parameter's step is scaled by its `lr_scale` (the per-layer scale of
binary weights) and latent binary weights are clipped to [-1, 1] after every
update, as in the original BinaryNet code.

- Adam (Kingma & Ba), with bias correction.
- AdaMax (the infinity-norm variant from the same paper).
- ShiftAdaMax: the paper's shift-based AdaMax (Algorithm 4), where every
  multiplication is a shift: the step is
      - AP2(lr * lr_scale / (1 - beta1^t)) * AP2(m) * AP2(v)^-1
  a signed power of two (or 0), with m = beta1 m + (1 - beta1) g and
  v = max(beta2 v, |g|).
"""
import numpy as np

from .binarize import ap2


class Optimizer:
    """Holds the first and second moment of every parameter; `step(lr)` updates in place.

    The arithmetic is in place on preallocated buffers: for the wide layers of
    an MLP, allocating fresh temporaries costs more than the matmuls.
    """

    def __init__(self, params, beta1=0.9, beta2=0.999, eps=1e-8):
        self.params = list(params)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.t = 0
        self.m = [np.zeros_like(p.value) for p in self.params]
        self.v = [np.zeros_like(p.value) for p in self.params]
        self._tmp = [np.empty_like(p.value) for p in self.params]

    def step(self, lr):
        """Apply one update with learning rate `lr` using the gradients held by the params."""
        self.t += 1
        for p, m, v, tmp in zip(self.params, self.m, self.v, self._tmp):
            self.delta(p, m, v, tmp, lr)
            p.value -= tmp
            p.apply_clip()

    def state(self):
        return {"t": np.array(self.t), "m": self.m, "v": self.v}

    def load_state(self, state):
        self.t = int(state["t"])
        for dst, src in zip(self.m + self.v, list(state["m"]) + list(state["v"])):
            if dst.shape != src.shape:
                raise ValueError(f"optimizer state shape {src.shape} does not match {dst.shape}")
            dst[...] = src

    def _first_moment(self, g, m, tmp):
        m *= np.float32(self.beta1)
        np.multiply(g, np.float32(1 - self.beta1), out=tmp)
        m += tmp


class Adam(Optimizer):
    def delta(self, p, m, v, tmp, lr):
        """Leave in `tmp` the step to subtract from p."""
        g, b1, b2 = p.grad, self.beta1, self.beta2
        self._first_moment(g, m, tmp)
        v *= np.float32(b2)
        np.multiply(g, g, out=tmp)
        tmp *= np.float32(1 - b2)
        v += tmp
        step = lr * p.lr_scale * np.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)
        np.sqrt(v, out=tmp)
        tmp += np.float32(self.eps)
        np.divide(m, tmp, out=tmp)
        tmp *= np.float32(step)


class AdaMax(Optimizer):
    def _infinity_norm(self, g, v, tmp):
        np.abs(g, out=tmp)
        v *= np.float32(self.beta2)
        np.maximum(v, tmp, out=v)

    def delta(self, p, m, v, tmp, lr):
        g = p.grad
        self._first_moment(g, m, tmp)
        self._infinity_norm(g, v, tmp)
        step = lr * p.lr_scale / (1 - self.beta1 ** self.t)
        np.add(v, np.float32(self.eps), out=tmp)
        np.divide(m, tmp, out=tmp)
        tmp *= np.float32(step)


class ShiftAdaMax(AdaMax):
    def delta(self, p, m, v, tmp, lr):
        g = p.grad
        self._first_moment(g, m, tmp)
        self._infinity_norm(g, v, tmp)
        alpha = ap2(np.float32(lr * p.lr_scale / (1 - self.beta1 ** self.t)))
        # AP2(m) / AP2(v): a quotient of powers of two, exact; 0 where v = 0 (then m = 0 too).
        safe_v = np.where(v > 0, ap2(v), np.float32(1))
        np.divide(ap2(m), safe_v, out=tmp)
        tmp *= alpha


OPTIMIZERS = {"adam": Adam, "adamax": AdaMax, "shift_adamax": ShiftAdaMax}


def make_optimizer(name, params):
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; expected one of {sorted(OPTIMIZERS)}")
    return OPTIMIZERS[name](params)


def lr_at_epoch(epoch, epochs, lr_start, lr_end):
    """Exponential decay from lr_start (epoch 0) by (lr_end/lr_start)^(1/epochs) per epoch."""
    if lr_start <= 0 or lr_end <= 0:
        raise ValueError(f"learning rates must be positive, got {lr_start} and {lr_end}")
    return lr_start * (lr_end / lr_start) ** (epoch / max(epochs, 1))
