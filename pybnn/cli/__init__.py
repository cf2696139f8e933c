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
    except pybnn.OpenCLError as exc:  # the device or its driver failed: not the input
        return _error(args, exc, 1)
    except (ValueError, OSError, EOFError) as exc:
        # Bad input (a missing, unreadable or malformed file; a bad value):
        # one line and exit status 2, like argparse's usage errors.
        return _error(args, exc, 2)
    except MemoryError as exc:  # e.g. a run over the workspace limit
        return _error(args, exc, 1)


def _error(args, exc, status):
    message = " ".join(str(exc).split()) or type(exc).__name__
    print(f"pybnn {args.command}: error: {message}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
