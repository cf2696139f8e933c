"""Make the larq fixtures of tests/data/larq/, or train larq models on MNIST.

Needs TensorFlow, tf-keras and larq (pybnn's converter itself needs only
h5py). Pins that worked on Python 3.11 (Debian bookworm, x86-64):

    python3 -m venv /work/venv-tf
    /work/venv-tf/bin/pip install tensorflow-cpu==2.16.2 tf-keras==2.16.0 larq==0.14.0
    # resolved with numpy 1.26.4 and h5py 3.16.0; larq needs Keras 2, hence:
    TF_USE_LEGACY_KERAS=1 (set by this script before TensorFlow is imported)

Fixtures (CI reads them without TensorFlow):

    /work/venv-tf/bin/python scripts/make_larq_fixtures.py [--out tests/data/larq]

writes, for every model in FIXTURES, NAME.h5 (model.save, legacy HDF5),
NAME.keras (the zip of config.json + model.weights.h5) and NAME.npz: the
uint8 inputs `x`, larq's softmax outputs `probs` and pre-softmax `logits`
(Keras forward, inference mode), and for every place where larq takes a sign
of a hidden tensor, that tensor in float32 (`sign_in:LAYER`, LAYER the Keras
layer whose input quantizer, or which as a quantizer layer, takes the sign).
manifest.json says how to convert each (input scale and offset when the
model has no Rescaling layer). Batch-norm statistics are randomised around the
real statistics of the fixture inputs, so that thresholds fall inside the data
and gammas are of both signs; some weights are exactly 0.0 or -0.0 (larq's
sign gives +1 for both). Fixtures are deterministic for a given TF build.

Training (not in CI; slow on a small shared machine, run it niced):

    nice -n 10 /work/venv-tf/bin/python scripts/make_larq_fixtures.py --train \
        --data /work/shared/data/mnist --out /tmp/larq-mnist [--epochs 2 --hidden 4096]

trains the paper's MNIST MLP (784-H-H-H-10) and a BinaryNet-style ConvNet,
evaluates each with Keras on the 10,000 test images, and saves NAME.h5,
NAME.keras, NAME.keras_pred.npy (larq's predicted classes) and NAME.json
(error, times, sizes). Then `--lce` (same --out, --data) adds Keras' logits
and, with larq-compute-engine installed (`pip install larq-compute-engine==0.16.0
tqdm` worked with the pins above), the size and latency of LCE's flatbuffer,
and `--forward` saves NAME.npz in the fixtures' format on the test images
(larq's outputs and every tensor it takes a sign of).
docs/CONVERT.md shows the conversion and the check.
"""
import argparse
import importlib.util
import json
import os
import sys
import time

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # larq needs Keras 2 (tf-keras)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import larq as lq  # noqa: E402

K = tf.keras
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE_INPUTS = 64
SIGN_LIKE = ("ste_sign", "approx_sign", "swish_sign")


def _qconv(filters, kernel, first=False, iq="ste_sign", kq="ste_sign", **kw):
    return lq.layers.QuantConv2D(filters, kernel, input_quantizer=None if first else iq,
                                 kernel_quantizer=kq, kernel_constraint="weight_clip", **kw)


def _qdense(units, first=False, iq="ste_sign", kq="ste_sign", **kw):
    return lq.layers.QuantDense(units, input_quantizer=None if first else iq, kernel_quantizer=kq,
                                kernel_constraint="weight_clip", **kw)


def fixture_dense():
    """An MLP on an affine of uint8 (no Rescaling: --input-scale/--input-offset), all three
    sign-like quantizers, biases, a negative gamma, Dropout."""
    m = K.Sequential([
        K.layers.Flatten(input_shape=(6, 6, 2)),
        _qdense(40, first=True, use_bias=True),
        K.layers.BatchNormalization(),
        K.layers.Dropout(0.3),
        _qdense(70, iq="approx_sign", kq="swish_sign", use_bias=False),
        K.layers.BatchNormalization(center=False),
        _qdense(5, iq="swish_sign", use_bias=True),
        K.layers.BatchNormalization(),
        K.layers.Activation("softmax"),
    ])
    return m, {"input_scale": 0.01, "input_offset": -0.5}


