"""Where training data comes from: a folder of IDX files or a .npz of arrays.

Either gives (x_train, y_train, x_test, y_test): images as uint8 (N, H, W, C)
(channels last, as the engine takes them; grayscale gets C = 1) and integer
labels; the test pair is None when the source has no test set. Checks that
need both splits or the labels' values are data.py's and labels.py's.
"""
import os
import zipfile

import numpy as np

from ..idx import has_split, load_split
from .labels import check_label_array

NPZ_REQUIRED = ("x_train", "y_train")
NPZ_OPTIONAL = ("x_test", "y_test")


def read_source(path):
    """(x_train, y_train, x_test, y_test) from an IDX folder or a .npz file at `path`."""
    path = os.fspath(path)
    if os.path.isdir(path):
        return read_idx_folder(path)
    if os.path.isfile(path):
        return read_npz(path)
    raise FileNotFoundError(f"data {path!r} does not exist (expected a folder of IDX files or "
                            f"a .npz file)")


def read_idx_folder(directory):
    """The MNIST file names; the t10k files (the test set) may be left out altogether."""
    x, y = load_split(directory, "train")
    pairs = [(x, y, f"{directory} (train)")]
    if has_split(directory, "test"):
        x_test, y_test = load_split(directory, "test")
        pairs.append((x_test, y_test, f"{directory} (t10k)"))
    return _checked(pairs)


def read_npz(path):
    """x_train, y_train and optionally x_test, y_test; any other array is an error (a typo)."""
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path}: not a readable .npz file ({exc})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{path}: expected a .npz archive with x_train and y_train, "
                         f"got a single .npy array")
    with archive:
        names = set(archive.files)
        missing = [k for k in NPZ_REQUIRED if k not in names]
        extra = sorted(names - set(NPZ_REQUIRED + NPZ_OPTIONAL))
        if missing or extra:
            found = ", ".join(sorted(names)) or "none"
            raise ValueError(f"{path}: expected arrays x_train, y_train and optionally x_test, "
                             f"y_test; {_listing('missing', missing)}"
                             f"{_listing('unexpected', extra)}found {found}")
        if ("x_test" in names) != ("y_test" in names):
            has, lacks = ("x_test", "y_test") if "x_test" in names else ("y_test", "x_test")
            raise ValueError(f"{path}: has {has} but not {lacks}; a test set needs both")
        splits = [("train", f"{path} (x_train, y_train)")]
        if "x_test" in names:
            splits.append(("test", f"{path} (x_test, y_test)"))
        pairs = [(_array(archive, path, f"x_{s}"), _array(archive, path, f"y_{s}"), where)
                 for s, where in splits]
    return _checked(pairs)


def as_nhwc(images, what):
    """uint8 (N, H, W) or (N, H, W, C) images as (N, H, W, C); a ValueError for anything else."""
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim not in (3, 4):
        hint = " (scale to 0..255 and convert with .astype(np.uint8))" \
            if images.dtype.kind == "f" else ""
        raise ValueError(f"{what}: expected uint8 images of shape (N, H, W) or (N, H, W, C), got "
                         f"{images.dtype} of shape {images.shape}{hint}")
    if min(images.shape[1:]) < 1:
        raise ValueError(f"{what}: images of shape {images.shape[1:]} hold no pixel")
    return images[..., None] if images.ndim == 3 else images


def _checked(pairs):
    """(x_train, y_train, x_test, y_test) from [(images, labels, where)], shapes checked."""
    out = []
    for images, labels, where in pairs:
        images = as_nhwc(images, where)
        out += [images, check_label_array(labels, len(images), where)]
    if len(out) == 2:
        return out[0], out[1], None, None
    if out[0].shape[1:] != out[2].shape[1:]:
        raise ValueError(f"training images are {_hwc(out[0])} but test images {_hwc(out[2])} "
                         f"({pairs[1][2]}); both splits need the same image shape")
    return tuple(out)


def _array(archive, path, name):
    try:
        return archive[name]
    except ValueError as exc:  # an object array, which allow_pickle=False refuses
        raise ValueError(f"{path}: array {name} is not a plain numeric array ({exc})") from None


def _listing(label, names):
    return f"{label} {', '.join(names)}; " if names else ""


def _hwc(images):
    return "x".join(map(str, images.shape[1:]))
