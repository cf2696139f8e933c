"""The .bnn format in Python (docs/FORMAT.md): the layers of a model
(`layers`), their shapes and checks (`shapes`), and the writer and reader
(`file`). Pure Python + NumPy: nothing here needs the compiled core."""
from ..errors import FormatError
from .file import parse, read, to_bytes, validate, write
from .layers import (Affine, Conv, Dense, FirstConv, FirstDense, Flatten, MaxPool, ModelSpec,
                     Threshold)

__all__ = ["Affine", "Conv", "Dense", "FirstConv", "FirstDense", "Flatten", "FormatError",
           "MaxPool", "ModelSpec", "Threshold", "parse", "read", "to_bytes", "validate", "write"]
