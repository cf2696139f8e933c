"""The `pybnn` command line: one module per command, each with
add_parser(sub); `main` builds the parser and dispatches."""
import argparse
import sys

import pybnn

from . import bench, convert, demo, info, run, train


def build_parser():
    parser = argparse.ArgumentParser(
        prog="pybnn", description="Binarized neural network inference: XOR + popcount kernels.")
    parser.add_argument("--version", action="version", version=f"pybnn {pybnn.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in (info, run, bench, train, convert, demo):
        command.add_parser(sub)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except (ValueError, OSError, pybnn.OpenCLError) as exc:
        print(f"pybnn {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
