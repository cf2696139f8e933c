"""The `pybnn` command line. Each subcommand lives in its own function;
`main` builds the parser and dispatches."""
import argparse
import sys

import pybnn

from .. import demo
from .run import add_model_commands
from . import train as train_cli


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


def build_parser():
    parser = argparse.ArgumentParser(
        prog="pybnn", description="Binarized neural network inference: XOR + popcount kernels.")
    parser.add_argument("--version", action="version", version=f"pybnn {pybnn.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("info", help="print version and kernel info, or a model's summary")
    p.add_argument("model", nargs="?", help="a .bnn file to summarise")
    p.set_defaults(func=cmd_info)
    add_model_commands(sub)
    train_cli.add_parser(sub)
    demo.add_parser(sub)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except (ValueError, OSError) as exc:
        print(f"pybnn {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