def fixture_conv_same():
    """Rescaling, 'same' convs with pad values 0 and 1, a pool before the batch-norm
    (integer pool), a pool after a batch-norm with negative gammas (before the sign,
    on bits), magnitude_aware_sign with a bias."""
    m = K.Sequential([
        K.layers.Rescaling(1 / 255.0, input_shape=(12, 12, 2)),
        _qconv(8, 3, first=True, padding="same", use_bias=False),
        K.layers.BatchNormalization(scale=False),
        _qconv(9, 3, padding="same", pad_values=1.0, use_bias=False),
        K.layers.MaxPool2D(2),
        K.layers.BatchNormalization(),
        _qconv(12, (3, 2), padding="same", pad_values=0.0, kq=lq.quantizers.MagnitudeAwareSign(),
               use_bias=True),
        K.layers.BatchNormalization(),
        K.layers.MaxPool2D(2),
        K.layers.Flatten(),
        _qdense(10, use_bias=False),
        K.layers.BatchNormalization(),
        K.layers.Activation("softmax"),
    ])
    return m, {}


def fixture_conv_valid():
    """Rescaling with an offset, strided 'valid' convs, a sign as its own layer and a pool
    after it, more than 64 channels (two words), magnitude_aware_sign in a dense layer,
    a final layer without batch-norm or softmax."""
    m = K.Sequential([
        K.layers.Rescaling(2 / 255.0, offset=-1.0, input_shape=(13, 13, 3)),
        _qconv(16, 3, first=True, strides=2, use_bias=True),
        K.layers.BatchNormalization(center=False),
        lq.quantizers.SteSign(),
        K.layers.MaxPool2D(2, strides=1),
        lq.layers.QuantConv2D(70, 2, kernel_quantizer="ste_sign", use_bias=False),
        K.layers.BatchNormalization(),
        K.layers.Flatten(),
        _qdense(20, kq="magnitude_aware_sign"),
        K.layers.BatchNormalization(),
        _qdense(4, use_bias=True),
    ])
    return m, {}


def fixture_functional():
    """The functional API, a linear graph; a 'same' first conv with pad value equal to the
    pixel-0 value (-1 after the Rescaling)."""
    inp = K.Input((10, 10, 1))
    x = K.layers.Rescaling(1 / 127.5, offset=-1.0)(inp)
    x = _qconv(6, 3, first=True, padding="same", pad_values=-1.0, use_bias=False)(x)
    x = K.layers.BatchNormalization()(x)
    x = _qconv(6, 3, padding="same", pad_values=1.0, strides=2)(x)
    x = K.layers.BatchNormalization()(x)
    x = K.layers.Flatten()(x)
    x = _qdense(3)(x)
    x = K.layers.BatchNormalization()(x)
    out = K.layers.Softmax()(x)
    return K.Model(inp, out), {}


def fixture_ties():
    """Exact ties: raw pixels (Rescaling 1), integer batch-norm means and var + eps = 1, so
    that the value larq takes the sign of is exactly 0 (or -0) for many inputs; larq's
    sign(0) = +1 must match the threshold's ties-go-to-+1. Small pixel values make ties
    common."""
    m = K.Sequential([
        K.layers.Rescaling(1.0, input_shape=(4,)),
        _qdense(6, first=True, use_bias=False),
        K.layers.BatchNormalization(epsilon=0.25),
        _qdense(3, use_bias=False),
        K.layers.BatchNormalization(),
    ])
    return m, {"tie_inputs": True}


FIXTURES = {
    "dense": fixture_dense,
    "conv_same": fixture_conv_same,
    "conv_valid": fixture_conv_valid,
    "functional": fixture_functional,
    "ties": fixture_ties,
}


def sign_points(model):
    """The Keras layers that take a sign of their input: quant layers with an input
    quantizer, and sign quantizers used as layers."""
    out = []
    for layer in model.layers:
        if isinstance(layer, (lq.layers.QuantConv2D, lq.layers.QuantDense)):
            if layer.input_quantizer is not None:
                out.append(layer)
        elif isinstance(layer, lq.quantizers._BaseQuantizer):
            out.append(layer)
    return out


