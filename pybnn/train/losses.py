"""Losses on the network's real-valued outputs (N, classes): value and gradient.

squared_hinge is the paper's: mean over samples and classes of
max(0, 1 - t * y)^2 with targets t = +1 for the true class, -1 for the others.
cross_entropy is softmax cross-entropy, averaged over samples.
"""
import numpy as np


def squared_hinge(out, labels):
    """(loss, d loss / d out) of the squared hinge loss against integer `labels`."""
    t = np.full(out.shape, -1.0, np.float32)
    t[np.arange(len(labels)), labels] = 1.0
    margin = np.maximum(np.float32(0), np.float32(1) - t * out)
    loss = float(np.mean(margin * margin, dtype=np.float64))
    grad = (np.float32(-2.0 / out.size) * t * margin).astype(np.float32)
    return loss, grad


def cross_entropy(out, labels):
    """(loss, d loss / d out) of softmax cross-entropy against integer `labels`."""
    z = out - out.max(axis=1, keepdims=True)
    logsum = np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    logp = z - logsum
    rows = np.arange(len(labels))
    loss = float(-np.mean(logp[rows, labels], dtype=np.float64))
    grad = np.exp(logp)
    grad[rows, labels] -= 1.0
    return loss, (grad / np.float32(len(labels))).astype(np.float32)


LOSSES = {"squared_hinge": squared_hinge, "cross_entropy": cross_entropy}


def get_loss(name):
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; expected one of {sorted(LOSSES)}")
    return LOSSES[name]
