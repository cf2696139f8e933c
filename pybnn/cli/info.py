"""`pybnn info [MODEL]`: the version and kernels of this machine, or a model's summary."""
import pybnn


def cmd_info(args):
    """Print the version and kernel info (and a model summary when given one)."""
    if args.devices:
        return print_devices()
    if getattr(args, "model", None):
        from ..summary import summarize_file  # imported lazily so `pybnn info` stays light
        print(summarize_file(args.model))
        return 0
    info = pybnn.kernel_info()
    print(f"pybnn {pybnn.__version__}")
    print(f"kernels in use: {info['isa']}")
    print(f"available:      {', '.join(info['available'])}")
    print(f"threads:        {info['threads']}")
    if info["disabled"]:
        print(f"disabled:       {', '.join(info['disabled'])} (PYBNN_DISABLE_CPU_FEATURES)")
    return 0


def print_devices():
    """The OpenCL platforms and devices, one line each (OpenCLError says why none)."""
    devices = pybnn.opencl_devices()
    print(f"{len(devices)} OpenCL device(s); choose one with --device INDEX (or 'gpu', 'cpu')")
    for d in devices:
        print(f"{d['index']:>5}  {d['name']} ({d['type']}, {d['version']}, driver {d['driver']}, "
              f"{d['compute_units']} compute units, {d['global_mem_bytes'] / 2**30:.1f} GiB) "
              f"on {d['platform']}")
    return 0


def add_parser(sub):
    p = sub.add_parser("info", help="print version and kernel info, a model's summary, "
                                    "or the OpenCL devices")
    p.add_argument("model", nargs="?", help="a .bnn file to summarise")
    p.add_argument("--devices", action="store_true",
                   help="list the OpenCL platforms and devices (for --backend opencl)")
    p.set_defaults(func=cmd_info)