def real_input(model, x, scale, offset):
    """What the model's input layer is fed for uint8 x."""
    if scale is None:
        return x.astype(np.float32)
    return x.astype(np.float32) * np.float32(scale) + np.float32(offset)


def randomise(model, x_real, rng):
    """Set weights: some exact zeros; batch-norm statistics near the real ones, of both
    gamma signs, so that every threshold falls inside the data."""
    for layer in model.layers:
        if isinstance(layer, (lq.layers.QuantConv2D, lq.layers.QuantDense)):
            w = layer.get_weights()
            k = w[0]
            k[rng.random(k.shape) < 0.05] = 0.0
            k[rng.random(k.shape) < 0.05] = -0.0
            w[0] = k
            if len(w) > 1:
                w[1] = rng.normal(0, 0.5, w[1].shape).astype(np.float32)
            layer.set_weights(w)
    for layer in model.layers:
        if not isinstance(layer, K.layers.BatchNormalization):
            continue
        probe = K.Model(model.inputs, layer.input)
        h = probe(x_real, training=False).numpy()
        h = h.reshape(-1, h.shape[-1]).astype(np.float64)
        mean, std = h.mean(axis=0), h.std(axis=0) + 1e-3
        c = h.shape[1]
        values = {
            "gamma": rng.uniform(0.5, 2.0, c) * np.where(rng.random(c) < 0.4, -1, 1),
            "beta": rng.normal(0, 0.3, c),
            "moving_mean": mean + rng.normal(0, 0.3, c) * std,
            "moving_variance": (std * rng.uniform(0.7, 1.5, c)) ** 2,
        }
        layer.set_weights([values[v.name.split("/")[-1].split(":")[0]].astype(np.float32)
                           for v in layer.weights])


def set_tie_statistics(model, x_real):
    """Integer means and var + eps = 1 (exact in float32): value 0 exactly at s = mean."""
    for layer in model.layers:
        if not isinstance(layer, K.layers.BatchNormalization):
            continue
        probe = K.Model(model.inputs, layer.input)
        h = probe(x_real, training=False).numpy()
        c = h.shape[-1]
        mean = np.round(np.median(h.reshape(-1, c), axis=0))
        sign = np.where(np.arange(c) % 2 == 0, 1.0, -1.0)
        values = {"gamma": sign, "beta": np.zeros(c), "moving_mean": mean,
                  "moving_variance": np.full(c, 1.0 - layer.epsilon)}
        layer.set_weights([values[v.name.split("/")[-1].split(":")[0]].astype(np.float32)
                           for v in layer.weights])


def forward(model, x_real):
    """larq's logits (pre-softmax), probabilities and the tensors it takes signs of."""
    last = model.layers[-1]
    is_softmax = (isinstance(last, K.layers.Softmax) or
                  (isinstance(last, K.layers.Activation) and last.get_config()["activation"] == "softmax"))
    logits_t = last.input if is_softmax else model.output
    points = sign_points(model)
    probe = K.Model(model.inputs, [model.output, logits_t] + [p.input for p in points])
    outs = [o.numpy() for o in probe(x_real, training=False)]
    arrays = {"probs": outs[0], "logits": outs[1]}
    for layer, value in zip(points, outs[2:]):
        arrays[f"sign_in:{layer.name}"] = value.astype(np.float32)
    return arrays


def make_fixture(name, out_dir, seed):
    tf.keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    model, opts = FIXTURES[name]()
    shape = tuple(model.input_shape[1:])
    if opts.pop("tie_inputs", False):
        x = rng.integers(0, 3, (FIXTURE_INPUTS,) + shape).astype(np.uint8)
    else:
        x = rng.integers(0, 256, (FIXTURE_INPUTS,) + shape).astype(np.uint8)
    scale, offset = opts.get("input_scale"), opts.get("input_offset", 0.0)
    xr = real_input(model, x, scale, offset)
    model(xr[:1], training=False)
    randomise(model, xr, rng)
    if name == "ties":
        set_tie_statistics(model, xr)
    arrays = forward(model, xr)
    base = os.path.join(out_dir, name)
    model.save(base + ".h5")
    model.save(base + ".keras")
    np.savez_compressed(base + ".npz", x=x, **arrays)
    return opts


