"""NumPy trainer for binarized neural networks (the paper's method), exporting .bnn files.

    from pybnn.train import mlp, Trainer, TrainConfig
    from pybnn.train.data import load_dataset
    d = load_dataset("my_images.npz", "mlp")   # or an IDX folder: checked, validation split
    model = mlp(n_features=d.x_train.shape[1], n_classes=d.classes, width=1024)
    Trainer(model, TrainConfig(epochs=30, batch=200)).fit(d.x_train, d.y_train, d.x_val, d.y_val)
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
