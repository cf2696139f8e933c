"""`pybnn demo`: classify the MNIST test digits shipped with the package.

The package carries a small pretrained MNIST model (made by the trainer with
scripts/make_demo_model.py) and the first few hundred MNIST test digits
(IDX files), so this runs on a fresh install with nothing to fetch.
"""
import os
import time

import numpy as np

# The package data lies in pybnn/data/, one folder above this module.
DATA_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data")
DEMO_MODEL = os.path.join(DATA_DIR, "demo_mlp.bnn")
DEMO_IMAGES = os.path.join(DATA_DIR, "demo-images-idx3-ubyte.gz")
DEMO_LABELS = os.path.join(DATA_DIR, "demo-labels-idx1-ubyte.gz")
SHADES = " .:-=+*#%@"


def add_parser(sub):
    p = sub.add_parser("demo", help="classify the bundled MNIST test digits with the bundled model",
                       description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default=DEMO_MODEL, help="a .bnn file (default: the bundled one)")
    p.add_argument("--repeat", type=int, default=20,
                   help="timed runs over all digits; the best is reported (default 20)")
    p.add_argument("--threads", type=int, default=0, help="threads (default 0: all cores)")
    p.add_argument("--show", type=int, default=3, help="digits to draw with their prediction")
    p.set_defaults(func=run)
    return p


def load_digits():
    """The bundled digits: uint8 images (N, 28, 28) and labels (N,)."""
    from ..idx import read_idx
    return read_idx(DEMO_IMAGES), read_idx(DEMO_LABELS)


def ascii_digit(image):
    rows = []
    for row in image[::2]:  # every other row keeps the aspect ratio of a terminal cell
        rows.append("".join(SHADES[int(v) * (len(SHADES) - 1) // 255] for v in row))
    return "\n".join(rows)


def run(args):
    from .. import format as bnn_format
    from .. import kernel_info, load
    if args.repeat < 1:
        raise ValueError(f"--repeat must be >= 1, got {args.repeat}")
    images, labels = load_digits()
    spec = bnn_format.read(args.model)
    x = np.ascontiguousarray(images.reshape((len(images),) + tuple(spec.input_shape)))
    model = load(args.model, threads=args.threads or None)
    scores = model.run(x)
    pred = np.argmax(scores, axis=1)
    best = float("inf")
    for _ in range(args.repeat):
        t = time.perf_counter()
        model.run(x)
        best = min(best, time.perf_counter() - t)
    for i in range(min(args.show, len(images))):
        print(ascii_digit(images[i]))
        print(f"digit {i}: predicted {pred[i]}, label {labels[i]}\n")
    correct = int(np.sum(pred == labels))
    print(f"model: {args.model}")
    print(f"accuracy: {correct}/{len(labels)} = {100 * correct / len(labels):.2f}% "
          f"on the bundled MNIST test digits")
    print(f"speed: {1e6 * best / len(x):.1f} us per image, {len(x) / best:,.0f} images/s "
          f"(batch of {len(x)}, best of {args.repeat}, kernels: {kernel_info()['isa']})")
    return 0
