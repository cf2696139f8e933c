"""Make the package data of `pybnn demo`: the bundled MNIST digits and the small pretrained model.

    python scripts/make_demo_model.py --data ../shared/data/mnist

Writes, reproducibly (fixed seed, gzip without a timestamp):
  pybnn/data/demo-images-idx3-ubyte.gz, demo-labels-idx1-ubyte.gz
      the first DIGITS images of the MNIST test set (IDX, as distributed);
  pybnn/data/demo_mlp.bnn
      the trainer's MLP (784 - WIDTH x 3 - 10) trained on the 60,000 MNIST
      training images (the bundled digits are test images: never trained on).
"""
import argparse
import gzip
import os
import struct
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from pybnn.idx import load_split  # noqa: E402
from pybnn.train.presets import mlp  # noqa: E402
from pybnn.train.trainer import TrainConfig, Trainer  # noqa: E402

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pybnn", "data")


def write_idx_gz(path, array):
    """uint8 IDX (magic 00 00 08 ndim, big-endian dims), gzip'd with mtime 0 (reproducible)."""
    head = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape)
    with open(path, "wb") as f:
        f.write(gzip.compress(head + array.astype(np.uint8).tobytes(), mtime=0))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default="../shared/data/mnist")
    p.add_argument("--out-dir", default=OUT_DIR)
    p.add_argument("--digits", type=int, default=500)
    p.add_argument("--width", type=int, default=256)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--digits-only", action="store_true", help="write only the digits")
    args = p.parse_args(argv)

    x_test, y_test = load_split(args.data, "test")
    os.makedirs(args.out_dir, exist_ok=True)
    write_idx_gz(os.path.join(args.out_dir, "demo-images-idx3-ubyte.gz"), x_test[:args.digits])
    write_idx_gz(os.path.join(args.out_dir, "demo-labels-idx1-ubyte.gz"), y_test[:args.digits])
    print(f"wrote the first {args.digits} MNIST test digits to {args.out_dir}")
    if args.digits_only:
        return 0

    x, y = load_split(args.data, "train")
    x, x_test = x.reshape(len(x), -1), x_test.reshape(len(x_test), -1)
    t0 = time.monotonic()
    model = mlp(width=args.width, seed=args.seed)
    config = TrainConfig(epochs=args.epochs, batch=100, seed=args.seed)
    Trainer(model, config).fit(x, y)
    path = os.path.join(args.out_dir, "demo_mlp.bnn")
    model.export(path)
    err = model.error(x_test, y_test)
    demo_err = model.error(x_test[:args.digits], y_test[:args.digits])
    print(f"wrote {path} ({os.path.getsize(path)} bytes) in {time.monotonic() - t0:.0f}s: "
          f"test error {100 * err:.2f}% (10,000 images), {100 * demo_err:.2f}% on the bundled "
          f"{args.digits}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
