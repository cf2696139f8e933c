"""Compare a converted larq fixture with larq's own outputs (saved by
scripts/make_larq_fixtures.py): predictions, scores and hidden signs."""
import json
import os

import numpy as np

import pybnn
from pybnn.cli import main
from pybnn.convert import convert_keras
from pybnn.reference import run_reference_layers

# larq's logits are float32 sums of float32 products; the .bnn affine is one float32
# multiply-add on an exact integer: they agree to a few float32 ulps of the largest score.
LOGIT_RTOL = 1e-5
# A hidden value larq takes the sign of is "at the threshold" when it is this close to
# 0, relative to the layer's largest |value|: float32 rounding of the sums and of the
# batch-norm (eps 2^-23) with generous room for accumulation.
NEAR_TIE_RTOL = 2.0 ** -16


def fixture_names(directory):
    with open(os.path.join(directory, "manifest.json")) as f:
        return json.load(f)


def compare(directory, name, ext, opts, tmp_path):
    """A dict of figures; asserts predictions, scores and hidden signs (see module doc)."""
    data = np.load(os.path.join(directory, name + ".npz"))
    src = os.path.join(directory, name + ext)
    out = str(tmp_path / f"{name}{ext}.bnn")
    argv = ["convert", src, "-o", out]
    for key, flag in (("input_scale", "--input-scale"), ("input_offset", "--input-offset")):
        if key in opts:
            argv += [flag, repr(opts[key])]
    assert main(argv) == 0
    conv = convert_keras(src, opts.get("input_scale"), opts.get("input_offset"))
    x, logits = data["x"], data["logits"]
    larq_pred = data["probs"].argmax(axis=1)

    scores = pybnn.load(out).run(x)  # the compiled engine on the written file
    assert np.array_equal(scores.argmax(axis=1), larq_pred), f"{name}{ext}: predictions differ"
    tol = LOGIT_RTOL * max(1.0, float(np.abs(logits).max()))
    np.testing.assert_allclose(scores, logits, rtol=0, atol=tol)

    layers = run_reference_layers(conv.spec, x)
    assert np.array_equal(layers[-1], scores)
    sign_keys = {k for k in data.files if k.startswith("sign_in:")}
    assert {f"sign_in:{n}" for n, _ in conv.sign_points} == sign_keys
    mismatches = near_ties = exact_ties = 0
    for lname, index in conv.sign_points:
        value = data[f"sign_in:{lname}"]
        ours = layers[index]
        value = value.reshape(ours.shape)
        larq_sign = np.where(value >= 0, 1, -1)  # larq: sign(0) = sign(-0.0) = +1
        bad = larq_sign != ours
        near = np.abs(value) <= NEAR_TIE_RTOL * np.abs(value).max()
        assert not np.any(bad & ~near), (f"{name}{ext}: {int((bad & ~near).sum())} hidden signs "
                                         f"differ at {lname} away from the threshold")
        mismatches += int(bad.sum())
        near_ties += int(near.sum())
        exact_ties += int((value == 0).sum())
    return dict(samples=len(x), signs=len(conv.sign_points), mismatches=mismatches,
                near_ties=near_ties, exact_ties=exact_ties)
