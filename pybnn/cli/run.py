"""`pybnn run MODEL INPUT`: classify samples, report accuracy, write outputs."""
import time

import numpy as np

from .args import add_backend_arguments, positive_int
from .samples import fit_samples

LOCAL_CLUSTER = "local"  # --dask without an address


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
    x = fit_samples(load_array(path), model, path)
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
    if args.dask is not None:
        try:
            from .run_dask import run_on_dask
        except ImportError as exc:  # the optional extra
            raise ValueError(f"--dask needs pybnn[dask] (dask[array], distributed): {exc}") from None
        # Here only for the input shape: the workers load it with --backend and --device.
        model = load(args.model)
        address = None if args.dask == LOCAL_CLUSTER else args.dask
        scores, seconds = run_on_dask(args, model, address)
    else:
        model = load(args.model, threads=args.threads, backend=args.backend, device=args.device)
        x = load_input(args.input, model)
        start = time.perf_counter()
        scores = model.run(x)
        seconds = time.perf_counter() - start
    report(args, scores, seconds)
    return 0


def report(args, scores, seconds):
    """Print the timing (and accuracy) and write the outputs asked for."""
    predictions = scores.argmax(axis=1)
    n = len(scores)
    print(f"{n} samples in {seconds * 1e3:.1f} ms ({n / seconds:.0f} samples/s)")
    if args.labels:
        labels = load_labels(args.labels, n)
        errors = int((predictions != labels).sum())
        print(f"accuracy {1 - errors / n:.2%} (error {errors / n:.2%}, {errors} of {n} wrong)")
    if args.output:
        if args.scores:
            np.save(args.output, scores)
        else:
            np.savetxt(args.output, predictions, fmt="%d")
        print(f"wrote {'scores' if args.scores else 'predictions'} to {args.output}")
    elif not args.labels:
        print(" ".join(str(p) for p in predictions[:50]) + (" ..." if len(predictions) > 50 else ""))


def add_parser(sub):
    p = sub.add_parser("run", help="classify inputs with a .bnn model")
    p.add_argument("model", help="the .bnn file")
    p.add_argument("input", help="uint8 samples: a .npy file or an IDX image file (gz or plain)")
    p.add_argument("--labels", help="labels (.npy or IDX) to report accuracy against")
    p.add_argument("-o", "--output", help="write predictions (text, one per line) to this file")
    p.add_argument("--scores", action="store_true", help="with -o: write float32 scores as .npy instead")
    add_backend_arguments(p)
    p.add_argument("--threads", type=positive_int,
                   help="threads (default: every core; with --dask: per chunk, default 1)")
    p.add_argument("--dask", nargs="?", const=LOCAL_CLUSTER, metavar="SCHEDULER_ADDRESS",
                   help="run on a Dask cluster: its scheduler (e.g. tcp://host:8786); with no "
                        "address, a local cluster sized to this machine; needs pybnn[dask]; "
                        "INPUT may then also be an npy stack (dask.array.to_npy_stack)")
    p.add_argument("--chunk-size", type=positive_int, default=1000,
                   help="with --dask: samples per task (default 1000; npy stacks keep theirs)")
    p.set_defaults(func=cmd_run)
