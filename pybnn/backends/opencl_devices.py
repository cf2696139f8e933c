"""OpenCL device discovery and choice for the OpenCL backend.

pyopencl is imported here, lazily, so `import pybnn` never needs it. Choice is
predictable and never interactive: an explicit `device` ("gpu", "cpu",
"PLATFORM:DEVICE" indices as PYOPENCL_CTX spells them, or a pyopencl.Device),
else PYOPENCL_CTX, else the first GPU, else the first CPU device.
"""
import os

from ..errors import OpenCLError

NO_PYOPENCL = ("the OpenCL backend needs pyopencl, which is not installed: "
               "pip install 'pybnn[opencl]'")
NO_PLATFORM = ("no OpenCL platform found: install an OpenCL driver (ICD) - for CPUs "
               "Debian/Ubuntu's pocl-opencl-icd (with ocl-icd-libopencl1), for GPUs the "
               "vendor's driver (intel-opencl-icd, mesa-opencl-icd/rusticl, the NVIDIA or "
               "AMD driver); `clinfo` lists what is installed")


def import_pyopencl():
    """The pyopencl module, or OpenCLError saying how to install it."""
    try:
        import pyopencl
    except ImportError as exc:
        raise OpenCLError(NO_PYOPENCL) from exc
    return pyopencl


def platforms():
    """[(platform, [devices])] in the ICD loader's order; OpenCLError when there is none."""
    cl = import_pyopencl()
    try:
        found = cl.get_platforms()
    except cl.Error:
        found = []  # PLATFORM_NOT_FOUND_KHR: the loader found no ICD
    out = []
    for p in found:
        try:
            devs = p.get_devices()
        except cl.Error:
            devs = []  # DEVICE_NOT_FOUND
        out.append((p, devs))
    if not any(devs for _, devs in out):
        raise OpenCLError(NO_PLATFORM)
    return out


def device_type_name(device):
    cl = import_pyopencl()
    t = device.type
    for flag, name in ((cl.device_type.GPU, "gpu"), (cl.device_type.CPU, "cpu"),
                       (cl.device_type.ACCELERATOR, "accelerator")):
        if t & flag:
            return name
    return "other"


def describe(device):
    """One readable line: the device, its type, its OpenCL version and platform."""
    return (f"{device.name.strip()} ({device_type_name(device)}, "
            f"{device.version.strip()}, platform {device.platform.name.strip()})")


def list_devices():
    """[dict] per device: index "P:D", name, type, version, driver, compute units, memory."""
    rows = []
    for pi, (p, devs) in enumerate(platforms()):
        for di, d in enumerate(devs):
            rows.append({"index": f"{pi}:{di}", "platform": p.name.strip(),
                         "name": d.name.strip(), "type": device_type_name(d),
                         "version": d.version.strip(), "driver": d.driver_version.strip(),
                         "compute_units": d.max_compute_units,
                         "global_mem_bytes": d.global_mem_size,
                         "local_mem_bytes": d.local_mem_size})
    return rows


def choose_device(device=None):
    """The pyopencl.Device that `device` names (see the module doc)."""
    cl = import_pyopencl()
    if isinstance(device, cl.Device):
        return device
    if device is None:
        env = os.environ.get("PYOPENCL_CTX", "").strip()
        if env:
            return _by_index(env, "PYOPENCL_CTX")
        return _first_of_types(("gpu", "cpu", "accelerator", "other"), "any")
    if not isinstance(device, str):
        raise OpenCLError(f"device: expected 'gpu', 'cpu', 'PLATFORM:DEVICE' or a "
                          f"pyopencl.Device, got {type(device).__name__}")
    name = device.strip().lower()
    if name in ("gpu", "cpu"):
        return _first_of_types((name,), name)
    return _by_index(device, "device")


def _first_of_types(types, wanted):
    found = platforms()
    for t in types:
        for _, devs in found:
            for d in devs:
                if device_type_name(d) == t:
                    return d
    have = ", ".join(describe(d) for _, devs in found for d in devs)
    raise OpenCLError(f"no OpenCL {wanted} device; the devices present are: {have}")


def _by_index(text, what):
    parts = text.strip().split(":")
    if len(parts) > 2 or not all(p.strip().isdigit() for p in parts):
        raise OpenCLError(f"{what}: expected 'gpu', 'cpu' or 'PLATFORM:DEVICE' indices "
                          f"such as '0:1' (see `pybnn info --devices`), got {text!r}")
    pi, di = int(parts[0]), int(parts[1]) if len(parts) == 2 else 0
    found = platforms()
    if pi >= len(found):
        raise OpenCLError(f"{what} {text!r}: there is no platform {pi} "
                          f"({len(found)} platform(s): 0..{len(found) - 1})")
    devs = found[pi][1]
    if di >= len(devs):
        raise OpenCLError(f"{what} {text!r}: platform {pi} ({found[pi][0].name.strip()}) "
                          f"has no device {di} ({len(devs)} device(s))")
    return devs[di]
