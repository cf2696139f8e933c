"""pybnn: inference for binarized neural networks on small machines.

Weights and activations are +-1 stored as one bit; a multiply-accumulate is
XOR plus popcount. See README.md and docs/.
"""
from .errors import FormatError
from ._source_tree import check_core_importable

check_core_importable()

from .bits import bgemm, kernel_info, pack_bits, unpack_bits, _warn_unknown_features  # noqa: E402
from .model import Model, load  # noqa: E402

__version__ = "0.1.0"
__all__ = ["FormatError", "Model", "bgemm", "kernel_info", "load", "pack_bits", "unpack_bits",
           "__version__"]

_warn_unknown_features()
