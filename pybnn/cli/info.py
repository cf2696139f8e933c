"""`pybnn info [MODEL]`: the version and kernels of this machine, or a model's summary."""
import pybnn


def cmd_info(args):
    """Print the version and kernel info (and a model summary when given one)."""
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


def add_parser(sub):
    p = sub.add_parser("info", help="print version and kernel info, or a model's summary")
    p.add_argument("model", nargs="?", help="a .bnn file to summarise")
    p.set_defaults(func=cmd_info)
