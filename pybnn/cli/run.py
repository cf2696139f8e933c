"""`pybnn run MODEL INPUT`: classify samples, report accuracy, write outputs."""
import time

import numpy as np

from .args import add_backend_arguments, positive_int


def load_array(path):
    """A .npy file, or an IDX file (gz or plain); ValueError names a bad file."""
    if not path.endswith(".npy"):
        from ..idx import read_idx
        return read_idx(path)
    try:
        return np.load(path, allow_pickle=False)
    except EOFError:
        raise ValueError(f"{path}: empty or truncated .npy file") from None
    except ValueError as exc:  # not a .npy file, or pickled objects
        raise ValueError(f"{path}: not a readable .npy array ({exc})") from None


def load_input(path, model):
    """Read INPUT (.npy, or an IDX image file, gz or plain) as uint8 samples
    shaped for `model`: (N, *model.input_shape)."""
    x = load_array(path)
    if x.dtype != np.uint8:
        raise ValueError(f"{path}: expected uint8 samples (8-bit fixed point), got {x.dtype}")
    per_sample = int(np.prod(model.input_shape))
    if x.ndim >= 1 and x.shape[1:] != tuple(model.input_shape):
        if x.ndim >= 2 and int(np.prod(x.shape[1:])) == per_sample:
            x = x.reshape((x.shape[0],) + tuple(model.input_shape))  # e.g. IDX (N, 28, 28) -> (N, 784)
        elif x.shape == tuple(model.input_shape):
            x = x[None]
        else:
            raise ValueError(f"{path}: expected samples of shape {tuple(model.input_shape)} "
                             f"({per_sample} values), got array of shape {x.shape}")
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(f"{path}: expected at least one sample of shape "
                         f"{tuple(model.input_shape)}, got an array of shape {x.shape}")
    return np.ascontiguousarray(x)


def load_labels(path, count):
    labels = load_array(path)
    labels = np.asarray(labels).reshape(-1)
    if labels.shape[0] != count:
        raise ValueError(f"{path}: expected {count} labels (one per input sample), got {labels.shape[0]}")
    return labels.astype(np.int64)


def cmd_run(args):
    """Classify INPUT with MODEL; optionally report accuracy and write outputs."""
    from .. import load
    model = load(args.model, threads=args.threads, backend=args.backend, device=args.device)
    x = load_input(args.input, model)
    start = time.perf_counter()
    scores = model.run(x)
    seconds = time.perf_counter() - start
    predictions = scores.argmax(axis=1)
    print(f"{len(x)} samples in {seconds * 1e3:.1f} ms ({len(x) / seconds:.0f} samples/s)")
    if args.labels:
        labels = load_labels(args.labels, len(x))
        errors = int((predictions != labels).sum())
        print(f"accuracy {1 - errors / len(x):.2%} (error {errors / len(x):.2%}, {errors} of {len(x)} wrong)")
    if args.output:
        if args.scores:
            np.save(args.output, scores)
        else:
            np.savetxt(args.output, predictions, fmt="%d")
        print(f"wrote {'scores' if args.scores else 'predictions'} to {args.output}")
    elif not args.labels:
        print(" ".join(str(p) for p in predictions[:50]) + (" ..." if len(predictions) > 50 else ""))
    return 0


def add_parser(sub):
    p = sub.add_parser("run", help="classify inputs with a .bnn model")
    p.add_argument("model", help="the .bnn file")
    p.add_argument("input", help="uint8 samples: a .npy file or an IDX image file (gz or plain)")
    p.add_argument("--labels", help="labels (.npy or IDX) to report accuracy against")
    p.add_argument("-o", "--output", help="write predictions (text, one per line) to this file")
    p.add_argument("--scores", action="store_true", help="with -o: write float32 scores as .npy instead")
    add_backend_arguments(p)
    p.add_argument("--threads", type=positive_int, help="threads (default: every core)")
    p.set_defaults(func=cmd_run)
