"""pybnn.convert on Keras files written with h5py alone: folding rules (sign(0),
ties, input scale), and a clear error for every construct with no .bnn
equivalent, naming the layer, its class and the option."""
import pathlib
import zipfile

import numpy as np
import pytest

from pybnn.cli import main
from pybnn.convert import convert_keras, from_keras

from keras_h5_factory import bn, layer, quant, sequential, write_model

DATA = pathlib.Path(__file__).parent / "data" / "larq"
RESCALE = layer("Rescaling", "rescaling", scale=1 / 255.0, offset=0.0)


def base_layers():
    """A valid model: conv (first) - BN - conv - BN - flatten - dense - BN."""
    return [RESCALE,
            quant("QuantConv2D", "c1", 4, iq=None), bn("bn1"),
            quant("QuantConv2D", "c2", 5), bn("bn2"),
            layer("Flatten", "flat"),
            quant("QuantDense", "d", 3), bn("bn3")]


def convert(tmp_path, layers, input_shape=(8, 8, 1), **kw):
    return convert_keras(sequential(tmp_path / "m.h5", input_shape, layers), **kw)


def replace(layers, name, new):
    return [new if e["config"]["name"] == name else e for e in layers]


def test_base_model_converts(tmp_path):
    spec = convert(tmp_path, base_layers()).spec
    kinds = [type(x).__name__ for x in spec.layers]
    # the sign before Flatten: C thresholds, not H*W*C
    assert kinds == ["FirstConv", "Threshold", "Conv", "Threshold", "Flatten", "Dense", "Affine"]


def test_sign_of_zero_weights_is_plus_one(tmp_path):
    w = np.array([[0.0, -0.0, -1e-30, 2.0]], np.float32).T  # (F=4, units=1)
    layers = [layer("Rescaling", "r", scale=1.0, offset=0.0), quant("QuantDense", "d", 1, iq=None)]
    path = sequential(tmp_path / "m.h5", (4,), layers, weights={"d": {"kernel": w}})
    spec = from_keras(path)
    assert spec.layers[0].weights.tolist() == [[1, 1, -1, 1]]  # larq: sign(0) = sign(-0.0) = +1


@pytest.mark.parametrize("gamma,flip", [(1.0, False), (-1.0, True)])
def test_exact_tie_goes_to_plus_one(tmp_path, gamma, flip):
    # y = gamma * (s - 3) / sqrt(0.75 + 0.25): exactly 0 at s = 3, where larq's sign is +1.
    layers = [layer("Rescaling", "r", scale=1.0, offset=0.0), quant("QuantDense", "d1", 2, iq=None),
              dict(bn("bn"), config=dict(bn("bn")["config"], epsilon=0.25)),
              quant("QuantDense", "d2", 1)]
    weights = {"d1": {"kernel": np.ones((4, 2))}, "d2": {"kernel": np.ones((2, 1))},
               "bn": {"gamma": [gamma] * 2, "beta": [0, 0], "moving_mean": [3, 3],
                      "moving_variance": [0.75, 0.75]}}
    spec = from_keras(sequential(tmp_path / "m.h5", (4,), layers, weights=weights))
    t = spec.layers[1]
    assert t.thresholds.tolist() == [3, 3] and t.flip.tolist() == [flip, flip]


def test_batchnorm_after_flatten_is_per_feature(tmp_path):
    # conv - Flatten - BN (one statistic per flattened feature) - sign: thresholds after Flatten
    layers = base_layers()[:4] + [layer("Flatten", "flat"), bn("bn_flat"), quant("QuantDense", "d", 3)]
    rng = np.random.default_rng(5)
    path = sequential(tmp_path / "m.h5", (8, 8, 1), layers)
    import h5py
    with h5py.File(path, "a") as f:
        for role in ("gamma", "beta", "moving_mean", "moving_variance"):
            ds = f[f"model_weights/bn_flat/bn_flat/{role}:0"]
            ds[...] = rng.uniform(-20, 20, ds.shape) if role == "moving_mean" else rng.uniform(0.5, 2, ds.shape)
    spec = from_keras(path)
    kinds = [type(x).__name__ for x in spec.layers]
    assert kinds == ["FirstConv", "Threshold", "Conv", "Flatten", "Threshold", "Dense", "Affine"]
    t = spec.layers[4].thresholds.reshape(16, 5)  # (h*w, c)
    assert not np.all(t == t[0])  # per feature, not the channels' thresholds repeated


