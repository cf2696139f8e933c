"""pybnn: inference for binarized neural networks on small machines.

Weights and activations are +-1 stored as one bit; a multiply-accumulate is
XOR plus popcount. See README.md and docs/.
"""
from .errors import FormatError, OpenCLError
from ._source_tree import check_core_importable

check_core_importable()

from .bits import (PreparedB, bgemm, kernel_info, pack_bits, prepare_b,  # noqa: E402
                   unpack_bits, _warn_unknown_features)
from .model import Model, load  # noqa: E402

__version__ = "0.1.0"
__all__ = ["FormatError", "Model", "OpenCLError", "PreparedB", "bgemm", "kernel_info", "load",
           "opencl_devices", "pack_bits", "prepare_b", "unpack_bits", "__version__"]


def opencl_devices():
    """The OpenCL devices present, one dict each: index ("PLATFORM:DEVICE", what
    load(..., backend="opencl", device=...) accepts), platform, name, type, version,
    driver, compute_units, global_mem_bytes, local_mem_bytes. OpenCLError says why
    there are none (pyopencl or a driver missing)."""
    from .backends.opencl_devices import list_devices
    return list_devices()

_warn_unknown_features()
