"""A dataset ready to train on: read, checked, split for validation, shaped for a preset.

The defaults fit the data: the validation split is the last 1/6 of the
training images, at most 10,000 (MNIST's 10,000 of 60,000, the original
code's 50,000 / 10,000 split), and the number of classes is the labels'.
"""
from dataclasses import dataclass

import numpy as np

from .labels import check_in_range, count_classes, missing_classes, ranges
from .sources import read_source

VAL_FRACTION = 6  # the default validation split is 1/VAL_FRACTION of the training images...
VAL_MAX = 10000   # ...and at most this many


def default_val(n_images):
    """The default validation split for `n_images` training images."""
    return min(n_images // VAL_FRACTION, VAL_MAX)


@dataclass
class Dataset:
    """Inputs shaped for the model (flat for 'mlp', (N, H, W, C) for 'conv'), uint8.

    x_test and y_test are None when the source has no test set.
    """
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    image_shape: tuple  # (H, W, C) of the images, whatever shape the model gets
    classes: int
    source: str
    val_default: bool  # the split is the default one (the summary says so)
    n_source: int  # training images in the source, before the split and --train-limit

    def summary(self):
        """One line: what was read and how it was split."""
        h, w, c = self.image_shape
        test = (f"{len(self.x_test)} test images" if self.x_test is not None
                else "no test set (the final figure is the validation error)")
        rule = (f" (the default: 1/{VAL_FRACTION} of the training images, at most {VAL_MAX})"
                if self.val_default else "")
        limit = len(self.x_train) + len(self.x_val) < self.n_source
        kept = " (--train-limit)" if limit else ""
        return (f"data: {self.n_source} training images of {h}x{w}x{c}, {self.classes} classes, "
                f"{test}, from {self.source}; split {len(self.x_train)} train{kept} / "
                f"{len(self.x_val)} validation{rule}")


def load_dataset(path, model_kind, val=None, train_limit=None):
    """The Dataset of `path` (an IDX folder or a .npz file) for `model_kind` ('mlp' or 'conv').

    The validation split is the last `val` training images (None: default_val);
    `train_limit` keeps only the first images of the remaining training set
    (quick runs). Labels must be 0..K-1 with every class in the training part.
    """
    x, y, x_test, y_test = read_source(path)
    classes = count_classes(y)
    if y_test is not None:
        check_in_range(y_test, classes, "test labels")
    val_default = val is None
    if val_default:
        val = default_val(len(x))
    if not 0 <= val < len(x):
        raise ValueError(f"--val must be in [0, {len(x) - 1}] for {len(x)} training images, "
                         f"got {val}")
    split = len(x) - val
    x_train, y_train, x_val, y_val = x[:split], y[:split], x[split:], y[split:]
    if train_limit is not None:
        if train_limit < 1:
            raise ValueError(f"--train-limit must be >= 1, got {train_limit}")
        x_train, y_train = x_train[:train_limit], y_train[:train_limit]
    gone = missing_classes(y_train, classes)
    if gone.size:
        cut = f"the last {val} images for validation" + (
            f" and --train-limit {train_limit}" if train_limit is not None else "")
        raise ValueError(f"after taking {cut}, no training image is left with label "
                         f"{ranges(gone)}; are the images sorted by label? Shuffle them "
                         f"(one permutation for images and labels) or change the split")
    return Dataset(shape_for(x_train, model_kind), y_train, shape_for(x_val, model_kind), y_val,
                   None if x_test is None else shape_for(x_test, model_kind), y_test,
                   x.shape[1:], classes, str(path), val_default, len(x))


def shape_for(images, model_kind):
    """(N, H, W, C) uint8 images as the model's input: flat in NHWC order for 'mlp', as the
    engine flattens; unchanged for 'conv'."""
    if model_kind == "mlp":
        return np.ascontiguousarray(images.reshape(len(images), int(np.prod(images.shape[1:]))))
    return np.ascontiguousarray(images)