def test_input_scale_and_rescaling_agree(tmp_path):
    layers = base_layers()
    a = convert(tmp_path, [layer("Rescaling", "r", scale=0.5, offset=-1.0)] + layers[1:]).spec
    b = convert(tmp_path, layers[1:], input_scale=0.5, input_offset=-1.0).spec
    c = convert(tmp_path, [layer("Rescaling", "r", scale=0.25, offset=-1.0)] + layers[1:],
                input_scale=2.0, input_offset=0.0).spec
    for x, y in ((a, b), (a, c)):
        assert np.array_equal(x.layers[1].thresholds, y.layers[1].thresholds)


@pytest.mark.parametrize("scale,offset", [(0.0, 0.0), (float("nan"), 0.0), (1.0, float("inf"))])
def test_bad_input_scale_is_refused(tmp_path, scale, offset):
    with pytest.raises(ValueError, match="finite, nonzero scale"):
        convert(tmp_path, base_layers()[1:], input_scale=scale, input_offset=offset)


def test_magnitude_aware_scale_is_folded(tmp_path):
    layers = [layer("Rescaling", "r", scale=1.0, offset=0.0), quant("QuantDense", "d1", 2, iq=None),
              quant("QuantDense", "d2", 2, kq={"class_name": "MagnitudeAwareSign", "config": {}})]
    k2 = np.array([[0.5, -3.0], [-1.5, 1.0]])
    path = sequential(tmp_path / "m.h5", (3,), layers,
                      weights={"d1": {"kernel": np.ones((3, 2))}, "d2": {"kernel": k2}})
    affine = from_keras(path).layers[-1]
    np.testing.assert_allclose(affine.scale, [1.0, 2.0])  # mean |w| per output channel


