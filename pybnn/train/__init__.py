"""NumPy trainer for binarized neural networks (the paper's method), exporting .bnn files.

    from pybnn.train import mlp, Trainer, TrainConfig
    model = mlp(width=1024)
    Trainer(model, TrainConfig(epochs=30, batch=200)).fit(x_train, y_train, x_val, y_val)
    model.export("mlp.bnn")          # run it with pybnn.load("mlp.bnn")

See docs/TRAINING.md.
"""
from .layers_basic import BinaryActivation, Dropout, Flatten, MaxPool2D
from .layers_binary import BinaryConv2D, BinaryDense
from .layers_norm import BatchNorm, ShiftBatchNorm
from .network import Network
from .presets import conv, mlp
from .trainer import TrainConfig, Trainer

__all__ = ["BatchNorm", "BinaryActivation", "BinaryConv2D", "BinaryDense", "Dropout", "Flatten",
           "MaxPool2D", "Network", "ShiftBatchNorm", "TrainConfig", "Trainer", "conv", "mlp"]
