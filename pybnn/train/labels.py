"""Class labels: integers 0..K-1, K taken from the training labels, every class present.

A gap in the labels (classes numbered 1..10, a class with no training image)
would train an output that never wins and report a class count that is not
the data's, so it is an error that names the classes concerned.
"""
import numpy as np


def check_label_array(labels, n, name):
    """`labels` as an int64 (n,) array, or a ValueError naming what `name` holds instead.

    (n, 1) is taken as (n,): Keras' CIFAR-10 labels come that way.
    """
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.dtype.kind not in "iu" or labels.ndim != 1:
        raise ValueError(f"{name}: expected integer labels of shape ({n},), "
                         f"got {labels.dtype} of shape {labels.shape}")
    if len(labels) != n:
        raise ValueError(f"{name}: {len(labels)} labels for {n} images")
    return labels.astype(np.int64)


def count_classes(y_train, what="training labels"):
    """K for training labels that are exactly the integers 0..K-1 (each at least once), K >= 2."""
    if len(y_train) == 0:
        raise ValueError(f"{what}: no labels")
    low, high = int(y_train.min()), int(y_train.max())
    if low < 0:
        raise ValueError(f"{what} must be integers 0..K-1, found negative labels "
                         f"{ranges(np.unique(y_train[y_train < 0]))}")
    missing = missing_classes(y_train, high + 1)
    if missing.size:
        hint = "; number the classes from 0" if missing.size == low else ""
        raise ValueError(f"{what} must be integers 0..K-1 with every class present: they run "
                         f"{low}..{high} but no image has label {ranges(missing)}{hint}")
    if high < 1:
        raise ValueError(f"{what}: every label is 0; training needs at least 2 classes")
    return high + 1


def check_in_range(labels, classes, what, of="the training labels"):
    """A ValueError naming the labels of `labels` outside 0..classes-1, if any."""
    bad = labels[(labels < 0) | (labels >= classes)]
    if bad.size:
        raise ValueError(f"{what} must be 0..{classes - 1} (the {classes} classes of {of}), "
                         f"found {ranges(np.unique(bad))}")


def missing_classes(labels, classes):
    """The classes of 0..classes-1 that no label names, ascending."""
    return np.flatnonzero(np.bincount(labels, minlength=classes)[:classes] == 0)


def ranges(values, limit=8):
    """Sorted distinct integers as text, runs collapsed: [0, 3, 4, 5, 9] -> '0, 3..5, 9'."""
    runs, start = [], None
    values = [int(v) for v in values]
    for i, v in enumerate(values):
        if start is None:
            start = v
        if i + 1 == len(values) or values[i + 1] != v + 1:
            runs.append(str(start) if start == v else f"{start}..{v}")
            start = None
    more = f" and {len(runs) - limit} more" if len(runs) > limit else ""
    return ", ".join(runs[:limit]) + more
