"""Argument types shared by the CLI commands."""


def add_backend_arguments(p):
    """--backend and --device, for the commands that run a model."""
    from ..backends import names
    p.add_argument("--backend", default="cpu", choices=names(),
                   help="what runs the model (default cpu)")
    p.add_argument("--device", help="opencl: 'gpu', 'cpu' or PLATFORM:DEVICE indices "
                   "(see `pybnn info --devices`; default: PYOPENCL_CTX, else the first GPU, "
                   "else a CPU device)")


def positive_int(text):
    value = int(text)
    if value < 1:
        raise ValueError(f"expected a positive integer, got {value}")
    return value
