"""Compiled OpenCL programs, cached on disk.

First-run compile time is what users of GPU backends complain of most, so a
built program's binary is stored under a key made of the kernel source's hash,
the build options, the device and its driver version; a later load builds
from that binary (milliseconds) instead of the source. A missing, unreadable
or rejected cache file just means a source build. The folder is
$PYBNN_CACHE_DIR, else $XDG_CACHE_HOME/pybnn/opencl, else ~/.cache/pybnn/opencl;
PYBNN_CACHE_DIR=off disables the cache.
"""
import hashlib
import os
import tempfile
from importlib import resources

from ..errors import OpenCLError
from .opencl_devices import import_pyopencl


def kernel_source(op):
    """common.cl followed by the op's file (opencl/<op>.cl, shipped as pybnn.opencl)."""
    folder = resources.files("pybnn.opencl")
    return folder.joinpath("common.cl").read_text() + "\n" + folder.joinpath(f"{op}.cl").read_text()


def cache_dir():
    """The cache folder, or None when disabled."""
    env = os.environ.get("PYBNN_CACHE_DIR")
    if env:
        return None if env.lower() in ("off", "0", "none") else env
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "pybnn", "opencl")


def cache_key(source, options, device):
    """Hex digest over everything that changes the binary."""
    h = hashlib.sha256()
    for part in (source, options, device.platform.name, device.platform.version, device.name,
                 device.vendor, device.version, device.driver_version):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


def build_program(context, device, op, options):
    """A built pyopencl.Program for opencl/<op>.cl with `options` (a string of -D flags)."""
    cl = import_pyopencl()
    source = kernel_source(op)
    folder = cache_dir()
    path = os.path.join(folder, cache_key(source, options, device) + ".bin") if folder else None
    if path and os.path.exists(path):
        try:
            with open(path, "rb") as f:
                binary = f.read()
            return cl.Program(context, [device], [binary]).build(options=options)
        except (OSError, cl.Error):
            pass  # stale or foreign binary: rebuild from source below
    try:
        program = cl.Program(context, source).build(options=options, devices=[device],
                                                    cache_dir=False)
    except cl.RuntimeError as exc:
        raise OpenCLError(f"OpenCL: {device.name.strip()} could not build {op}.cl with "
                          f"'{options}': {str(exc).strip().splitlines()[-1]}") from exc
    if path:
        _store(path, program.get_info(cl.program_info.BINARIES)[0])
    return program


def _store(path, binary):
    """Write atomically (a temporary file renamed), so concurrent loads never see half a file."""
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(binary)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home: run without a cache
