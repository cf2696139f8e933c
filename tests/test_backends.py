"""The backend seam (pybnn/backends/): the graph the C reader yields for every
backend, the registry, pybnn.load's backend and device arguments, and the
newcomer papercuts of the layout issue."""
import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest

import pybnn
from pybnn import backends
from pybnn.backends.graph import read_graph
from pybnn.backends.source import ModelSource
from pybnn.format import layers as L
from pybnn.format import to_bytes
from pybnn.format.bitrows import pack_rows
from pybnn.format.shapes import layer_shapes
from pybnn.errors import FormatError

from model_factory import CONFIGS, named_model

ROOT = pathlib.Path(__file__).resolve().parent.parent


def expected_tensors(layer):
    """A spec layer's tensors as the file holds them."""
    if isinstance(layer, (L.FirstDense, L.Dense, L.FirstConv, L.Conv)):
        return {"weights": pack_rows(layer.weights)}
    if isinstance(layer, L.Threshold):
        return {"thresholds": layer.thresholds, "flip": layer.flip.astype(np.uint8)}
    if isinstance(layer, L.Affine):
        return {"scale": layer.scale, "bias": layer.bias}
    return {}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_graph_from_the_c_reader_matches_the_spec(name):
    spec = named_model(name)
    graph = read_graph(to_bytes(spec))
    assert graph.input_shape == tuple(spec.input_shape)
    assert graph.input_size == int(np.prod(spec.input_shape))
    shapes = layer_shapes(spec)
    assert graph.num_classes == shapes[-1].out_shape[-1]
    assert len(graph.layers) == len(spec.layers)
    for layer, gl, ls in zip(spec.layers, graph.layers, shapes):
        assert gl.kind == ls.kind
        assert (gl.in_shape, gl.out_shape) == (tuple(ls.in_shape), tuple(ls.out_shape))
        if ls.kind in ("conv", "first_conv", "dense", "first_dense"):
            assert gl.units == layer.weights.shape[0] and gl.k == ls.k
        if ls.kind in ("conv", "first_conv"):
            assert gl.kernel == layer.weights.shape[1:3] and gl.stride == tuple(layer.stride)
            assert gl.padding == layer.padding
            assert gl.pad_value == getattr(layer, "pad_value", "one")
        want = expected_tensors(layer)
        assert set(gl.tensors) == set(want)
        for key, value in want.items():
            got = gl.tensors[key]
            assert not got.flags.writeable
            np.testing.assert_array_equal(got, value)
            assert got.dtype == np.asarray(value).dtype or key == "weights"


def test_graph_domains_and_same_padding_offsets():
    graph = read_graph(to_bytes(named_model("conv_same_zero_s2")))
    domains = [(gl.in_domain, gl.out_domain) for gl in graph.layers]
    assert domains[0] == ("u8", "int") and domains[-1] == ("int", "scores")
    conv = next(gl for gl in graph.layers if gl.kind == "conv")
    # 'same' with stride 2 on (H, W) = (5, 4) and a 3x3 kernel (TensorFlow's rule):
    h, w = conv.in_shape[:2]
    total_h = max((-(-h // 2) - 1) * 2 + 3 - h, 0)
    total_w = max((-(-w // 2) - 1) * 2 + 3 - w, 0)
    assert conv.pad == (total_h // 2, total_w // 2)


def test_graph_refuses_what_the_c_reader_refuses():
    data = bytearray(to_bytes(named_model("dense_tiny")))
    data[8] = 2  # version
    with pytest.raises(FormatError, match="version"):
        read_graph(bytes(data))


def test_unknown_backend_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"backend: expected one of 'cpu'.*got 'tpu'"):
        pybnn.load(to_bytes(named_model("dense_tiny")), backend="tpu")
    assert "cpu" in backends.names()


def test_cpu_backend_says_what_runs_and_refuses_other_devices():
    data = to_bytes(named_model("dense_tiny"))
    model = pybnn.load(data)
    assert model.backend == "cpu"
    assert pybnn.kernel_info()["isa"] in model.device
    assert "on cpu" in repr(model)
    with pytest.raises(ValueError, match="device"):
        pybnn.load(data, device="gpu")


def test_model_source_refuses_a_fifo_without_blocking(tmp_path):
    fifo = tmp_path / "model.bnn"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="not a regular file"):
        ModelSource(fifo).data


def test_importing_from_the_source_tree_says_what_to_do(tmp_path):
    """Papercut: `python -c "import pybnn"` in a checkout finds the sources, where
    the compiled core is not built."""
    checkout = tmp_path / "checkout"
    shutil.copytree(ROOT / "pybnn", checkout / "pybnn",
                    ignore=shutil.ignore_patterns("_core*.so", "_core*.pyd", "__pycache__"))
    (checkout / "src").mkdir()
    shutil.copy(ROOT / "src" / "bnn.h", checkout / "src" / "bnn.h")
    shutil.copy(ROOT / "setup.py", checkout / "setup.py")
    run = subprocess.run([sys.executable, "-c", "import pybnn"], cwd=checkout,
                         capture_output=True, text=True)
    assert run.returncode != 0
    assert "imported from its source tree" in run.stderr
    assert "Run Python from another folder" in run.stderr


def test_bench_models_child_runs_from_the_repository_root(tmp_path):
    """Papercut: scripts/bench_models.py, run from the repository root as the
    README shows, starts `python -m pybnn bench`, which must not import the
    source tree."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import bench_models
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        bench_models.report_bench_rss(named_model("dense_words"))
    finally:
        os.chdir(cwd)



def test_bench_models_scaling_is_a_median_of_paired_rounds(monkeypatch):
    """Thread scaling is timed in rounds that run both thread counts back to
    back (scripts/bench_models.py): the ratio is the median of the rounds'
    ratios, so one disturbed round does not decide it. A fake clock that each
    run advances by its cost makes the figures exact."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import bench_models
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    state = {"now": 0.0, "round": 0, "last": None}

    def run(threads):
        if threads == 1 and state["last"] == 2:
            state["round"] += 1
        state["last"] = threads
        disturbed = threads == 1 and state["round"] == 3
        state["now"] += 0.05 if disturbed else (0.010 if threads == 1 else 0.006)

    monkeypatch.setattr(bench_models, "CLOCK", lambda: state["now"])
    ratio, best = bench_models.interleaved_scaling(run, 1, 2, 7)
    assert state["round"] == 6  # 7 rounds, each 1 thread then 2
    assert ratio == pytest.approx(0.6)
    assert best == pytest.approx(0.6)


def test_bench_models_says_what_the_int8_bar_asks(capsys):
    """Beside the ratio to ONNX Runtime's int8 ConvNet, bench_models.py says
    how close to its own ceiling ORT ran and so what pybnn's ceiling would
    have to give for 3x: ORT at 150 G int8-MAC/s on a 200 G int8 ceiling is
    75%; 3x that against an 800 G binary ceiling is 56%."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import bench_models
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    macs = 600e6
    conv = {(1, 1): {"pybnn": (macs / 600e9, 0), "ORT int8": (macs / 150e9, 0)}}
    bench_models.bars("avx2", {}, conv, 1, (800e9, 200e9, macs))
    out = capsys.readouterr().out
    assert "ConvNet vs ORT int8, batch 1, 1 thread: 4.000x (need >= 3x): PASS" in out
    assert ("ORT int8 ran at 75% of this core's int8 ceiling; 3x it needs pybnn at 56% of the binary "
            "ceiling, which is 4.00x the int8 one; pybnn ran at 75%") in out
