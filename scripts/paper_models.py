"""The paper's two benchmark networks as random-weight pybnn models and as
float32 NumPy forwards of the same architectures (the baselines).

Used by scripts/bench_models.py; random weights are fine for speed."""
import numpy as np

from pybnn.format.layers import Affine, Conv, Dense, FirstConv, FirstDense, Flatten, MaxPool, ModelSpec, Threshold

MLP_WIDTH = 4096
CONVNET_CHANNELS = (128, 128, 256, 256, 512, 512)
CONVNET_FC = (1024, 1024)


def _pm1(rng, shape):
    return np.where(rng.random(shape) < 0.5, -1, 1).astype(np.int8)


def _threshold(rng, channels, spread):
    t = rng.integers(-spread, spread + 1, channels).astype(np.int32)
    return Threshold(thresholds=t, flip=rng.random(channels) < 0.1)


def _affine(rng, classes):
    return Affine(scale=rng.uniform(0.01, 0.1, classes).astype(np.float32),
                  bias=rng.standard_normal(classes).astype(np.float32))


def mlp_spec(rng, width=MLP_WIDTH, depth=3, features=784, classes=10):
    """784-4096-4096-4096-10: first layer on uint8, then binary dense layers."""
    layers = [FirstDense(_pm1(rng, (width, features))), _threshold(rng, width, 2000)]
    for _ in range(depth - 1):
        layers += [Dense(_pm1(rng, (width, width))), _threshold(rng, width, 60)]
    layers += [Dense(_pm1(rng, (classes, width))), _affine(rng, classes)]
    return ModelSpec(input_shape=(features,), layers=layers)


def convnet_spec(rng, classes=10):
    """2x128C3-MP2-2x256C3-MP2-2x512C3-MP2-2x1024FC-10 on 32x32x3, same padding,
    the paper's conv -> pool -> BN -> sign order."""
    layers, c_in = [], 3
    for i, c in enumerate(CONVNET_CHANNELS):
        w = _pm1(rng, (c, 3, 3, c_in))
        layers.append(FirstConv(w, padding="same") if i == 0 else Conv(w, padding="same"))
        if i % 2 == 1:
            layers.append(MaxPool((2, 2), (2, 2)))
        layers.append(_threshold(rng, c, 40 if i else 600))
        c_in = c
    layers.append(Flatten())
    f = 4 * 4 * CONVNET_CHANNELS[-1]
    for units in CONVNET_FC:
        layers += [Dense(_pm1(rng, (units, f))), _threshold(rng, units, 60)]
        f = units
    layers += [Dense(_pm1(rng, (classes, f))), _affine(rng, classes)]
    return ModelSpec(input_shape=(32, 32, 3), layers=layers)


def float32_params(spec):
    """Float32 copies of the weights and per-channel BN parameters for the baseline."""
    params = []
    for layer in spec.layers:
        if hasattr(layer, "weights"):
            w = layer.weights.astype(np.float32)
            params.append(("w", w.reshape(w.shape[0], -1), getattr(layer, "padding", None)))
        elif isinstance(layer, Threshold):
            c = len(layer.thresholds)
            params.append(("bn", np.ones(c, np.float32), -layer.thresholds.astype(np.float32)))
        elif isinstance(layer, MaxPool):
            params.append(("pool", None, None))
        elif isinstance(layer, Affine):
            params.append(("affine", layer.scale, layer.bias))
        elif isinstance(layer, Flatten):
            params.append(("flatten", None, None))
    return params


def _im2col_same3x3(x):
    """(N, H, W, C) -> (N*H*W, 9*C) patches of a 3x3 same convolution."""
    n, h, w, c = x.shape
    p = np.zeros((n, h + 2, w + 2, c), np.float32)
    p[:, 1:-1, 1:-1] = x
    cols = [p[:, dy:dy + h, dx:dx + w] for dy in range(3) for dx in range(3)]
    return np.concatenate(cols, axis=-1).reshape(n * h * w, 9 * c)


def float32_forward(params, x):
    """A float32 NumPy forward of the same architecture: matmul (im2col for
    conv) + batch-norm + sign, float scores at the end."""
    h = x.astype(np.float32) / 255.0
    for kind, a, b in params:
        if kind == "w" and b is not None:  # conv, same padding
            n, hh, ww, _ = h.shape
            h = (_im2col_same3x3(h) @ a.T).reshape(n, hh, ww, a.shape[0])
        elif kind == "w":
            h = h @ a.T
        elif kind == "bn":
            h = np.sign(h * a + b)
        elif kind == "pool":
            n, hh, ww, c = h.shape
            h = h.reshape(n, hh // 2, 2, ww // 2, 2, c).max(axis=(2, 4))
        elif kind == "flatten":
            h = h.reshape(h.shape[0], -1)
        elif kind == "affine":
            h = h * a + b
    return h
