"""The exceptions pybnn raises beyond the built-in ones (one place, no
dependencies, so the format layer and the compiled core can both use them)."""


class FormatError(ValueError):
    """A .bnn file or buffer is malformed; the message names the field."""


class OpenCLError(RuntimeError):
    """The OpenCL backend cannot run: pyopencl or a driver missing, a bad device
    choice, a device lacking a feature; the message says which and what to do."""