ERRORS = [
    # (what to change in base_layers(), the words the error must contain)
    ("c2", quant("QuantConv2D", "c2", 5, kq={"class_name": "SteTern", "config": {}}),
     ["'c2' (QuantConv2D)", "kernel_quantizer=SteTern", "ternary"]),
    ("c2", quant("QuantConv2D", "c2", 5, iq="ste_heaviside"),
     ["'c2' (QuantConv2D)", "input_quantizer=ste_heaviside", "0/1"]),
    ("c2", quant("QuantConv2D", "c2", 5, kq={"class_name": "DoReFaQuantizer", "config": {}}),
     ["'c2' (QuantConv2D)", "kernel_quantizer=DoReFaQuantizer", "k-bit"]),
    ("c2", quant("QuantConv2D", "c2", 5, iq="magnitude_aware_sign"),
     ["'c2' (QuantConv2D)", "input_quantizer=magnitude_aware_sign"]),
    ("d", quant("QuantDense", "d", 3, kq=None),
     ["'d' (QuantDense)", "kernel_quantizer=None", "real-valued weights"]),
    ("c2", quant("QuantDepthwiseConv2D", "c2", 5),
     ["'c2' (QuantDepthwiseConv2D)", "depthwise"]),
    ("c2", quant("QuantConv2D", "c2", 5, groups=2), ["'c2' (QuantConv2D)", "groups=2"]),
    ("c2", quant("QuantConv2D", "c2", 5, dilation_rate=[2, 2]),
     ["'c2' (QuantConv2D)", "dilation_rate=[2, 2]"]),
    ("c2", quant("QuantConv2D", "c2", 5, data_format="channels_first"),
     ["'c2' (QuantConv2D)", "data_format='channels_first'"]),
    ("c2", quant("QuantConv2D", "c2", 5, padding="same", pad_values=0.5),
     ["'c2' (QuantConv2D)", "pad_values=0.5"]),
    ("c2", quant("QuantConv2D", "c2", 5, activation="relu"),
     ["'c2' (QuantConv2D)", "activation='relu'"]),
    ("c2", quant("QuantConv2D", "c2", 5, iq=None),
     ["'c2' (QuantConv2D)", "input_quantizer=None", "not binarized"]),
    ("c1", quant("QuantConv2D", "c1", 4),
     ["'c1' (QuantConv2D)", "input_quantizer=SteSign", "first layer"]),
    ("c1", quant("QuantConv2D", "c1", 4, iq=None, padding="same", pad_values=1.0),
     ["'c1' (QuantConv2D)", "pad_values=1", "pixel 0 is 0"]),
    ("bn1", layer("Activation", "act", activation="relu"), ["'act' (Activation)", "activation='relu'"]),
    ("bn1", layer("Activation", "act", activation="softmax"), ["'act' (Activation)", "softmax"]),
    ("bn1", layer("AveragePooling2D", "avg", pool_size=[2, 2]), ["'avg' (AveragePooling2D)", "average pooling"]),
    ("flat", layer("GlobalAveragePooling2D", "gap"), ["'gap' (GlobalAveragePooling2D)", "average pooling"]),
    ("bn1", layer("LayerNormalization", "ln"), ["'ln' (LayerNormalization)"]),
    ("bn1", layer("MaxPooling2D", "pool", pool_size=[2, 2], strides=[2, 2], padding="same"),
     ["'pool' (MaxPooling2D)", "padding='same'"]),
    ("bn1", dict(bn("bn1"), config=dict(bn("bn1")["config"], axis=[1])),
     ["'bn1' (BatchNormalization)", "axis=[1]"]),
    ("rescaling", layer("Rescaling", "rescaling", scale=[0.1, 0.2], offset=0.0),
     ["'rescaling' (Rescaling)", "per-tensor"]),
    ("rescaling", layer("Dropout", "drop", rate=0.1),
     ["'c1' (QuantConv2D)", "unknown scale", "input_scale="]),
    ("rescaling", {"class_name": "Sequential", "config": {"name": "inner", "layers": []}},
     ["'inner' (Sequential)", "nested"]),
    ("bn3", layer("Reshape", "rs", target_shape=[3]), ["'rs' (Reshape)", "Flatten"]),
]


@pytest.mark.parametrize("name,new,words", ERRORS, ids=[w[0] for _, _, w in ERRORS])
def test_unsupported_construct_is_named(tmp_path, name, new, words):
    with pytest.raises(ValueError) as err:
        convert(tmp_path, replace(base_layers(), name, new))
    for w in words:
        assert w in str(err.value)


def test_batchnorm_after_sign_is_refused(tmp_path):
    layers = base_layers()
    layers.insert(3, layer("SteSign", "sign"))  # c1 - bn1 - sign - BN
    layers.insert(4, bn("bn_extra"))
    with pytest.raises(ValueError, match=r"'bn_extra' \(BatchNormalization\): batch-norm after a sign"):
        convert(tmp_path, layers)


def test_model_ending_with_signs_is_refused(tmp_path):
    layers = base_layers() + [layer("SteSign", "sign")]
    with pytest.raises(ValueError, match="must end with a binary QuantDense"):
        convert(tmp_path, layers)


def test_ternary_quantizer_layer_is_refused(tmp_path):
    layers = base_layers()
    layers.insert(3, layer("SteTern", "tern"))
    with pytest.raises(ValueError, match=r"'tern' \(SteTern\).*ternary"):
        convert(tmp_path, layers)


