"""Population batch-norm statistics (Network.set_population_statistics and `--bn-stats`)."""
import numpy as np
import pytest

from pybnn.train.binarize import ap2
from pybnn.train.export import INPUT_SCALE
from pybnn.train.layers_norm import BatchNorm

from test_train_export import check_exact
from train_factory import conv_net, dense_net, random_input, randomize


def bn_inputs(model, x):
    """The input of every batch-norm layer, by index, under the evaluation-mode float forward."""
    out, a = {}, x.astype(np.float64) * INPUT_SCALE
    for i, layer in enumerate(model.layers):
        if isinstance(layer, BatchNorm):
            out[i] = a.reshape(-1, a.shape[-1])
        a = layer.forward(a.astype(np.float32), False, None).astype(np.float64)
    return out


@pytest.mark.parametrize("make", [dense_net, conv_net])
@pytest.mark.parametrize("shift_bn", [False, True])
def test_statistics_are_those_of_each_batchnorm_input(make, shift_bn):
    model = randomize(make(shift_bn=shift_bn), random_input(make(), 40, seed=3))
    x = random_input(model, 57, seed=4)
    model.set_population_statistics(x, batch=10)  # chunks that do not divide the sample count
    # the earlier layers' new statistics feed the later layers' inputs: recompute after the fact
    for i, a in bn_inputs(model, x).items():
        layer = model.layers[i]
        mean = a.mean(axis=0)
        c = a - mean
        var = (c * ap2(c.astype(np.float32))).mean(axis=0) if shift_bn else a.var(axis=0)
        np.testing.assert_allclose(layer.running_mean, mean, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(layer.running_var, var, rtol=1e-4, atol=1e-5)


def test_statistics_do_not_depend_on_the_chunk_size():
    x = random_input(conv_net(), 30, seed=5)
    stats = []
    for batch in (1, 7, 1000):
        model = randomize(conv_net(), x)
        model.set_population_statistics(x, batch=batch)
        stats.append([(l.running_mean.copy(), l.running_var.copy())
                      for l in model.layers if isinstance(l, BatchNorm)])
    for other in stats[1:]:
        for (m0, v0), (m1, v1) in zip(stats[0], other):
            np.testing.assert_allclose(m1, m0, rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(v1, v0, rtol=1e-5, atol=1e-6)


def test_export_stays_exact_after_population_statistics(isa):
    model = randomize(conv_net(padding="same", pad_value="one"), random_input(conv_net(), 40))
    before = model.to_spec()
    model.set_population_statistics(random_input(model, 50, seed=6))
    check_exact(model)
    assert not all(np.array_equal(a.thresholds, b.thresholds)
                   for a, b in zip(before.layers, model.to_spec().layers)
                   if hasattr(a, "thresholds")), "the thresholds should have moved"


def test_population_statistics_reject_bad_input():
    model = dense_net()
    with pytest.raises(ValueError, match="at least one sample"):
        model.set_population_statistics(np.zeros((0, 37), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        model.set_population_statistics(np.zeros((5, 37), np.float32))
    with pytest.raises(ValueError, match=r"\(N, 37\)"):
        model.set_population_statistics(np.zeros((5, 36), np.uint8))


@pytest.mark.parametrize("running_val_error, kept", [(1.0, "population statistics"),
                                                     (0.0, "running averages")])
def test_cli_keeps_whichever_statistics_validate_better(running_val_error, kept, capsys):
    from pybnn.cli.train import set_bn_statistics
    from pybnn.train.trainer import History
    model = randomize(dense_net(), random_input(dense_net(), 40, seed=3))
    x, x_val = random_input(model, 60, seed=7), random_input(model, 30, seed=8)
    y_val = np.random.default_rng(9).integers(0, 5, len(x_val))
    assert model.error(x_val, y_val) > 0  # so a 0.0 running error always wins
    before = [(l.running_mean.copy(), l.running_var.copy())
              for l in model.layers if isinstance(l, BatchNorm)]
    set_bn_statistics(model, x, x_val, y_val, History(val_error=[running_val_error]))
    assert f"keeping the {kept}" in capsys.readouterr().out
    after = [(l.running_mean, l.running_var) for l in model.layers if isinstance(l, BatchNorm)]
    same = all(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
               for a, b in zip(before, after))
    assert same == (kept == "running averages")
