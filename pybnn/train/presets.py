"""Network presets: the paper's MLP and a small BinaryNet-style ConvNet.

Both take any image size and channel count: the MLP the flat (H*W*C,) pixels
in NHWC order (as the engine flattens), the ConvNet (H, W, C) images of at
least 4x4 (it pools twice by 2); their defaults were tuned on 28x28 MNIST.

Each binary layer is followed by batch-norm (or shift-based BN) and, for the
hidden ones, a binary activation; the last layer's batch-norm output is the
score vector (folded into the engine's final affine).
"""
from .layers_basic import BinaryActivation, Dropout, Flatten, MaxPool2D
from .layers_binary import BinaryConv2D, BinaryDense
from .layers_norm import BatchNorm, ShiftBatchNorm
from .network import Network

# The defaults of `pybnn train --model mlp`, chosen to finish within 30 minutes
# on 2 cores (docs/TRAINING.md has the measurements); the paper used 4096
# units, dropout 0.2 / 0.5 and 1000 epochs.
MLP_DEFAULTS = {"width": 1024, "hidden_layers": 3, "dropout_in": 0.0, "dropout_hidden": 0.0}
CONV_DEFAULTS = {"width": 16}


def mlp(n_features=784, n_classes=10, width=MLP_DEFAULTS["width"],
        hidden_layers=MLP_DEFAULTS["hidden_layers"], dropout_in=MLP_DEFAULTS["dropout_in"],
        dropout_hidden=MLP_DEFAULTS["dropout_hidden"], stochastic=False, shift_bn=False, seed=0):
    """The paper's MLP: `hidden_layers` binary dense layers of `width` units, then the classes."""
    bn = ShiftBatchNorm if shift_bn else BatchNorm
    layers = [Dropout(dropout_in)] if dropout_in > 0 else []
    for _ in range(hidden_layers):
        layers += [BinaryDense(width, stochastic), bn(), BinaryActivation(stochastic)]
        if dropout_hidden > 0:
            layers.append(Dropout(dropout_hidden))
    layers += [BinaryDense(n_classes, stochastic), bn()]
    return Network((n_features,), layers, seed)


def conv(input_shape=(28, 28, 1), n_classes=10, width=CONV_DEFAULTS["width"], stochastic=False,
         shift_bn=False, seed=0, dense_units=None):
    """A small BinaryNet-style ConvNet: 2x(conv-conv-pool) of width, 2*width channels, 2 dense.

    Each block is conv -> BN -> sign -> conv -> pool -> BN -> sign (the paper's
    order: pooling on the integer sums, before batch-norm).
    """
    if len(input_shape) != 3 or min(input_shape[:2]) < 4:
        raise ValueError(f"the conv preset takes (H, W, C) images of at least 4x4 (it pools twice "
                         f"by 2), got {tuple(input_shape)}; --model mlp takes any size")
    bn = ShiftBatchNorm if shift_bn else BatchNorm
    dense_units = dense_units or 16 * width
    layers = []
    for units in (width, 2 * width):
        layers += [BinaryConv2D(units, 3, 1, "same", "zero", stochastic), bn(),
                   BinaryActivation(stochastic),
                   BinaryConv2D(units, 3, 1, "same", "zero", stochastic), MaxPool2D(2), bn(),
                   BinaryActivation(stochastic)]
    layers += [Flatten(), BinaryDense(dense_units, stochastic), bn(), BinaryActivation(stochastic),
               BinaryDense(n_classes, stochastic), bn()]
    return Network(tuple(input_shape), layers, seed)


PRESETS = {"mlp": mlp, "conv": conv}