def _functional(path, extra_merge):
    """input -> rescale -> c1 -> bn1 -> [Add(bn1, c2 out) when extra_merge] -> flat -> d."""
    def node(name, cls, cfg, sources):
        return {"name": name, "class_name": cls, "config": dict(cfg, name=name),
                "inbound_nodes": [[[s, 0, 0, {}] for s in sources]] if sources else []}
    layers = [node("in", "InputLayer", {"batch_input_shape": [None, 8, 8, 1]}, []),
              node("r", "Rescaling", {"scale": 1 / 255, "offset": 0.0}, ["in"]),
              node("c1", "QuantConv2D", quant("QuantConv2D", "c1", 4, iq=None, padding="same")["config"], ["r"]),
              node("c2", "QuantConv2D", quant("QuantConv2D", "c2", 4, padding="same")["config"], ["c1"])]
    last = "c2"
    if extra_merge:
        layers.append(node("add", extra_merge, {}, ["c1", "c2"]))
        last = "add"
    layers += [node("flat", "Flatten", {}, [last]),
               node("d", "QuantDense", quant("QuantDense", "d", 3)["config"], ["flat"])]
    config = {"class_name": "Functional", "config": {"name": "f", "layers": layers,
                                                     "input_layers": [["in", 0, 0]],
                                                     "output_layers": [["d", 0, 0]]}}
    rng = np.random.default_rng(1)
    write_model(path, config, {"c1": {"kernel": rng.normal(size=(3, 3, 1, 4))},
                               "c2": {"kernel": rng.normal(size=(3, 3, 4, 4))},
                               "d": {"kernel": rng.normal(size=(256, 3))}})
    return str(path)


def test_linear_functional_converts(tmp_path):
    spec = from_keras(_functional(tmp_path / "f.h5", None))
    assert [type(x).__name__ for x in spec.layers] == ["FirstConv", "Threshold", "Conv", "Threshold",
                                                       "Flatten", "Dense", "Affine"]


@pytest.mark.parametrize("merge,words", [("Add", "residual shortcuts"), ("Concatenate", "concatenations")])
def test_shortcuts_are_refused(tmp_path, merge, words):
    with pytest.raises(ValueError, match=rf"'add' \({merge}\) has 2 inputs: .*{words}"):
        from_keras(_functional(tmp_path / "f.h5", merge))


def test_not_a_keras_file(tmp_path):
    p = tmp_path / "x.h5"
    p.write_bytes(b"hello")
    with pytest.raises(ValueError, match="not a Keras model"):
        from_keras(p)
    z = tmp_path / "x.keras"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("other.txt", "x")
    with pytest.raises(ValueError, match="without config.json"):
        from_keras(z)


def test_truncated_files_are_refused(tmp_path):
    for name in ("conv_same.h5", "conv_same.keras"):
        data = (DATA / name).read_bytes()
        p = tmp_path / name
        p.write_bytes(data[:len(data) // 2])
        with pytest.raises(ValueError, match=rf"{name}: "):
            from_keras(p)


def test_weights_only_h5_is_refused(tmp_path):
    import h5py
    p = tmp_path / "w.h5"
    with h5py.File(p, "w") as f:
        f.create_group("quant_dense")
    with pytest.raises(ValueError, match="model_config"):
        from_keras(p)


def test_subclassed_model_is_refused(tmp_path):
    p = tmp_path / "s.h5"
    write_model(p, {"class_name": "MyNet", "config": {}}, {})
    with pytest.raises(ValueError, match="MyNet.*Sequential or functional"):
        from_keras(p)


def test_cli_convert_prints_summary(tmp_path, capsys):
    src = sequential(tmp_path / "m.h5", (8, 8, 1), base_layers() + [layer("Activation", "sm", activation="softmax")])
    out = tmp_path / "m.bnn"
    assert main(["convert", src, "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "trailing softmax is dropped" in text and "first_conv" in text and out.exists()


def test_cli_convert_error_is_one_line(tmp_path, capsys):
    src = sequential(tmp_path / "m.h5", (8, 8, 1), base_layers()[1:])
    assert main(["convert", src, "-o", str(tmp_path / "m.bnn")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "pybnn convert: error:" in err and "--input-scale" in err
    with pytest.raises(SystemExit) as exit_info:
        main(["convert", src])  # no -o
    assert exit_info.value.code == 2