def make_fixtures(out_dir, names):
    os.makedirs(out_dir, exist_ok=True)
    manifest = {}
    for i, name in enumerate(names):
        manifest[name] = make_fixture(name, out_dir, seed=1000 + i)
        sizes = {ext: os.path.getsize(os.path.join(out_dir, name + ext)) for ext in (".h5", ".keras", ".npz")}
        print(f"{name}: " + ", ".join(f"{e} {s} B" for e, s in sizes.items()))
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")


# --- training on MNIST (not in CI) -------------------------------------------------------

def load_mnist(directory):
    spec = importlib.util.spec_from_file_location("pybnn_idx", os.path.join(REPO, "pybnn", "idx.py"))
    idx = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(idx)
    return idx.load_split(directory, "train"), idx.load_split(directory, "test")


def mnist_mlp(hidden):
    """The paper's MNIST MLP: 784 - hidden x3 - 10, batch-norm after every layer."""
    layers = [K.layers.Rescaling(1 / 255.0, input_shape=(784,)),
              _qdense(hidden, first=True, use_bias=False), K.layers.BatchNormalization()]
    for _ in range(2):
        layers += [_qdense(hidden, use_bias=False), K.layers.BatchNormalization()]
    layers += [_qdense(10, use_bias=False), K.layers.BatchNormalization(),
               K.layers.Activation("softmax")]
    return K.Sequential(layers)


def mnist_convnet(width):
    """A BinaryNet-style ConvNet: (conv-BN)x2-pool, (conv-BN)x2-pool, dense-BN, dense-BN."""
    w = width
    return K.Sequential([
        K.layers.Rescaling(1 / 255.0, input_shape=(28, 28, 1)),
        _qconv(w, 3, first=True, padding="same", use_bias=False), K.layers.BatchNormalization(),
        _qconv(w, 3, padding="same", use_bias=False), K.layers.MaxPool2D(2),
        K.layers.BatchNormalization(),
        _qconv(2 * w, 3, padding="same", use_bias=False), K.layers.BatchNormalization(),
        _qconv(2 * w, 3, padding="same", use_bias=False), K.layers.MaxPool2D(2),
        K.layers.BatchNormalization(),
        K.layers.Flatten(),
        _qdense(8 * w, use_bias=False), K.layers.BatchNormalization(),
        _qdense(10, use_bias=False), K.layers.BatchNormalization(),
        K.layers.Activation("softmax"),
    ])


