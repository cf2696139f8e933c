"""Small random trainer models with realistic batch-norm statistics, for the export tests."""
import numpy as np

from pybnn.train.layers_basic import BinaryActivation, Dropout, Flatten, MaxPool2D
from pybnn.train.layers_binary import BinaryConv2D, BinaryDense
from pybnn.train.layers_norm import BatchNorm, ShiftBatchNorm
from pybnn.train.network import Network


def dense_net(n_features=37, widths=(24, 70), classes=5, shift_bn=False, seed=0):
    bn = ShiftBatchNorm if shift_bn else BatchNorm
    layers = [Dropout(0.2)]
    for w in widths:
        layers += [BinaryDense(w), bn(), BinaryActivation(), Dropout(0.3)]
    layers += [BinaryDense(classes), bn()]
    return Network((n_features,), layers, seed)


def conv_net(input_shape=(9, 8, 2), padding="same", pad_value="zero", stride=(1, 1),
             shift_bn=False, classes=4, seed=0):
    """first conv -> pool on ints -> BN -> sign -> conv -> BN -> sign -> pool on bits -> dense."""
    bn = ShiftBatchNorm if shift_bn else BatchNorm
    layers = [BinaryConv2D(6, (3, 3), stride, padding, pad_value), MaxPool2D(2, 1), bn(),
              BinaryActivation(),
              BinaryConv2D(5, (2, 3), stride, padding, pad_value), bn(), BinaryActivation(),
              MaxPool2D(2), Flatten(), BinaryDense(9), bn(), BinaryActivation(),
              BinaryDense(classes), bn()]
    return Network(input_shape, layers, seed)


def randomize(model, x, seed=0, zero_gamma=True):
    """Batch statistics from `x`, then random gamma (some negative, one zero) and beta."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if hasattr(layer, "running_mean"):
            layer.momentum = 1.0
    model.forward(x, train=True, rng=rng)
    for layer in model.layers:
        if hasattr(layer, "running_mean"):
            layer.momentum = 0.1
            c = layer.gamma.value.size
            layer.gamma.value[...] = rng.uniform(0.2, 2.0, c) * rng.choice([-1, 1], c)
            if zero_gamma:
                layer.gamma.value[0] = 0.0
            layer.beta.value[...] = rng.standard_normal(c) * 0.5
    return model


def random_input(model, n, seed=1):
    return np.random.default_rng(seed).integers(0, 256, (n,) + model.input_shape, dtype=np.uint8)