def train_one(name, model, train, test, epochs, out_dir):
    (xtr, ytr), (xte, yte) = train, test
    xtr = xtr.reshape((len(xtr),) + model.input_shape[1:]).astype(np.float32)
    xte = xte.reshape((len(xte),) + model.input_shape[1:]).astype(np.float32)
    model.compile(optimizer=K.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(xtr, ytr, batch_size=100, epochs=epochs, verbose=2)
    train_s = time.perf_counter() - start
    start = time.perf_counter()
    probs = model.predict(xte, batch_size=500, verbose=0)
    eval_s = time.perf_counter() - start
    pred = probs.argmax(axis=1)
    wrong = int((pred != yte).sum())
    base = os.path.join(out_dir, name)
    model.save(base + ".h5")
    model.save(base + ".keras")
    np.save(base + ".keras_pred.npy", pred.astype(np.int64))
    report = {"epochs": epochs, "train_seconds": round(train_s, 1),
              "keras_eval_seconds_10000": round(eval_s, 2), "keras_test_errors": wrong,
              "keras_test_error": wrong / len(yte),
              "h5_bytes": os.path.getsize(base + ".h5"), "keras_bytes": os.path.getsize(base + ".keras"),
              "params": int(model.count_params())}
    with open(base + ".json", "w") as f:
        json.dump(report, f, indent=1)
    print(name, json.dumps(report), flush=True)


def train(args):
    os.makedirs(args.out, exist_ok=True)
    tf.keras.utils.set_random_seed(1)
    train_set, test_set = load_mnist(args.data)
    todo = {"mlp": lambda: mnist_mlp(args.hidden), "convnet": lambda: mnist_convnet(args.width)}
    for name in args.models:
        model = todo[name]()
        model.summary()
        train_one(f"mnist_{name}", model, train_set, test_set, args.epochs, args.out)


def save_forward(args):
    """For each trained model in --out: NAME.npz in the fixtures' format on the 10,000 test
    images (x, probs, logits, every tensor larq takes a sign of), so that the CI check
    (tests/larq_compare.py) can run on the trained models too."""
    _, (xte, _) = load_mnist(args.data)
    for name in args.models:
        base = os.path.join(args.out, f"mnist_{name}")
        model = K.models.load_model(base + ".h5")
        x = xte.reshape((len(xte),) + model.input_shape[1:])
        np.savez(base + ".npz", x=x, **forward(model, x.astype(np.float32)))
        print(f"wrote {base}.npz", flush=True)


def compare_lce(args):
    """For each trained model in --out: Keras' float32 logits on the 10,000 test images
    (NAME.keras_logits.npy, to compare with `pybnn run --scores`), the size of Larq Compute
    Engine's flatbuffer for the same model (NAME.tflite) and LCE's batch-1 latency on one
    thread (needs larq-compute-engine, e.g. 0.16.0 with the pins above)."""
    import larq_compute_engine as lce
    from larq_compute_engine.tflite.python.interpreter import Interpreter
    _, (xte, _) = load_mnist(args.data)
    for name in args.models:
        base = os.path.join(args.out, f"mnist_{name}")
        model = K.models.load_model(base + ".h5")
        x = xte.reshape((len(xte),) + model.input_shape[1:]).astype(np.float32)
        logits_model = K.Model(model.inputs, model.layers[-1].input)  # before the softmax
        np.save(base + ".keras_logits.npy", logits_model.predict(x, batch_size=500, verbose=0))
        flatbuffer = lce.convert_keras_model(model)
        with open(base + ".tflite", "wb") as f:
            f.write(flatbuffer)
        interp = Interpreter(flatbuffer, num_threads=1)
        lce_pred = np.concatenate([interp.predict(x[i:i + 1]) for i in range(100)]).argmax(axis=1)
        times = []
        for i in range(50):
            start = time.perf_counter()
            interp.predict(x[i:i + 1])
            times.append(time.perf_counter() - start)
        with open(base + ".json") as f:
            report = json.load(f)
        report.update(tflite_bytes=len(flatbuffer), lce_batch1_ms_median=round(1e3 * float(np.median(times)), 3),
                      lce_agrees_on_first_100=int((lce_pred == np.load(base + ".keras_pred.npy")[:100]).sum()))
        with open(base + ".json", "w") as f:
            json.dump(report, f, indent=1)
        print(name, json.dumps(report), flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=os.path.join(REPO, "tests", "data", "larq"))
    p.add_argument("--only", nargs="*", choices=sorted(FIXTURES), help="fixtures to make")
    p.add_argument("--train", action="store_true", help="train on MNIST instead")
    p.add_argument("--forward", action="store_true",
                   help="after --train: larq's outputs and hidden signs on the test set (NAME.npz)")
    p.add_argument("--lce", action="store_true",
                   help="after --train: Keras logits, LCE flatbuffer size and latency")
    p.add_argument("--data", default="/work/shared/data/mnist", help="MNIST gz IDX files")
    p.add_argument("--models", nargs="*", default=["mlp", "convnet"], choices=["mlp", "convnet"])
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--hidden", type=int, default=4096, help="MLP hidden units")
    p.add_argument("--width", type=int, default=32, help="ConvNet's first conv channels")
    p.add_argument("--threads", type=int, default=0, help="TensorFlow threads (0: its default)")
    args = p.parse_args(argv)
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    if args.train:
        train(args)
    elif args.forward:
        save_forward(args)
    elif args.lce:
        compare_lce(args)
    else:
        make_fixtures(args.out, args.only or list(FIXTURES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
